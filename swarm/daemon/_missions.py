"""Missions inside the daemon: each runs on its own thread through ``swarm.missions``.

The orchestrator keeps everything in the ledger, so the daemon keeps almost
nothing: which missions its threads are running. Submit checks the request
and the project's workspace (``_workspaces``: a folder the project owns),
then returns at once: the mission's own thread imports the workspace (which
may be thousands of files) and runs it, so no lock another tenant's call
needs is held while a folder is read; until the import lands the mission
reads "starting" (or "failed" with the reason). Get and list fold the
mission's events (``_mission_view``); cancel records a failed ``cancel``
ticket (``_mission_records``), which the orchestrator treats like any failed
ticket (in-flight work finishes, the changes are rolled back, the mission
ends failed with the reason); at start the daemon resumes every mission
whose log has no end (a crash or SIGTERM), on the folder its project
registered on this daemon, never on the ``repo`` an event names: a project
with no workspace here (say, one synced from an edge) is not resumed.

Every line a mission's thread logs, the orchestrator's stdlib warnings
included, carries its tenant, project, mission id and the trace id of the
call that submitted it (the mission id for a resumed one).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

import ledger
from proto.swarm.v1 import service_pb2 as api
from swarm.brain import BrainError
from swarm.client._reads import mission_ids
from swarm.daemon._logging import get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._mission_records import (
    MissionRefused,
    Starting,
    record_cancel,
    record_end,
    record_refusal,
    request_of,
    unfinished,
)
from swarm.daemon._mission_view import describe, describe_start, story
from swarm.daemon._workspaces import DEFAULT_MAX_FILES, Workspaces, check_patch_paths, shown
from swarm.missions import MissionError, UnknownMission, new_mission_id, run_mission, start_mission

__all__ = ["MissionRefused", "MissionRunner"]

_FAILED_STARTS_KEPT = 256
_MODEL_KINDS = ("ask", "fix")  # the kinds a model answers by the coder's loop (ADR 0015)
_MISSION_ID = re.compile(r"m[0-9a-f]{6,24}")  # as start_mission checks it, before the RPC returns


@dataclass(frozen=True, slots=True)
class Running:
    tenant: str
    project: str
    mission_id: str
    thread: threading.Thread


class MissionRunner:
    """Start, run, resume, cancel and describe missions; one at a time per project."""

    def __init__(
        self,
        led: ledger.Ledger,
        workspaces: Path | None,
        metrics: Metrics,
        max_workspace_files: int = DEFAULT_MAX_FILES,
        model: Mapping[str, Any] | None = None,
    ) -> None:
        self._led = led
        # The openai brain's settings (``swarm serve --model-url ...``), the API key
        # included (never recorded): what ask and fix missions run on. None: no model.
        self._model = dict(model) if model else None
        self.workspaces = Workspaces(led, workspaces, max_workspace_files)
        self._metrics = metrics
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str], Running] = {}
        self._starting: dict[tuple[str, str, str], Starting] = {}
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
                resumed.extend(self._resume(tenant, project))
        return resumed

    def _resume(self, tenant: str, project: str) -> list[str]:
        missions = unfinished(self._led, tenant, project)
        if not missions:
            return []
        folder = self.workspaces.registered(tenant, project)
        if folder is None:
            # Its events may come from another host (sync): only the daemon holding
            # the project's own workspace may act on them.
            self._log.warning(
                "mission not resumed: its project has no workspace on this daemon",
                tenant=tenant,
                project=project,
                missions=missions,
            )
            return []
        resumed = []
        for mid in missions:
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

    # requests ---------------------------------------------------------------------------
    def submit(
        self, tenant: str, project: str, req: api.SubmitMissionRequest, *, trace_id: str = ""
    ) -> str:
        """Check the request and the project's workspace, then start the mission's thread;
        returns its id at once (the import runs in that thread, not in the caller's)."""
        request, options = request_of(req)
        check_patch_paths(req.kind, dict(req.params))
        if req.kind in _MODEL_KINDS and self._model is None:
            raise MissionRefused(
                "FAILED_PRECONDITION",
                f"a {req.kind} mission needs a model, and this daemon has none: start it with "
                "swarm serve --model-url URL --model NAME",
            )
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
        start = Starting(folder, name, request, options, trace_id=trace_id)
        with self._lock:
            self._check_free(tenant, project, mid)
            self._starting[(tenant, project, mid)] = start
            self._launch_locked(tenant, project, mid, folder, start)
        self._log.info(
            "mission submitted", tenant=tenant, project=project, mission_id=mid, workspace=name
        )
        return mid

    def _check_free(self, tenant: str, project: str, mid: str) -> None:
        """Refuse a new mission while the daemon stops or another runs in the project (locked)."""
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

    def _ending(self, r: Running) -> bool:
        return self._led.find_event(r.tenant, f"{r.mission_id}.finished") is not None

    def cancel(self, tenant: str, project: str, mission_id: str, reason: str, who: str) -> None:
        with self._lock:
            start = self._starting.get((tenant, project, mission_id))
            if start is not None and not start.error:
                # Still importing: its thread records the cancel as soon as the mission exists.
                start.cancel = (reason, who)
                return
        self._cancel(tenant, project, mission_id, reason, who)

    def _cancel(self, tenant: str, project: str, mission_id: str, reason: str, who: str) -> None:
        record_cancel(self._led, tenant, project, mission_id, reason, who)
        self._log.info("mission cancelled", tenant=tenant, project=project, mission_id=mission_id)

    def describe(self, tenant: str, project: str, mission_id: str) -> api.Mission:
        alive = self._alive(tenant, project, mission_id)
        try:
            return describe(self._led, tenant, project, mission_id, alive=alive)
        except UnknownMission:
            with self._lock:
                start = self._starting.get((tenant, project, mission_id))
            if start is not None:
                return describe_start(tenant, project, mission_id, start)
        # Its import may have landed (and left ``_starting``) since the log was read: read
        # again; UnknownMission now means there is no such mission.
        return describe(self._led, tenant, project, mission_id, alive=alive)

    def list(self, tenant: str, project: str) -> list[api.Mission]:
        return [
            self.describe(tenant, project, mid) for mid in mission_ids(self._led, tenant, project)
        ]

    def story(self, tenant: str, project: str, mission_id: str) -> api.MissionStory:
        """The mission's DAG with its inputs and its events (UnknownMission while it starts)."""
        return story(
            self._led, tenant, project, mission_id, alive=self._alive(tenant, project, mission_id)
        )

    def _alive(self, tenant: str, project: str, mission_id: str) -> bool:
        with self._lock:
            r = self._running.get((tenant, project))
            return r is not None and r.mission_id == mission_id and r.thread.is_alive()

    # threads ----------------------------------------------------------------------------
    def _launch(self, tenant: str, project: str, mid: str, folder: Path) -> None:
        with self._lock:
            busy = self._running.get((tenant, project))
            if busy is not None and busy.thread.is_alive():
                raise MissionRefused("FAILED_PRECONDITION", f"mission {busy.mission_id} runs")
            self._launch_locked(tenant, project, mid, folder)

    def _launch_locked(
        self, tenant: str, project: str, mid: str, folder: Path, start: Starting | None = None
    ) -> None:
        thread = threading.Thread(
            target=self._thread,
            args=(tenant, project, mid, folder, start),
            name=f"mission-{mid}",
            daemon=True,
        )
        self._running[(tenant, project)] = Running(tenant, project, mid, thread)
        thread.start()

    def _start(self, tenant: str, project: str, mid: str, start: Starting) -> bool:
        """Import the workspace and record the mission (in its own thread); False if refused,
        with the refusal recorded as a mission that started and failed at once."""
        try:
            model = start.request.kind in _MODEL_KINDS and self._model is not None
            start_mission(
                self._led,
                tenant,
                project,
                start.folder,
                start.request,
                brain="openai" if model else "rules",
                brain_settings=self._model if model else None,
                options=start.options,
                mission_id=mid,
                max_files=self.workspaces.max_files,
            )
        except (MissionError, BrainError, ledger.LedgerError, OSError) as exc:
            start.error = f"{type(exc).__name__}: {exc}"
            self._refused(tenant, project, mid, start)
            return False
        with self._lock:
            self._starting.pop((tenant, project, mid), None)
            cancel = start.cancel
        if cancel is not None:
            self._cancel(tenant, project, mid, *cancel)
        return True

    def _refused(self, tenant: str, project: str, mid: str, start: Starting) -> None:
        """Record a refused start; if even that fails, keep it (the last few) to report."""
        try:
            record_refusal(self._led, tenant, project, mid, start)
        except ledger.LedgerError:
            with self._lock:  # keep the last few refusals to report, not every one forever
                failed = [k for k, v in self._starting.items() if v.error]
                for key in failed[: max(0, len(failed) - _FAILED_STARTS_KEPT)]:
                    del self._starting[key]
            return
        with self._lock:
            self._starting.pop((tenant, project, mid), None)

    def _thread(
        self, tenant: str, project: str, mid: str, folder: Path, start: Starting | None
    ) -> None:
        """A mission's thread: its log context bound, then start (if new) and run it."""
        structlog.contextvars.bind_contextvars(
            tenant=tenant,
            project=project,
            mission_id=mid,
            trace_id=(start.trace_id if start is not None else "") or mid,
        )
        log = self._log.bind(tenant=tenant, project=project, mission_id=mid)
        if start is not None and not self._start(tenant, project, mid, start):
            log.warning("mission refused at start", error=start.error)
            return
        log.info("mission resumed" if start is None else "mission running")
        try:
            # The folder is the project's registered workspace; the event's "repo" is never read.
            key = (self._model or {}).get("api_key")
            report = run_mission(self._led, tenant, project, mid, repo=folder, api_key=key)
        except MissionError as exc:  # refused mid-way (a path the guard will not touch)
            log.warning("mission refused", error=str(exc))
            self._end(tenant, project, mid, f"{type(exc).__name__}: {exc}")
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

    def _end(self, tenant: str, project: str, mid: str, reason: str) -> None:
        try:
            record_end(self._led, tenant, project, mid, reason)
        except ledger.LedgerError as exc:
            self._log.warning("mission end not recorded", mission_id=mid, error=str(exc))
