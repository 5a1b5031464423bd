"""Audit queries over a project's log, through its indexes where a filter allows."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ledger import Ledger, RecordedEvent, Versionstamp
from ops._errors import BadQuery
from proto.swarm.v1 import events_pb2 as pb
from replay import decision_behind, format_time

KINDS = ("decision", "state_change", "ticket", "signal")
ROLES = {
    name.removeprefix("AGENT_ROLE_").lower(): value
    for name, value in pb.AgentRole.items()
    if value != pb.AGENT_ROLE_UNSPECIFIED
}


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One event, flattened for tables, CSV, JSON lines and Parquet."""

    versionstamp: str
    time: str
    time_us: int
    event_id: str
    kind: str
    role: str
    agent: str
    mission: str
    path: str
    summary: str  # a Decision's rationale, a change's kind, a signal's kind and detail
    parent_event_id: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


COLUMNS = tuple(AuditRow.__dataclass_fields__)


def _name(enum: Any, value: int, prefix: str) -> str:
    """An enum value's short name; a value this build does not know (a newer writer's)
    is shown as its number rather than refused: proto3 enums are open."""
    try:
        return str(enum.Name(value)).removeprefix(prefix).lower()
    except ValueError:
        return str(value)


def row_of(rec: RecordedEvent) -> AuditRow:
    ev = rec.event
    kind = rec.kind
    path = ""
    if kind == "decision":
        summary = ev.decision.rationale
    elif kind == "state_change":
        path = ev.state_change.path
        summary = _name(pb.ChangeKind, ev.state_change.kind, "CHANGE_KIND_")
    elif kind == "signal":
        path = ev.signal.subject
        name = _name(pb.SignalKind, ev.signal.kind, "SIGNAL_KIND_")
        summary = f"{name} {ev.signal.detail}".strip()
    else:
        state = _name(pb.TicketState, ev.ticket.state, "TICKET_STATE_")
        summary = f"ticket {ev.ticket.ticket_id} {state} {ev.ticket.reason}".strip()
    return AuditRow(
        versionstamp=str(rec.versionstamp),
        time=format_time(rec.time_us),
        time_us=rec.time_us,
        event_id=ev.event_id,
        kind=kind,
        role=_name(pb.AgentRole, ev.agent_role, "AGENT_ROLE_"),
        agent=ev.agent_id,
        mission=ev.mission_id,
        path=path,
        summary=summary,
        parent_event_id=ev.parent_event_id,
    )


@dataclass(frozen=True, slots=True)
class Query:
    """Filters, all optional and combined with AND. Times are µs since the epoch, inclusive."""

    agent: str | None = None
    role: str | None = None
    kind: str | None = None
    path: str | None = None
    mission: str | None = None
    since_us: int | None = None
    until_us: int | None = None
    text: str | None = None  # case-insensitive substring of a Decision's rationale
    limit: int | None = None

    def check(self) -> None:
        if self.kind is not None and self.kind not in KINDS:
            raise BadQuery(f"unknown event type {self.kind!r}; use one of: {', '.join(KINDS)}")
        if self.role is not None and self.role not in ROLES:
            raise BadQuery(f"unknown role {self.role!r}; use one of: {', '.join(sorted(ROLES))}")
        if (
            self.since_us is not None
            and self.until_us is not None
            and self.since_us > self.until_us
        ):
            raise BadQuery("the time window ends before it starts (--since is after --until)")
        if self.limit is not None and self.limit < 1:
            raise BadQuery(f"limit must be at least 1, got {self.limit}")


def query(led: Ledger, tenant: str, project: str, q: Query) -> Iterator[AuditRow]:
    """Rows of the events that match ``q``, oldest first.

    A path, agent or mission filter reads that index only; a time window
    starts at the time index, so neither scans the whole log. Other filters
    are applied to what those reads return.
    """
    q.check()
    after: Versionstamp | None = None
    if q.since_us is not None:
        after = led.versionstamp_at(tenant, project, q.since_us - 1)
    role = ROLES[q.role] if q.role is not None else None
    text = q.text.lower() if q.text is not None else None
    emitted = 0
    for rec in _source(led, tenant, project, q, after):
        if q.until_us is not None and rec.time_us > q.until_us:
            return
        if q.since_us is not None and rec.time_us < q.since_us:
            continue
        if q.kind is not None and rec.kind != q.kind:
            continue
        if q.agent is not None and rec.event.agent_id != q.agent:
            continue
        if role is not None and rec.event.agent_role != role:
            continue
        if q.mission is not None and rec.event.mission_id != q.mission:
            continue
        if q.path is not None and _path_of(rec) != q.path:
            continue
        if text is not None and (
            rec.kind != "decision" or text not in rec.event.decision.rationale.lower()
        ):
            continue
        yield row_of(rec)
        emitted += 1
        if q.limit is not None and emitted >= q.limit:
            return


def _path_of(rec: RecordedEvent) -> str:
    if rec.kind == "state_change":
        return rec.event.state_change.path
    if rec.kind == "signal":
        return rec.event.signal.subject
    return ""


def _source(
    led: Ledger, tenant: str, project: str, q: Query, after: Versionstamp | None
) -> Iterator[RecordedEvent]:
    index = (
        {"path": q.path}
        if q.path is not None
        else {"mission": q.mission}
        if q.mission is not None
        else {"agent": q.agent}
        if q.agent is not None
        else None
    )
    if index is None:
        yield from led.iter_events(tenant, project, after=after)
        return
    cursor = after
    while True:
        page = led.history(tenant, project, after=cursor, limit=1000, **index)  # type: ignore[arg-type]
        yield from page
        if len(page) < 1000:
            return
        cursor = page[-1].versionstamp


@dataclass(frozen=True, slots=True)
class ChangeWhy:
    """A StateChange, the Decision that led to it (None when none is recorded), and, for a
    mission's change, the mission's request and the critic's verdict on its changes."""

    change: AuditRow
    decision: AuditRow | None
    request: str = ""  # the mission's request in one line ("" outside a mission)
    verdict: AuditRow | None = None  # the mission's first critic.verdict after a decided change
    verdict_outcome: str = ""  # its outcome: "accept", "reject", "could_not_judge", ...

    def as_dict(self) -> dict[str, object]:
        return {
            "change": self.change.as_dict(),
            "decision": self.decision.as_dict() if self.decision else None,
            "request": self.request,
            "verdict": self.verdict.as_dict() if self.verdict else None,
            "verdict_outcome": self.verdict_outcome,
        }


def who_changed(
    led: Ledger,
    tenant: str,
    project: str,
    path: str,
    *,
    since_us: int | None = None,
    until_us: int | None = None,
) -> list[ChangeWhy]:
    """Every StateChange of ``path`` in the window, each with the Decision behind it and,
    for a mission's change, the mission's request and the critic's verdict."""
    q = Query(path=path, kind="state_change", since_us=since_us, until_us=until_us)
    missions: dict[str, _MissionFacts] = {}
    out: list[ChangeWhy] = []
    for row in query(led, tenant, project, q):
        vs = Versionstamp.parse(row.versionstamp)
        rec = led.get_event(tenant, project, vs)
        why = decision_behind(led, tenant, project, rec)
        decision = row_of(why) if why is not None else None
        if not row.mission:
            out.append(ChangeWhy(row, decision))
            continue
        if row.mission not in missions:
            missions[row.mission] = _mission_facts(led, tenant, project, row.mission)
        facts = missions[row.mission]
        # A change made on a decision (a coder's edit) is what a verdict judges; the import
        # step and compensations, with none behind them, are not.
        later = (v for v in facts.verdicts if v.versionstamp > vs)
        verdict = next(later, None) if decision is not None else None
        out.append(
            ChangeWhy(
                row,
                decision,
                facts.request,
                row_of(verdict) if verdict is not None else None,
                verdict.event.decision.outcome if verdict is not None else "",
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _MissionFacts:
    request: str
    verdicts: list[RecordedEvent]


def _mission_facts(led: Ledger, tenant: str, project: str, mission: str) -> _MissionFacts:
    """A mission's request (from its MISSION_STARTED) and its critic's verdicts, in order."""
    request = ""
    verdicts: list[RecordedEvent] = []
    cursor: Versionstamp | None = None
    while True:
        page = led.history(tenant, project, mission=mission, after=cursor, limit=1000)
        for rec in page:
            ev = rec.event
            if rec.kind == "signal" and ev.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED:
                request = request_line(ev.signal)
            elif rec.kind == "decision" and ev.decision.kind == "critic.verdict":
                verdicts.append(rec)
        if len(page) < 1000:
            return _MissionFacts(request, verdicts)
        cursor = page[-1].versionstamp


def request_line(signal: pb.Signal) -> str:
    """A MISSION_STARTED's request in one line: its kind, then each parameter's first line
    (typed ``MissionStarted``, or the JSON attribute a ledger written before it holds)."""
    if signal.mission.HasField("started"):
        kind, params = (
            signal.mission.started.request.kind,
            dict(signal.mission.started.request.params),
        )
    else:
        try:
            raw = json.loads(signal.attributes.get("request", "{}"))
            kind, params = str(raw.get("kind", "")), dict(raw.get("params", {}))
        except (ValueError, AttributeError):
            return signal.detail
    return format_request(kind, params)


def format_request(kind: str, params: Mapping[str, object]) -> str:
    """A mission's request for people, in one line: its kind and each parameter's first
    line (at most 80 characters of it), e.g. ``rename new=compute_total old=calculate_total``."""
    parts = [kind]
    for key in sorted(params):
        lines = str(params[key]).strip().splitlines() or [""]
        more = len(lines) > 1 or len(lines[0]) > 80
        parts.append(f"{key}={lines[0][:80]}{' ...' if more else ''}")
    return " ".join(parts)
