"""Missions inside the daemon: each runs on its own thread through ``swarm.missions``.

The orchestrator keeps everything in the ledger, so the daemon keeps almost
nothing: which missions its threads are running. Submit checks the request
and the project's workspace (``_workspaces``: a folder the project owns),
then returns at once: the mission's own thread imports the workspace (which
may be thousands of files) and runs it, so no lock another tenant's call
needs is held while a folder is read; until the import lands the mission
reads "starting" (or "failed" with the reason). Get and list fold the
mission's events; cancel
records a failed ``cancel`` ticket that no agent ever claims, which the
orchestrator treats like any failed ticket (in-flight work finishes, the
changes are rolled back, the mission ends failed with the reason); at start
the daemon resumes every mission whose log has no end (a crash or SIGTERM),
on the folder its project registered on this daemon, never on the ``repo``
an event names: a project with no workspace here (say, one synced from an
edge) is not resumed.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import ledger
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.brain import BrainError, EditRequest
from swarm.brain._rules import validate as validate_request
from swarm.daemon._logging import get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._workspaces import (
    DEFAULT_MAX_FILES,
    WorkspaceRefused,
    Workspaces,
    check_patch_paths,
    shown,
)
from swarm.missions import (
    MissionError,
    MissionOptions,
    Ticket,
    UnknownMission,
    load_view,
    new_mission_id,
    run_mission,
    start_mission,
)
from swarm.missions._view import planned_event, ticket_event

CANCEL_TICKET = "cancel"
_FAILED_STARTS_KEPT = 256
_MISSION_ID = re.compile(
    r"m[0-9a-f]{6,24}"
)  # as start_mission checks it, but before the RPC returns


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


@dataclass
class _Start:
    """A submitted mission whose import runs in its own thread; ``error`` if it failed."""

    folder: Path
    workspace: str
    request: EditRequest
    options: MissionOptions
    error: str = ""
    started_us: int = field(default_factory=ledger.wall_clock_us)
    cancel: tuple[str, str] | None = None  # (reason, who) of a cancel that came while starting


class MissionRunner:
    """Start, run, resume, cancel and describe missions; one at a time per project."""

    def __init__(
        self,
        led: ledger.Ledger,
        workspaces: Path | None,
        metrics: Metrics,
        max_workspace_files: int = DEFAULT_MAX_FILES,
    ) -> None:
        self._led = led
        self.workspaces = Workspaces(led, workspaces, max_workspace_files)
        self._metrics = metrics
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], Running] = {}
        self._starting: dict[tuple[str, str, str], _Start] = {}
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
                unfinished = self._unfinished(tenant, project)
                if not unfinished:
                    continue
                folder = self.workspaces.registered(tenant, project)
                if folder is None:
                    # Its events may come from another host (sync): only the daemon holding
                    # the project's own workspace may act on them.
                    self._log.warning(
                        "mission not resumed: its project has no workspace on this daemon",
                        tenant=tenant,
                        project=project,
                        missions=unfinished,
                    )
                    continue
                for mid in unfinished:
                    try:
                        self._launch(tenant, project, mid, folder)
                    except MissionRefused:
                        continue
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
        """Check the request and the project's workspace, then start the mission's thread;
        returns its id at once (the import runs in that thread, not in the caller's)."""
        params = dict(req.params)
        request = EditRequest(req.kind, params)
        try:
            validate_request(request)
            options = MissionOptions(
                coders=req.coders or MissionOptions().coders,
                run_tests=not req.skip_tests,
                step_delay_s=req.step_delay_s,
                backoff_s=0.0,
                allow_unverified=req.allow_unverified,
                test_timeout_s=req.test_timeout_s or MissionOptions().test_timeout_s,
            )
        except (MissionError, BrainError) as exc:
            raise MissionRefused("INVALID_ARGUMENT", str(exc)) from None
        check_patch_paths(req.kind, params)
        mid = req.mission_id or new_mission_id()
        if not _MISSION_ID.fullmatch(mid):
            raise MissionRefused(
                "INVALID_ARGUMENT", f"mission id {shown(mid)} must look like m + 6..24 hex digits"
            )
        if self._led.find_event(tenant, f"{mid}.started") is not None:
            raise MissionRefused("ALREADY_EXISTS", f"mission {mid} already exists")
        name, folder = self.workspaces.for_mission(tenant, project, req.workspace)
        self.workspaces.count_files(folder)  # walks at most the cap: bounded, and lock-free
        self.workspaces.check_cache(folder)
        start = _Start(folder, name, request, options)
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
            if (tenant, project, mid) in self._starting:
                raise MissionRefused("ALREADY_EXISTS", f"mission {mid} already exists")
            self._starting[(tenant, project, mid)] = start
            self._launch_locked(tenant, project, mid, folder, start)
        self._log.info(
            "mission submitted", tenant=tenant, project=project, mission_id=mid, workspace=name
        )
        return mid

    def cancel(self, tenant: str, project: str, mission_id: str, reason: str, who: str) -> None:
        with self._lock:
            start = self._starting.get((tenant, project, mission_id))
            if start is not None and not start.error:
                # Still importing: its thread records the cancel as soon as the mission exists.
                start.cancel = (reason, who)
                return
        self._cancel(tenant, project, mission_id, reason, who)

    def _cancel(self, tenant: str, project: str, mission_id: str, reason: str, who: str) -> None:
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
        try:
            view = load_view(self._led, tenant, project, mission_id)
        except UnknownMission:
            with self._lock:
                start = self._starting.get((tenant, project, mission_id))
            if start is None:
                raise
            return self._describe_start(tenant, project, mission_id, start)
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
            workspace=view.started.get("workspace") or Path(view.started.get("repo", "")).name,
            verdict=view.verdict,  # type: ignore[arg-type]
            verdict_reason=view.verdict_reason,
        )

    def _describe_start(
        self, tenant: str, project: str, mission_id: str, start: _Start
    ) -> api.Mission:
        """A mission whose thread is still importing its workspace, or whose import failed."""
        return api.Mission(
            mission_id=mission_id,
            project=api.ProjectRef(tenant=tenant, project=project),
            kind=start.request.kind,
            params=dict(start.request.params),
            state="failed" if start.error else "starting",
            reason=start.error
            or ("importing the workspace" + ("; cancel requested" if start.cancel else "")),
            started_us=start.started_us,
            workspace=start.workspace,
        )

    def list(self, tenant: str, project: str) -> list[api.Mission]:
        ids = []
        for rec in self._led.iter_events(tenant, project):
            if rec.kind == "signal" and rec.event.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED:
                ids.append(rec.event.mission_id)
        return [self.describe(tenant, project, mid) for mid in ids]

    # threads ----------------------------------------------------------------------------
    def _launch(self, tenant: str, project: str, mid: str, folder: Path) -> None:
        with self._lock:
            busy = self._running.get((tenant, project))
            if busy is not None and busy.thread.is_alive():
                raise MissionRefused("FAILED_PRECONDITION", f"mission {busy.mission_id} runs")
            self._launch_locked(tenant, project, mid, folder)

    def _launch_locked(
        self, tenant: str, project: str, mid: str, folder: Path, start: _Start | None = None
    ) -> None:
        thread = threading.Thread(
            target=self._run,
            args=(tenant, project, mid, folder, start),
            name=f"mission-{mid}",
            daemon=True,
        )
        self._running[(tenant, project)] = Running(tenant, project, mid, thread)
        thread.start()

    def _start(self, tenant: str, project: str, mid: str, start: _Start) -> bool:
        """Import the workspace and record the mission (in its own thread); False if refused,
        with the refusal recorded as a mission that started and failed at once."""
        try:
            start_mission(
                self._led,
                tenant,
                project,
                start.folder,
                start.request,
                options=start.options,
                mission_id=mid,
                max_files=self.workspaces.max_files,
            )
        except (MissionError, BrainError, ledger.LedgerError, OSError) as exc:
            start.error = f"{type(exc).__name__}: {exc}"
            self._record_refusal(tenant, project, mid, start)
            return False
        with self._lock:
            self._starting.pop((tenant, project, mid), None)
            cancel = start.cancel
        if cancel is not None:
            self._cancel(tenant, project, mid, *cancel)
        return True

    def _record_refusal(self, tenant: str, project: str, mid: str, start: _Start) -> None:
        """MISSION_STARTED and MISSION_FINISHED (failed, with the reason) for a mission whose
        import was refused, so Get, List and Follow see its end like any other's."""
        from swarm.missions._runtime import signal_event
        from swarm.missions._workspace import manifest_blob

        request = {"kind": start.request.kind, "params": dict(start.request.params)}
        try:
            if self._led.find_event(tenant, f"{mid}.started") is not None:
                # Another process started this id meanwhile: that mission is not ours to end.
                raise ledger.AlreadyExists(f"mission {mid}")
            blob = manifest_blob(self._led, tenant, {})
            self._led.append(
                tenant,
                project,
                [
                    signal_event(
                        mid,
                        f"{mid}.started",
                        pb.SIGNAL_KIND_MISSION_STARTED,
                        f"{start.request.kind} on {start.workspace} (refused)",
                        {
                            "request": json.dumps(request),
                            "brain": "rules",
                            "options": start.options.to_json(),
                            "manifest": blob.hex,
                            "workspace": start.workspace,
                        },
                    ),
                    signal_event(
                        mid,
                        f"{mid}.finished",
                        pb.SIGNAL_KIND_MISSION_FINISHED,
                        start.error[:2000],
                        {"outcome": "failed", "files_changed": "0"},
                    ),
                ],
            )
        except ledger.LedgerError:
            with self._lock:  # keep the last few refusals to report, not every one forever
                failed = [k for k, v in self._starting.items() if v.error]
                for key in failed[: max(0, len(failed) - _FAILED_STARTS_KEPT)]:
                    del self._starting[key]
            return
        with self._lock:
            self._starting.pop((tenant, project, mid), None)

    def _record_end(self, tenant: str, project: str, mid: str, reason: str) -> None:
        """End a mission the orchestrator refused to go on with: failed, with the reason."""
        from swarm.missions._runtime import signal_event

        end = signal_event(
            mid,
            f"{mid}.finished",
            pb.SIGNAL_KIND_MISSION_FINISHED,
            reason[:2000],
            {"outcome": "failed", "files_changed": "0"},
        )
        try:
            self._led.append(tenant, project, [end])
        except ledger.LedgerError as exc:
            self._log.warning("mission end not recorded", mission_id=mid, error=str(exc))

    def _run(self, tenant: str, project: str, mid: str, folder: Path, start: _Start | None) -> None:
        log = self._log.bind(tenant=tenant, project=project, mission_id=mid, trace_id=mid)
        if start is not None and not self._start(tenant, project, mid, start):
            log.warning("mission refused at start", error=start.error)
            return
        log.info("mission resumed" if start is None else "mission running")
        try:
            # The folder is the project's registered workspace; the event's "repo" is never read.
            report = run_mission(self._led, tenant, project, mid, repo=folder)
        except MissionError as exc:  # refused mid-way (a path the guard will not touch)
            log.warning("mission refused", error=str(exc))
            self._record_end(tenant, project, mid, f"{type(exc).__name__}: {exc}")
            return
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

    if isinstance(exc, MissionRefused | WorkspaceRefused):
        return exc.code, str(exc)
    if isinstance(exc, UnknownMission):
        return "NOT_FOUND", str(exc)
    if isinstance(exc, InvalidMission | InvalidPlan | BrainError):
        return "INVALID_ARGUMENT", str(exc)
    return None
