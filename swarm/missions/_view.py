"""The fold that turns a mission's events into its state (the builders are in ``_events``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ledger import Ledger, RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._events import import_prefix
from swarm.missions._plan import Plan, Ticket
from swarm.missions._records import MissionEnd, MissionStart, end_of, payload_of, run_of, start_of

TERMINAL: frozenset[int] = frozenset(
    {pb.TICKET_STATE_DONE, pb.TICKET_STATE_FAILED, pb.TICKET_STATE_CANCELLED}
)
STATE_NAMES: dict[int, str] = {
    pb.TICKET_STATE_PLANNED: "planned",
    pb.TICKET_STATE_READY: "ready",
    pb.TICKET_STATE_CLAIMED: "claimed",
    pb.TICKET_STATE_DONE: "done",
    pb.TICKET_STATE_FAILED: "failed",
    pb.TICKET_STATE_RETRY: "retry",
    pb.TICKET_STATE_CANCELLED: "cancelled",
}
#: A verdict's name in reports and JSON (the ledger keeps the enum; summaries print
#: it with spaces).
VERDICT_NAMES: dict[int, str] = {
    pb.CRITIC_VERDICT_UNSPECIFIED: "",
    pb.CRITIC_VERDICT_ACCEPTED: "accepted",
    pb.CRITIC_VERDICT_REJECTED: "rejected",
    pb.CRITIC_VERDICT_COULD_NOT_JUDGE: "could_not_judge",
    pb.CRITIC_VERDICT_UNVERIFIED: "unverified",
    pb.CRITIC_VERDICT_NOT_TESTED: "not_tested",
}
# How many log events past its cursor a view reads directly before it turns to the index.
_TAIL = 256


@dataclass(slots=True)
class TicketView:
    """What the log says about one ticket."""

    ticket: Ticket
    state: int = pb.TICKET_STATE_PLANNED
    attempt: int = 1
    reason: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    claimed_by: str = ""
    claim_run: int = 0
    history: list[tuple[str, int, str]] = field(default_factory=list)  # (state, attempt, reason)

    @property
    def state_name(self) -> str:
        return STATE_NAMES.get(self.state, "?")

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True, slots=True)
class ChangeView:
    """One StateChange of the mission."""

    event_id: str
    versionstamp: Versionstamp
    agent_id: str
    path: str
    previous: bytes
    new: bytes
    reverts: str
    diff: str


class MissionView:
    """A mission's state, folded from its events; ``catch_up`` reads what landed since."""

    def __init__(self, led: Ledger, tenant: str, project: str, mission_id: str) -> None:
        self.led, self.tenant, self.project, self.mission_id = led, tenant, project, mission_id
        self.cursor: Versionstamp | None = None
        self.started: MissionStart | None = None
        self.finished: MissionEnd | None = None
        self.runs = 0
        self.tickets: dict[str, TicketView] = {}
        self.order: list[str] = []
        self.changes: list[ChangeView] = []
        self.event_ids: set[str] = set()
        self.decisions: list[RecordedEvent] = []
        self.events = 0
        # The critic's last word (a retry's verdict replaces the one before it).
        self.verdict: int = pb.CRITIC_VERDICT_UNSPECIFIED
        self.verdict_reason = ""

    def catch_up(self) -> int:
        """Fold every mission event after the cursor; returns how many were new."""
        fresh = 0
        if self.cursor is not None:
            # An agent catches up after every append: the log's tail since the cursor is
            # a few events, while the mission index's newest folded row (the import's
            # thousand stamps) would be decoded whole each time. One page of the log;
            # a cursor further behind than that goes through the index as before.
            tail = self.led.read(self.tenant, self.project, after=self.cursor, limit=_TAIL)
            for rec in tail:
                if rec.event.mission_id == self.mission_id:
                    self._apply(rec)
                    fresh += 1
            if tail:
                self.cursor = tail[-1].versionstamp
            if len(tail) < _TAIL:
                return fresh
        while True:
            batch = self.led.history(
                self.tenant, self.project, mission=self.mission_id, after=self.cursor, limit=1000
            )
            new = [r for r in batch if self.cursor is None or r.versionstamp > self.cursor]
            for rec in new:
                self._apply(rec)
                self.cursor = rec.versionstamp
            fresh += len(new)
            if len(batch) < 1000:
                return fresh

    def _apply(self, rec: RecordedEvent) -> None:
        ev = rec.event
        self.events += 1
        self.event_ids.add(ev.event_id)
        kind = rec.kind
        if kind == "signal":
            if ev.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED:
                self.started = start_of(ev.signal)
            elif ev.signal.kind == pb.SIGNAL_KIND_MISSION_FINISHED:
                self.finished = end_of(ev.signal)
            elif ev.signal.kind == pb.SIGNAL_KIND_AGENT_STARTED:
                self.runs = max(self.runs, run_of(ev.signal))
        elif kind == "ticket":
            tu = ev.ticket
            payload = payload_of(tu)
            tv = self.tickets.get(tu.ticket_id)
            if tu.state == pb.TICKET_STATE_PLANNED and tv is None:
                tv = TicketView(
                    Ticket(
                        id=tu.ticket_id,
                        kind=tu.agent_kind,
                        inputs=payload.get("inputs", {}),
                        depends_on=tuple(tu.depends_on),
                        retries=int(payload.get("retries", 0)),
                        backoff_s=float(payload.get("backoff_s", 0.2)),
                        timeout_s=float(payload.get("timeout_s", 60.0)),
                    )
                )
                self.tickets[tu.ticket_id] = tv
                self.order.append(tu.ticket_id)
            if tv is None:
                return
            tv.state, tv.attempt, tv.reason = tu.state, tu.attempt, tu.reason
            if tu.state == pb.TICKET_STATE_CLAIMED:
                tv.claimed_by = ev.agent_id
                tv.claim_run = int(payload.get("run", 0))
            elif tu.state == pb.TICKET_STATE_DONE:
                tv.result = payload
            tv.history.append((STATE_NAMES.get(tu.state, "?"), tu.attempt, tu.reason))
        elif kind == "state_change":
            sc = ev.state_change
            self.changes.append(
                ChangeView(
                    ev.event_id,
                    rec.versionstamp,
                    ev.agent_id,
                    sc.path,
                    sc.previous_sha256,
                    sc.new_sha256,
                    sc.reverts_event_id,
                    sc.unified_diff,
                )
            )
        elif kind == "decision":
            self.decisions.append(rec)
            if ev.decision.kind == "critic.verdict":
                self.verdict, self.verdict_reason = ev.decision.verdict, ev.decision.rationale

    # -- questions the agents ask ------------------------------------------------

    def plan(self) -> Plan:
        return Plan(self.mission_id, tuple(self.tickets[t].ticket for t in self.order))

    def ready(self, kinds: Iterable[str], run: int) -> list[TicketView]:
        """Tickets of these kinds whose dependencies are done and that nobody in this run holds."""
        wanted = set(kinds)
        out = []
        for tid in self.order:
            tv = self.tickets[tid]
            if tv.ticket.kind not in wanted or tv.terminal:
                continue
            if tv.state == pb.TICKET_STATE_CLAIMED and tv.claim_run == run:
                continue
            deps = [self.tickets.get(d) for d in tv.ticket.depends_on]
            if all(d is not None and d.state == pb.TICKET_STATE_DONE for d in deps):
                out.append(tv)
        return out

    def changed_paths(self) -> list[str]:
        """The paths the mission's own StateChanges touched (its import step left out),
        sorted; a path changed and then restored is still among them."""
        prefix = import_prefix(self.mission_id)
        return sorted({c.path for c in self.changes if not c.event_id.startswith(prefix)})

    def decision(self, kind: str) -> list[RecordedEvent]:
        return [d for d in self.decisions if d.event.decision.kind == kind]

    @property
    def verdict_name(self) -> str:
        """The critic's verdict as summaries print it ("" before it has spoken)."""
        return VERDICT_NAMES.get(self.verdict, "?")
