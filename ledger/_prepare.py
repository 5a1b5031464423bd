"""Events validated and serialised before the transaction that appends them.

A transaction closure may run twice, so everything that need not read the store
(id shape, envelope, payload rules, size) is checked once, here, and the bytes
to store are built once. ``system_event`` builds the events the ledger writes
on its own behalf (project creation, lock grants and releases).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from ledger import _codec as codec
from ledger import _validate as validate
from ledger._errors import InvalidArgument, InvalidEvent, ValueTooLarge
from ledger._ids import new_event_id
from ledger._port import VALUE_LIMIT
from ledger._scope import ProjectScope
from proto.swarm.v1 import events_pb2

RECORD_OVERHEAD = 1 + codec.CHAIN_BYTES + 11  # format byte, chain, time field
LOCK_SIGNALS = frozenset(
    {
        events_pb2.SIGNAL_KIND_LOCK_ACQUIRED,
        events_pb2.SIGNAL_KIND_LOCK_RELEASED,
        events_pb2.SIGNAL_KIND_LOCK_EXPIRED,
    }
)


class Prepared(NamedTuple):
    """An event validated and serialised outside the transaction (which may run twice).

    A NamedTuple rather than a dataclass: one is built per appended event.
    """

    event_id: str
    body: bytes
    requested_us: int
    agent: str
    mission: str
    path: str  # a StateChange's path or a lock Signal's subject; else ""
    change: events_pb2.StateChange | None


# Agents repeat; a valid id is checked once (invalid ones raise and are not cached).
_known_agent = lru_cache(maxsize=4096)(validate.agent_id)
_EVENT_ID_SHAPE = validate.EVENT_ID.fullmatch
_new_prepared = tuple.__new__  # a NamedTuple without its Python-level __new__
_known_path = lru_cache(maxsize=4096)(validate.file_path)


def _check_change(eid: str, change: events_pb2.StateChange) -> str:
    # The rules live in _validate, shared with what sync checks of a replica's events.
    return validate.state_change(eid, change, _known_path)


def _check_envelope(scope: ProjectScope, ev: events_pb2.SwarmEvent) -> str:
    """Refuse an event whose id, owner, payload, agent or time is wrong; its payload kind."""
    eid = ev.event_id
    if _EVENT_ID_SHAPE(eid) is None:  # the common case in one C call; else say why
        try:
            validate.event_id(eid)
        except InvalidArgument as exc:
            raise InvalidEvent(eid, str(exc)) from None
    if ev.tenant and ev.tenant != scope.tenant:
        raise InvalidEvent(eid, f"belongs to tenant {ev.tenant!r}, not {scope.tenant!r}")
    if ev.project and ev.project != scope.project:
        raise InvalidEvent(eid, f"belongs to project {ev.project!r}, not {scope.project!r}")
    kind: str | None = ev.WhichOneof("payload")
    if kind is None:
        raise InvalidEvent(eid, "has no payload (decision, state_change, ticket or signal)")
    if ev.agent_id:
        _known_agent(ev.agent_id)
    if ev.time_us < 0:
        raise InvalidEvent(eid, f"time_us {ev.time_us} is negative")
    return kind


def prepare(scope: ProjectScope, ev: events_pb2.SwarmEvent) -> Prepared:
    """Validate and serialise one event for ``scope``'s log."""
    eid = ev.event_id
    kind = _check_envelope(scope, ev)
    requested = ev.time_us
    if requested:  # rare (replicas): keep one time field in the stored bytes
        copy = events_pb2.SwarmEvent()
        copy.CopyFrom(ev)
        copy.time_us = 0
        ev = copy
    path = ""
    change = None
    if kind == "state_change":
        change = ev.state_change
        path = _check_change(eid, change)
    elif kind == "signal" and ev.signal.kind in LOCK_SIGNALS:
        path = validate.file_path(ev.signal.subject)
    # The envelope names its tenant and project; append the fields the caller
    # left empty to the bytes rather than copying the message.
    body = ev.SerializeToString()
    if not ev.tenant:
        body += scope.names[0]
    if not ev.project:
        body += scope.names[1]
    if len(body) + RECORD_OVERHEAD > VALUE_LIMIT:
        raise ValueTooLarge(
            f"event {eid} (store large content as a blob and reference it)",
            len(body) + RECORD_OVERHEAD,
            VALUE_LIMIT,
        )
    return _new_prepared(Prepared, (eid, body, requested, ev.agent_id, ev.mission_id, path, change))


def system_event(scope: ProjectScope, signal: events_pb2.Signal) -> events_pb2.SwarmEvent:
    """A Signal the ledger itself records in ``scope``'s log."""
    return events_pb2.SwarmEvent(
        event_id=new_event_id(),
        tenant=scope.tenant,
        project=scope.project,
        agent_role=events_pb2.AGENT_ROLE_SYSTEM,
        agent_id="ledger",
        signal=signal,
    )
