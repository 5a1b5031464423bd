"""What the daemon itself writes into a mission's log, and reads back to resume one.

The orchestrator (``swarm.missions``) writes nearly all of a mission's
events; the daemon adds three: a cancel (a ``cancel`` ticket that lands
already failed, which no agent claims and the orchestrator treats like any
failed ticket), a refusal at start (MISSION_STARTED and MISSION_FINISHED at
once, so Get, List and Follow see its end like any other's), and an end for
a mission the orchestrator refused to go on with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ledger
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.brain import BrainError, EditRequest
from swarm.brain._rules import validate as validate_request
from swarm.missions import (
    ORCHESTRATOR,
    MissionError,
    MissionOptions,
    MissionOutcome,
    Ticket,
    load_view,
)
from swarm.missions._events import finished_event, planned_event, started_event, ticket_event
from swarm.missions._workspace import manifest_blob

CANCEL_TICKET = "cancel"
REASON_CHARS = 2000  # longest reason a MISSION_FINISHED carries


class MissionRefused(Exception):
    """A mission request the daemon will not act on (``code``: the grpc.StatusCode name)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Starting:
    """A submitted mission whose import runs in its own thread; ``error`` if it failed."""

    folder: Path
    workspace: str
    request: EditRequest
    options: MissionOptions
    trace_id: str = ""
    error: str = ""
    started_us: int = field(default_factory=ledger.wall_clock_us)
    cancel: tuple[str, str] | None = None  # (reason, who) of a cancel that came while starting


def request_of(req: api.SubmitMissionRequest) -> tuple[EditRequest, MissionOptions]:
    """The edit and its options a SubmitMission asks for; INVALID_ARGUMENT if either is wrong."""
    request = EditRequest(req.kind, dict(req.params))
    defaults = MissionOptions()
    try:
        validate_request(request)
        options = MissionOptions(
            coders=req.coders or defaults.coders,
            run_tests=not req.skip_tests,
            step_delay_s=req.step_delay_s,
            backoff_s=0.0,
            allow_unverified=req.allow_unverified,
            test_timeout_s=req.test_timeout_s or defaults.test_timeout_s,
            policies=tuple(req.policies),
        )
    except (MissionError, BrainError) as exc:
        raise MissionRefused("INVALID_ARGUMENT", str(exc)) from None
    return request, options


def unfinished(led: ledger.Ledger, tenant: str, project: str) -> list[str]:
    """The project's missions with a MISSION_STARTED and no MISSION_FINISHED, in start order."""
    started: list[str] = []
    finished: set[str] = set()
    for rec in led.iter_events(tenant, project):
        if rec.kind != "signal":
            continue
        kind = rec.event.signal.kind
        if kind == pb.SIGNAL_KIND_MISSION_STARTED:
            started.append(rec.event.mission_id)
        elif kind == pb.SIGNAL_KIND_MISSION_FINISHED:
            finished.add(rec.event.mission_id)
    return [m for m in started if m not in finished]


def record_cancel(
    led: ledger.Ledger, tenant: str, project: str, mission_id: str, reason: str, who: str
) -> None:
    """Fail the mission by a ``cancel`` ticket; FAILED_PRECONDITION if it already ended."""
    view = load_view(led, tenant, project, mission_id)
    if view.finished is not None:
        raise MissionRefused(
            "FAILED_PRECONDITION",
            f"mission {mission_id} already ended ({view.finished.outcome})",
        )
    # A known kind keeps the scout's plan validation happy; the ticket lands already
    # failed, and agents only claim tickets that are not terminal, so none runs it.
    ticket = Ticket(id=CANCEL_TICKET, kind="critic", inputs={"cancelled_by": who})
    why = f"cancelled by {who}" + (f": {reason}" if reason else "")
    failed = ticket_event(
        mission_id, ticket, pb.TICKET_STATE_FAILED, 1, ORCHESTRATOR, step="cancelled", reason=why
    )
    led.append(tenant, project, [planned_event(mission_id, ticket), failed])


def _finished(mid: str, reason: str) -> pb.SwarmEvent:
    return finished_event(mid, MissionOutcome.FAILED, reason[:REASON_CHARS], files_changed=0)


def record_refusal(
    led: ledger.Ledger, tenant: str, project: str, mid: str, start: Starting
) -> None:
    """MISSION_STARTED and MISSION_FINISHED (failed, with ``start.error``) for a mission whose
    import was refused. Raises a LedgerError if it could not be recorded."""
    if led.find_event(tenant, f"{mid}.started") is not None:
        # Another process started this id meanwhile: that mission is not ours to end.
        raise ledger.AlreadyExists(f"mission {mid}")
    started = started_event(
        mid,
        start.request,
        brain="rules",
        brain_settings={},
        options=start.options,
        manifest=manifest_blob(led, tenant, {}),
        repo="",
        workspace=start.workspace,
        detail=f"{start.request.kind} on {start.workspace} (refused)",
    )
    led.append(tenant, project, [started, _finished(mid, start.error)])


def record_end(led: ledger.Ledger, tenant: str, project: str, mid: str, reason: str) -> None:
    """End a mission the orchestrator refused to go on with: failed, with the reason."""
    led.append(tenant, project, [_finished(mid, reason)])
