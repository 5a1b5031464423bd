"""Missions inside the daemon: each runs on its own thread through ``swarm.missions``.

The orchestrator keeps everything in the ledger, so the daemon keeps almost
nothing: which missions its threads are running. Submit starts a mission and
runs it in the background; get and list fold the mission's events; cancel
records a failed ``cancel`` ticket that no agent ever claims, which the
orchestrator treats like any failed ticket (in-flight work finishes, the
changes are rolled back, the mission ends failed with the reason); at start
the daemon resumes every mission whose log has no end (a crash or SIGTERM).
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import ledger
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.brain import EditRequest
from swarm.daemon._logging import get_logger
from swarm.daemon._metrics import Metrics
from swarm.missions import (
    MissionOptions,
    Ticket,
    load_view,
    new_mission_id,
    run_mission,
    start_mission,
)
from swarm.missions._view import planned_event, ticket_event

CANCEL_TICKET = "cancel"


class MissionRefused(Exception):
    """A mission request the daemon will not act on (mapped to a gRPC status by the service)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code  # the grpc.StatusCode name


@dataclass(frozen=True, slots=True)
class Running:
    tenant: str
    project: str
    mission_id: str
    thread: threading.Thread


class MissionRunner:
    """Start, run, resume, cancel and describe missions; one at a time per project."""

    def __init__(self, led: ledger.Ledger, workspaces: Path | None, metrics: Metrics) -> None:
        self._led = led
        self._workspaces = workspaces.resolve() if workspaces is not None else None
        self._metrics = metrics
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], Running] = {}
        self._accepting = True
        self._log = get_logger()

    # the daemon's lifecycle -------------------------------------------------------------
    def resume_all(self) -> list[str]:
        """Resume every mission whose log has no MISSION_FINISHED (the daemon died or stopped)."""
        resumed = []
        for tenant in self._led.tenants():
            if tenant.startswith("swarm-"):
                continue
            for project in self._led.projects(tenant):
                for mid in self._unfinished(tenant, project):
                    with contextlib.suppress(MissionRefused):
                        self._launch(tenant, project, mid, resume=True)
                        resumed.append(mid)
        return resumed

    def stop(self, grace_s: float) -> list[str]:
        """Take no new missions; give running ones ``grace_s`` to finish. Returns those left
        unfinished: their log has no end, so the next daemon resumes them, and no step
        lands twice (the orchestrator's step ids are deterministic)."""
        with self._lock:
            self._accepting = False
            running = list(self._running.values())
        for r in running:
            r.thread.join(grace_s)
            grace_s = max(0.0, grace_s / 2)
        return [r.mission_id for r in running if r.thread.is_alive()]

    def _ending(self, r: Running) -> bool:
        return self._led.find_event(r.tenant, f"{r.mission_id}.finished") is not None

    def _unfinished(self, tenant: str, project: str) -> list[str]:
        started: list[str] = []
        finished: set[str] = set()
        for rec in self._led.iter_events(tenant, project):
            if rec.kind != "signal":
                continue
            kind = rec.event.signal.kind
            if kind == pb.SIGNAL_KIND_MISSION_STARTED:
                started.append(rec.event.mission_id)
            elif kind == pb.SIGNAL_KIND_MISSION_FINISHED:
                finished.add(rec.event.mission_id)
        return [m for m in started if m not in finished]

    # requests ---------------------------------------------------------------------------
    def submit(self, tenant: str, project: str, req: api.SubmitMissionRequest) -> str:
        if self._workspaces is None:
            raise MissionRefused(
                "FAILED_PRECONDITION", "this daemon was started without --workspaces"
            )
        if not req.workspace:
            raise MissionRefused("INVALID_ARGUMENT", "workspace is required")
        repo = (self._workspaces / req.workspace).resolve()
        if not repo.is_relative_to(self._workspaces) or repo == self._workspaces:
            raise MissionRefused(
                "INVALID_ARGUMENT", f"workspace {req.workspace!r} is outside --workspaces"
            )
        if not repo.is_dir():
            raise MissionRefused("NOT_FOUND", f"no workspace {req.workspace!r} under --workspaces")
        defaults = MissionOptions()
        options = MissionOptions(
            coders=req.coders or defaults.coders,
            run_tests=not req.skip_tests,
            step_delay_s=req.step_delay_s,
            backoff_s=0.0,
            allow_unverified=req.allow_unverified,
            test_timeout_s=req.test_timeout_s or defaults.test_timeout_s,
        )
        mid = req.mission_id or new_mission_id()
        with self._lock:
            if not self._accepting:
                raise MissionRefused("UNAVAILABLE", "the daemon is shutting down")
            busy = self._running.get((tenant, project))
            if busy is not None and busy.thread.is_alive() and self._ending(busy):
                busy.thread.join(5.0)  # its end is in the log; the thread is only logging it
            if busy is not None and busy.thread.is_alive():
                raise MissionRefused(
                    "FAILED_PRECONDITION",
                    f"mission {busy.mission_id} is running in project {project!r}; "
                    "one mission runs in a project at a time",
                )
            start_mission(
                self._led,
                tenant,
                project,
                repo,
                EditRequest(req.kind, dict(req.params)),
                options=options,
                mission_id=mid,
            )
            self._launch_locked(tenant, project, mid)
        self._log.info("mission submitted", tenant=tenant, project=project, mission_id=mid)
        return mid

    def cancel(self, tenant: str, project: str, mission_id: str, reason: str, who: str) -> None:
        view = load_view(self._led, tenant, project, mission_id)
        if view.finished is not None:
            raise MissionRefused(
                "FAILED_PRECONDITION",
                f"mission {mission_id} already ended ({view.finished.get('outcome', '?')})",
            )
        # A known kind keeps the scout's plan validation happy; the ticket lands already
        # failed, and agents only claim tickets that are not terminal, so none runs it.
        ticket = Ticket(id=CANCEL_TICKET, kind="critic", inputs={"cancelled_by": who})
        why = f"cancelled by {who}" + (f": {reason}" if reason else "")
        self._led.append(
            tenant,
            project,
            [
                planned_event(mission_id, ticket),
                ticket_event(
                    mission_id,
                    ticket,
                    pb.TICKET_STATE_FAILED,
                    1,
                    "orchestrator-1",
                    step="cancelled",
                    reason=why,
                ),
            ],
        )
        self._log.info("mission cancelled", tenant=tenant, project=project, mission_id=mission_id)

    def describe(self, tenant: str, project: str, mission_id: str) -> api.Mission:
        view = load_view(self._led, tenant, project, mission_id)
        assert view.started is not None
        request = json.loads(view.started.get("request", "{}"))
        with self._lock:
            r = self._running.get((tenant, project))
            alive = r is not None and r.mission_id == mission_id and r.thread.is_alive()
        if view.finished is not None:
            state = view.finished.get("outcome", "failed")
            reason = view.finished.get("detail", "")
        else:
            state = "running" if alive else "interrupted"
            reason = "" if alive else "no process runs it; a daemon restart resumes it"
        found = self._led.find_event(tenant, f"{mission_id}.started")
        started_us = self._led.get_event(tenant, project, found[1]).time_us if found else 0
        finished_us = 0
        done = self._led.find_event(tenant, f"{mission_id}.finished")
        if done is not None:
            finished_us = self._led.get_event(tenant, project, done[1]).time_us
        changed = sorted(
            {c.path for c in view.changes if not c.event_id.startswith(f"{mission_id}.import.")}
        )
        return api.Mission(
            mission_id=mission_id,
            project=api.ProjectRef(tenant=tenant, project=project),
            kind=str(request.get("kind", "")),
            params={str(k): str(v) for k, v in request.get("params", {}).items()},
            state=state,
            reason=reason,
            tickets=[
                api.Ticket(
                    ticket_id=tv.ticket.id,
                    state=tv.state,  # type: ignore[arg-type]
                    agent_kind=tv.ticket.kind,
                    depends_on=list(tv.ticket.depends_on),
                    attempt=tv.attempt,
                    reason=tv.reason,
                )
                for tv in (view.tickets[t] for t in view.order)
            ],
            started_us=started_us,
            finished_us=finished_us,
            files_changed=changed,
            workspace=Path(view.started.get("repo", "")).name,
            verdict=view.verdict,  # type: ignore[arg-type]
            verdict_reason=view.verdict_reason,
        )

    def list(self, tenant: str, project: str) -> list[api.Mission]:
        ids = []
        for rec in self._led.iter_events(tenant, project):
            if rec.kind == "signal" and rec.event.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED:
                ids.append(rec.event.mission_id)
        return [self.describe(tenant, project, mid) for mid in ids]

    # threads ----------------------------------------------------------------------------
    def _launch(self, tenant: str, project: str, mid: str, *, resume: bool) -> None:
        with self._lock:
            busy = self._running.get((tenant, project))
            if busy is not None and busy.thread.is_alive():
                raise MissionRefused("FAILED_PRECONDITION", f"mission {busy.mission_id} runs")
            self._launch_locked(tenant, project, mid, resume=resume)

    def _launch_locked(self, tenant: str, project: str, mid: str, *, resume: bool = False) -> None:
        thread = threading.Thread(
            target=self._run,
            args=(tenant, project, mid, resume),
            name=f"mission-{mid}",
            daemon=True,
        )
        self._running[(tenant, project)] = Running(tenant, project, mid, thread)
        thread.start()

    def _run(self, tenant: str, project: str, mid: str, resume: bool) -> None:
        log = self._log.bind(tenant=tenant, project=project, mission_id=mid, trace_id=mid)
        log.info("mission resumed" if resume else "mission running")
        try:
            report = run_mission(self._led, tenant, project, mid)
        except Exception as exc:  # the thread must log, not die silently
            log.exception("mission crashed", error=str(exc))
            return
        for state, count in report.tickets.items():
            self._metrics.tickets.labels(state).inc(count)
        log.info(
            "mission ended",
            outcome=report.outcome,
            reason=report.reason,
            files_changed=len(report.files_changed),
            seconds=round(report.seconds, 3),
        )


def mission_error_status(exc: Exception) -> tuple[str, str] | None:
    """The status name and message for a missions-package error, or None."""
    from swarm.brain import BrainError
    from swarm.missions import InvalidMission, InvalidPlan, UnknownMission

    if isinstance(exc, MissionRefused):
        return exc.code, str(exc)
    if isinstance(exc, UnknownMission):
        return "NOT_FOUND", str(exc)
    if isinstance(exc, InvalidMission | InvalidPlan | BrainError):
        return "INVALID_ARGUMENT", str(exc)
    return None
