"""Event builders for ledger tests."""

from __future__ import annotations

import hashlib
import uuid

from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb


def decision(
    agent: str = "scout-1", mission: str = "", text: str = "looked", eid: str | None = None
) -> pb.SwarmEvent:
    return pb.SwarmEvent(
        event_id=eid or str(uuid.uuid4()),
        agent_id=agent,
        agent_role=pb.AGENT_ROLE_SCOUT,
        mission_id=mission,
        decision=pb.Decision(kind="scout.usages", rationale=text, confidence=0.5),
    )


def change(
    led: Ledger,
    tenant: str,
    path: str,
    content: bytes | None,
    previous: bytes = b"",
    token: bytes = b"",
    agent: str = "coder-1",
    eid: str | None = None,
) -> pb.SwarmEvent:
    """A StateChange of ``path`` to ``content`` (None deletes), its blob stored first."""
    sc = pb.StateChange(path=path, previous_sha256=previous, fencing_token=token)
    if content is None:
        sc.kind = pb.CHANGE_KIND_DELETE
    else:
        ref = led.put_blob(tenant, content)
        sc.new_sha256 = ref.sha256
        sc.new_size = ref.size
        sc.content.sha256 = ref.sha256
        sc.content.size = ref.size
        sc.kind = pb.CHANGE_KIND_MODIFY if previous else pb.CHANGE_KIND_CREATE
    return pb.SwarmEvent(
        event_id=eid or str(uuid.uuid4()),
        agent_id=agent,
        agent_role=pb.AGENT_ROLE_CODER,
        state_change=sc,
    )


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
