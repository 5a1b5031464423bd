"""Conflict records: an edge change that could not land because the hub's file moved on.

A conflict is a Signal of kind ``SIGNAL_KIND_CONFLICT`` written by agent
``sync`` (so the agent index finds every one cheaply). It is recorded on the
hub, where both versions' blobs now live, and the same event (same id) on
the edge, so the laptop's user sees it offline. The edge's whole event is
kept on the hub as a blob (``edge_event_blob``), since its StateChange does
not enter the hub's log. A later Signal of the same kind with
``state=resolved`` and ``resolves=<conflict id>`` closes it.

The facts are a typed ``SyncConflict`` (proto/swarm/v1/records.proto) in the
signal's ``conflict`` field; signals written before it carry them as string
attributes, which :func:`legacy_conflict` still reads.

Three kinds share that record (field ``kind``): ``file`` (the edge
change does not start from the hub's head; subject = the path), ``event_id``
(the hub already holds the event id with other content; the hub's version
stays; subject = the id) and ``refused`` (the hub refused the event by a
named rule and ``--skip-refused`` skipped it; subject = the id; the edge
event is not stored on the hub).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import ledger
from ledger import Ledger, RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import records_pb2 as rpb
from sync._errors import UnreadableConflict

SYNC_AGENT = "sync"
CONFLICT_ID_PREFIX = "sync-conflict-"
RESOLUTION_ID_PREFIX = "resolved-" + CONFLICT_ID_PREFIX
OPEN = "open"
RESOLVED = "resolved"
FILE = "file"
EVENT_ID = "event_id"
REFUSED = "refused"
_REASON_CHARS = 500
_KINDS = {
    FILE: rpb.SYNC_CONFLICT_KIND_FILE,
    EVENT_ID: rpb.SYNC_CONFLICT_KIND_EVENT_ID,
    REFUSED: rpb.SYNC_CONFLICT_KIND_REFUSED,
}
_KIND_NAMES = {v: k for k, v in _KINDS.items()}
_STATES = {OPEN: rpb.SYNC_CONFLICT_STATE_OPEN, RESOLVED: rpb.SYNC_CONFLICT_STATE_RESOLVED}


def conflict_of(event: pb.SwarmEvent) -> rpb.SyncConflict:
    """The typed record a conflict signal carries; older signals (attributes only) are
    read through :func:`legacy_conflict`. ``UnreadableConflict`` when it has no state."""
    sig = event.signal
    record = sig.conflict if sig.HasField("conflict") else legacy_conflict(sig.attributes)
    if record.state == rpb.SYNC_CONFLICT_STATE_UNSPECIFIED:
        raise UnreadableConflict(event.event_id, "it has no state (open or resolved)")
    if record.state == rpb.SYNC_CONFLICT_STATE_OPEN and record.kind not in _KIND_NAMES:
        raise UnreadableConflict(event.event_id, "an open conflict of no known kind")
    return record


def legacy_conflict(attrs: Mapping[str, str]) -> rpb.SyncConflict:
    """The record of a conflict signal written before ``SyncConflict`` (string attributes).

    Facts a legacy signal does not hold stay unset: nothing is defaulted, except
    what the legacy form itself meant by an absence (an open signal without
    ``conflict`` predates the other kinds, so it is a file conflict).
    """
    state = _STATES.get(attrs.get("state", ""), rpb.SYNC_CONFLICT_STATE_UNSPECIFIED)
    kind = attrs.get("conflict")
    if kind is None and state == rpb.SYNC_CONFLICT_STATE_OPEN:
        kind = FILE
    record = rpb.SyncConflict(
        state=state,
        kind=_KINDS.get(kind or "", rpb.SYNC_CONFLICT_KIND_UNSPECIFIED),
        hub=attrs.get("hub", ""),
        edge_event_id=attrs.get("edge_event_id", ""),
        reason=attrs.get("reason", ""),
        resolves=attrs.get("resolves", ""),
        resolved_by=attrs.get("resolved_by", ""),
    )
    for name in ("edge_versionstamp", "hub_versionstamp"):
        with contextlib.suppress(ValueError, ledger.InvalidArgument):  # unset when unreadable
            setattr(record, name, Versionstamp.parse(attrs[name]).raw if attrs.get(name) else b"")
    for name in _HASHES:
        with contextlib.suppress(ValueError):
            setattr(record, name, bytes.fromhex(attrs.get(name, "")))
    return record


_HASHES = (
    "edge_previous_sha256",
    "edge_new_sha256",
    "edge_event_blob",
    "hub_sha256",
    "edge_event_sha256",
    "hub_event_sha256",
)


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """An open or closed conflict, as read back from a ledger (hashes as hex text)."""

    conflict_id: str
    path: str  # the file's path for a file conflict, else the edge event id
    hub: str
    edge_event_id: str
    edge_versionstamp: str
    edge_previous_sha256: str
    edge_new_sha256: str
    edge_event_blob: str
    hub_sha256: str
    hub_versionstamp: str
    recorded_at: Versionstamp
    kind: str = FILE
    reason: str = ""

    @classmethod
    def from_event(cls, rec: RecordedEvent) -> ConflictRecord:
        """The conflict ``rec`` opened; ``UnreadableConflict`` if it is not one."""
        c = conflict_of(rec.event)
        if c.state != rpb.SYNC_CONFLICT_STATE_OPEN:
            raise UnreadableConflict(rec.event.event_id, "it resolves a conflict, opens none")
        return cls(
            conflict_id=rec.event.event_id,
            path=rec.event.signal.subject,
            hub=c.hub,
            edge_event_id=c.edge_event_id,
            edge_versionstamp=c.edge_versionstamp.hex(),
            edge_previous_sha256=c.edge_previous_sha256.hex(),
            edge_new_sha256=c.edge_new_sha256.hex(),
            edge_event_blob=c.edge_event_blob.hex(),
            hub_sha256=c.hub_sha256.hex(),
            hub_versionstamp=c.hub_versionstamp.hex(),
            recorded_at=rec.versionstamp,
            kind=_KIND_NAMES[c.kind],
            reason=c.reason,
        )


def conflict_id(hub: str, tenant: str, project: str, edge_event_id: str, kind: str = FILE) -> str:
    """Deterministic, so a retried or resumed sync records each conflict once."""
    key = f"{hub}\0{tenant}\0{project}\0{edge_event_id}"
    if kind != FILE:  # file conflicts keep the ids they had before the other kinds
        key += f"\0{kind}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return CONFLICT_ID_PREFIX + digest[:40]


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
            conflict=rpb.SyncConflict(
                state=rpb.SYNC_CONFLICT_STATE_OPEN,
                kind=rpb.SYNC_CONFLICT_KIND_FILE,
                hub=hub,
                edge_event_id=edge_rec.event.event_id,
                edge_versionstamp=edge_rec.versionstamp.raw,
                edge_previous_sha256=change.previous_sha256,
                edge_new_sha256=change.new_sha256,
                edge_event_blob=edge_blob,
                hub_sha256=hub_sha256,
                hub_versionstamp=hub_versionstamp.raw if hub_versionstamp else b"",
            ),
        ),
    )


def event_id_conflict_event(
    cid: str,
    hub: str,
    edge_rec: RecordedEvent,
    edge_blob: bytes,
    edge_digest: bytes,
    hub_digest: bytes,
    hub_versionstamp: Versionstamp | None,
    where: str,
) -> pb.SwarmEvent:
    """The hub holds ``edge_rec``'s id with other content (``where``: in which project)."""
    eid = edge_rec.event.event_id
    return _parked(
        cid,
        edge_rec,
        f"edge event {eid} has the id of a different event the hub holds {where}; "
        "the hub's version is kept, the edge's is stored beside it",
        rpb.SyncConflict(
            kind=rpb.SYNC_CONFLICT_KIND_EVENT_ID,
            hub=hub,
            edge_event_blob=edge_blob,
            edge_event_sha256=edge_digest,
            hub_event_sha256=hub_digest,
            hub_versionstamp=hub_versionstamp.raw if hub_versionstamp else b"",
            reason=f"same id, different content ({where})",
        ),
    )


def refusal_event(
    cid: str, hub: str, edge_rec: RecordedEvent, edge_digest: bytes, rule: str
) -> pb.SwarmEvent:
    """The hub refused ``edge_rec`` by ``rule`` and the operator chose to skip it."""
    eid = edge_rec.event.event_id
    reason = rule[:_REASON_CHARS]
    return _parked(
        cid,
        edge_rec,
        f"edge event {eid} refused: {reason}; skipped (swarm sync --skip-refused)",
        rpb.SyncConflict(
            kind=rpb.SYNC_CONFLICT_KIND_REFUSED,
            hub=hub,
            edge_event_sha256=edge_digest,
            reason=reason,
        ),
    )


def _parked(
    cid: str, edge_rec: RecordedEvent, detail: str, record: rpb.SyncConflict
) -> pb.SwarmEvent:
    # Only ids the ledger accepts are copied from the edge event: a refused one
    # may carry anything.
    eid = edge_rec.event.event_id
    ok_id = validate_event_id(eid)
    record.state = rpb.SYNC_CONFLICT_STATE_OPEN
    record.edge_event_id = eid[:200]
    record.edge_versionstamp = edge_rec.versionstamp.raw
    return pb.SwarmEvent(
        event_id=cid,
        mission_id=edge_rec.event.mission_id if ok_id else "",
        parent_event_id=eid if ok_id else "",
        agent_role=pb.AGENT_ROLE_SYSTEM,
        agent_id=SYNC_AGENT,
        signal=pb.Signal(
            kind=pb.SIGNAL_KIND_CONFLICT, subject=eid[:200], detail=detail, conflict=record
        ),
    )


def validate_event_id(value: str) -> bool:
    with contextlib.suppress(ledger.InvalidId):
        return ledger.check_event_id(value) == value
    return False


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
            conflict=rpb.SyncConflict(
                state=rpb.SYNC_CONFLICT_STATE_RESOLVED, resolves=cid, resolved_by=resolved_by
            ),
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
            record = conflict_of(rec.event)
            if record.state == rpb.SYNC_CONFLICT_STATE_RESOLVED:
                closed.add(record.resolves)
            elif rec.event.event_id not in opened:
                opened[rec.event.event_id] = ConflictRecord.from_event(rec)
        if len(page) < 1000:
            break
        after = page[-1].versionstamp
    return [c for cid, c in opened.items() if not (only_open and cid in closed)]
