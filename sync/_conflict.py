"""Conflict records: an edge change that could not land because the hub's file moved on.

A conflict is a Signal of kind ``SIGNAL_KIND_CONFLICT`` written by agent
``sync`` (so the agent index finds every one cheaply). It is recorded on the
hub, where both versions' blobs now live, and the same event (same id) on
the edge, so the laptop's user sees it offline. The edge's whole event is
kept on the hub as a blob (``edge_event_blob``), since its StateChange does
not enter the hub's log. A later Signal of the same kind with
``state=resolved`` and ``resolves=<conflict id>`` closes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ledger import Ledger, RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2 as pb

SYNC_AGENT = "sync"
OPEN = "open"
RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """An open or closed conflict, as read back from a ledger."""

    conflict_id: str
    path: str
    hub: str
    edge_event_id: str
    edge_versionstamp: str
    edge_previous_sha256: str
    edge_new_sha256: str
    edge_event_blob: str
    hub_sha256: str
    hub_versionstamp: str
    recorded_at: Versionstamp

    @classmethod
    def from_event(cls, rec: RecordedEvent) -> ConflictRecord:
        a = rec.event.signal.attributes
        return cls(
            conflict_id=rec.event.event_id,
            path=rec.event.signal.subject,
            hub=a.get("hub", ""),
            edge_event_id=a.get("edge_event_id", ""),
            edge_versionstamp=a.get("edge_versionstamp", ""),
            edge_previous_sha256=a.get("edge_previous_sha256", ""),
            edge_new_sha256=a.get("edge_new_sha256", ""),
            edge_event_blob=a.get("edge_event_blob", ""),
            hub_sha256=a.get("hub_sha256", ""),
            hub_versionstamp=a.get("hub_versionstamp", ""),
            recorded_at=rec.versionstamp,
        )


def conflict_id(hub: str, tenant: str, project: str, edge_event_id: str) -> str:
    """Deterministic, so a retried or resumed sync records each conflict once."""
    digest = hashlib.sha256(f"{hub}\0{tenant}\0{project}\0{edge_event_id}".encode()).hexdigest()
    return "sync-conflict-" + digest[:40]


def conflict_event(
    cid: str,
    hub: str,
    edge_rec: RecordedEvent,
    edge_blob: bytes,
    hub_sha256: bytes,
    hub_versionstamp: Versionstamp | None,
) -> pb.SwarmEvent:
    change = edge_rec.event.state_change
    return pb.SwarmEvent(
        event_id=cid,
        mission_id=edge_rec.event.mission_id,
        trace_id=edge_rec.event.trace_id,
        parent_event_id=edge_rec.event.event_id,
        agent_role=pb.AGENT_ROLE_SYSTEM,
        agent_id=SYNC_AGENT,
        signal=pb.Signal(
            kind=pb.SIGNAL_KIND_CONFLICT,
            subject=change.path,
            detail=(
                f"edge change {edge_rec.event.event_id} to {change.path} starts from "
                f"{change.previous_sha256.hex()[:12] or 'absent'}, but the hub's head is "
                f"{hub_sha256.hex()[:12] or 'absent'}; not shipped over it"
            ),
            attributes={
                "state": OPEN,
                "hub": hub,
                "edge_event_id": edge_rec.event.event_id,
                "edge_versionstamp": str(edge_rec.versionstamp),
                "edge_previous_sha256": change.previous_sha256.hex(),
                "edge_new_sha256": change.new_sha256.hex(),
                "edge_event_blob": edge_blob.hex(),
                "hub_sha256": hub_sha256.hex(),
                "hub_versionstamp": str(hub_versionstamp) if hub_versionstamp else "",
            },
        ),
    )


def resolution_event(
    event_id: str, cid: str, path: str, resolved_by: str, note: str
) -> pb.SwarmEvent:
    return pb.SwarmEvent(
        event_id=event_id,
        parent_event_id=cid,
        agent_role=pb.AGENT_ROLE_SYSTEM,
        agent_id=SYNC_AGENT,
        signal=pb.Signal(
            kind=pb.SIGNAL_KIND_CONFLICT,
            subject=path,
            detail=note,
            attributes={"state": RESOLVED, "resolves": cid, "resolved_by": resolved_by},
        ),
    )


def conflicts(
    led: Ledger, tenant: str, project: str, *, only_open: bool = True
) -> list[ConflictRecord]:
    """Conflicts recorded in ``led``'s project (open ones only by default), oldest first."""
    opened: dict[str, ConflictRecord] = {}
    closed: set[str] = set()
    after: Versionstamp | None = None
    while True:
        page = led.history(tenant, project, agent=SYNC_AGENT, after=after, limit=1000)
        for rec in page:
            if rec.kind != "signal" or rec.event.signal.kind != pb.SIGNAL_KIND_CONFLICT:
                continue
            attrs = rec.event.signal.attributes
            if attrs.get("state") == RESOLVED:
                closed.add(attrs.get("resolves", ""))
            elif rec.event.event_id not in opened:
                opened[rec.event.event_id] = ConflictRecord.from_event(rec)
        if len(page) < 1000:
            break
        after = page[-1].versionstamp
    return [c for cid, c in opened.items() if not (only_open and cid in closed)]
