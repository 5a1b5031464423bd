"""The orchestrator: start a mission, run (or resume) it with its agents, finish it.

A mission's plan, ticket states and results live only in the ledger, so
``run_mission`` on a mission whose process died picks up where the log stands:
the workspace is reconciled with the ledger's heads, orphaned claims and
coder locks of the dead run are let go, and every step's deterministic event
id makes a step that already landed land once.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import ledger
import replay
from ledger import Ledger, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import Brain, EditRequest, make_brain
from swarm.brain._rules import validate as validate_request
from swarm.missions._critic import critic
from swarm.missions._errors import InvalidMission, UnknownMission
from swarm.missions._events import (
    finished_event,
    path_key,
    planned_event,
    run_event,
    started_event,
    stopping_event,
    ticket_event,
)
from swarm.missions._identity import (
    CRITIC,
    ORCHESTRATOR,
    SCOUT,
    AgentId,
    MissionOutcome,
    Role,
    coder_id,
)
from swarm.missions._loop import Handler, agent_loop, restore
from swarm.missions._options import MissionOptions
from swarm.missions._plan import Plan, Ticket, check_target, validate_plan
from swarm.missions._plan_agent import agent_handlers, check_plan_request
from swarm.missions._records import MissionStart
from swarm.missions._runtime import Progress, Runtime
from swarm.missions._view import STATE_NAMES, MissionView
from swarm.missions._workspace import (
    check_repo,
    import_workspace,
    manifest_blob,
    materialise,
    reconcile,
    scout_cache,
)
from swarm.scout import RepoIndex, Scan
from swarm.telemetry import mission_span

_MISSION_ID = re.compile(r"m[0-9a-f]{6,24}")
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MissionReport:
    """How a mission ended (or stands): outcome, reason, tickets, files, tests, time, and
    the critic's verdict ("accepted", "rejected", "could_not_judge", "unverified",
    "not_tested"; "" when the critic never spoke, e.g. the scout failed)."""

    mission_id: str
    outcome: str  # a MissionOutcome (a daemon's report of a mission may also say "interrupted")
    reason: str
    tickets: dict[str, int]
    files_changed: tuple[str, ...]
    tests: dict[str, Any]
    seconds: float
    events: int
    failed_tickets: dict[str, str] = field(default_factory=dict)
    verdict: str = ""
    verdict_reason: str = ""
    # The model's tokens over every recorded call (ADR 0015); empty when none was made.
    model_usage: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == MissionOutcome.SUCCEEDED

    def to_json(self) -> dict[str, Any]:
        return {
            "mission_id": self.mission_id,
            "outcome": str(self.outcome),
            "reason": self.reason,
            "tickets": self.tickets,
            "files_changed": list(self.files_changed),
            "tests": self.tests,
            "seconds": round(self.seconds, 3),
            "events": self.events,
            "failed_tickets": self.failed_tickets,
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "model_usage": self.model_usage,
        }


class _QueuedWrites:
    """The ledger as one run's agents use it: their writes queue on one lock in this
    process instead of meeting inside the engine.

    On the sqlite engine a write that finds another in progress sleeps in SQLite's busy
    handler (1, 2, 5, 10, 15 ms ...), far longer than the commit it waits for; six
    agent threads writing a few dozen times made that most of a small mission's time.
    A lock hands over at once. Each call is still the ledger's own transaction with
    all of its checks (fencing tokens, hash chain, idempotent ids), and reads and
    watches pass straight through.
    """

    _WRITES = frozenset(
        {"append", "put_blob", "put_blobs", "acquire_lock", "renew_lock", "release_lock"}
    )

    def __init__(self, led: Ledger) -> None:
        self._led = led
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._led, name)
        if name not in self._WRITES:
            return attr

        def queued(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return queued


def new_mission_id() -> str:
    return "m" + uuid.uuid4().hex[:12]


def start_mission(
    led: Ledger,
    tenant: str,
    project: str,
    repo: Path,
    request: EditRequest,
    *,
    brain: str = "rules",
    brain_settings: dict[str, Any] | None = None,
    options: MissionOptions | None = None,
    mission_id: str | None = None,
    progress: Progress | None = None,
    max_files: int | None = None,
    parses: dict[bytes, Scan] | None = None,
) -> str:
    """Record a new mission: import the repo's files, write MISSION_STARTED and the first
    tickets (scout, baseline). Nothing runs yet; :func:`run_mission` does that.

    Refuses (``InvalidMission``, ``BrainError``) before writing anything when the
    request, options, repository or brain settings are wrong, or the repository
    holds more than ``max_files`` tracked files (``TooManyFiles``). ``parses``
    keeps the symbol check's parses for a :func:`run_mission` in this process.
    """
    opts = options or MissionOptions()
    root = check_repo(repo)
    validate_request(request)
    settings = dict(brain_settings or {})
    make_brain(brain, **settings)  # refuse bad settings before anything is written
    check_plan_request(request, brain)
    mid = mission_id or new_mission_id()
    if not _MISSION_ID.fullmatch(mid):
        raise InvalidMission(f"mission id {mid!r} must look like m + 6..24 hex digits")
    check_target(request, root, parses)  # an unknown or ambiguous symbol: refused here
    with contextlib.suppress(ledger.AlreadyExists):
        led.create_tenant(tenant)
    led.create_project(tenant, project, exist_ok=True)
    if led.find_event(tenant, f"{mid}.started") is not None:
        raise InvalidMission(f"mission {mid} already exists; use resume")
    on_import = (lambda d, n: progress("import", d, n)) if progress else None
    files, skipped = import_workspace(led, tenant, project, root, mid, on_import, max_files)
    first = _first_tickets(request, opts)
    validate_plan(Plan(mid, first))
    started = started_event(
        mid,
        request,
        brain=brain,
        brain_settings={k: v for k, v in settings.items() if k != "api_key"},
        options=opts,
        manifest=manifest_blob(led, tenant, files),
        repo=str(root),
        skipped_locked=skipped,
        detail=f"{request.kind} on {root.name}",
    )
    led.append(tenant, project, [started, *(planned_event(mid, t) for t in first)])
    return mid


def _first_tickets(request: EditRequest, opts: MissionOptions) -> tuple[Ticket, Ticket]:
    """The tickets every mission starts with: the scout, and the critic's baseline run."""
    return (
        Ticket(
            id="scout",
            kind="scout",
            inputs=dict(request.params),
            retries=opts.edit_retries,
            backoff_s=opts.backoff_s,
            timeout_s=opts.ticket_timeout_s,
        ),
        Ticket(
            id="baseline", kind="critic", inputs={"suite": "full"}, timeout_s=opts.test_timeout_s
        ),
    )


def run_mission(
    led: Ledger,
    tenant: str,
    project: str,
    mission_id: str,
    *,
    repo: Path | None = None,
    brain: Brain | None = None,
    api_key: str | None = None,
    progress: Progress | None = None,
    on_write: Callable[[str], None] | None = None,
    parses: dict[bytes, Scan] | None = None,
) -> MissionReport:
    """Run a started mission to its end with its agents (or resume one whose process died).

    ``repo`` defaults to the folder recorded at start; ``brain`` to the
    provider recorded at start (``api_key`` is never recorded; pass it again).
    ``on_write`` is called with each path right after the mission writes it.
    ``parses`` (from :func:`start_mission` in this process) spares the brain's index
    the files the symbol check already parsed: the same bytes give the same parse.
    """
    began = time.perf_counter()
    view = load_view(led, tenant, project, mission_id)
    if view.finished is not None:
        return report_of(led, tenant, project, view, time.perf_counter() - began)
    start = view.started
    assert start is not None  # load_view refuses a mission that never started
    root = check_repo(Path(repo) if repo is not None else Path(start.repo))
    brain = brain or _recorded_brain(start, api_key)
    manifest = start.manifest_of(led, tenant)
    run = view.runs + 1
    # The mission's span (its trace's root): the ids its events already carry.
    with mission_span(mission_id, tenant=tenant, project=project, run=run) as span:
        led.append(tenant, project, [run_event(mission_id, run)])
        _release_dead_locks(led, tenant, project, view)
        reconcile(led, tenant, project, root, manifest)
        with tempfile.TemporaryDirectory(prefix="swarm-snapshot-") as snap:
            index = _start_index(led, tenant, manifest, Path(snap), root, parses)
            rt = Runtime(
                cast(Ledger, _QueuedWrites(led)),
                tenant,
                project,
                root,
                mission_id,
                start.request,
                brain,
                start.options,
                index,
                run,
                manifest=manifest,
                on_write=on_write,
            )
            outcome, reason = _run_agents(rt, view, progress)
            finished = _finish(rt, view, outcome, reason)
        span.set_attribute("swarm.outcome", str(outcome))
    _snapshot_at_end(led, tenant, project, mission_id, finished)
    view.catch_up()
    return report_of(led, tenant, project, view, time.perf_counter() - began)


def _recorded_brain(start: MissionStart, api_key: str | None) -> Brain:
    """The provider recorded at start (the api key is never recorded: it is passed again)."""
    settings = dict(start.brain_settings)
    if api_key:
        settings["api_key"] = api_key
    return make_brain(start.brain, **settings)


def _start_index(
    led: Ledger,
    tenant: str,
    manifest: dict[str, str],
    snap: Path,
    root: Path,
    parses: dict[bytes, Scan] | None,
) -> RepoIndex:
    """The scout's index of the files as the mission started, materialised under ``snap``
    (its parse cache in the workspace's ``.swarm``, made through the path guard)."""
    materialise(led, tenant, manifest, snap)
    cache_root, cache_dir = scout_cache(root)
    index = RepoIndex(snap, cache_dir=cache_dir, cache_root=cache_root, parses=parses, lazy=True)
    index.refresh()
    return index


def _run_agents(
    rt: Runtime, view: MissionView, progress: Progress | None
) -> tuple[MissionOutcome, str]:
    """Run the scout, the coders and the critic on their threads until the DAG ends; stop
    them and wait for them. Returns the outcome and its reason."""
    scout_handler, coder_handler = agent_handlers(rt.request)  # a plan mission's are its own
    agents: list[tuple[AgentId, tuple[str, ...], Handler, int]] = [
        (SCOUT, ("scout",), scout_handler, 0)
    ]
    agents += [
        (coder_id(i), ("coder",), coder_handler, (i - 1) * 7919)
        for i in range(1, rt.options.coders + 1)
    ]
    agents.append((CRITIC, ("critic",), critic, 0))
    threads = [
        threading.Thread(target=agent_loop, args=(rt, *agent), daemon=True) for agent in agents
    ]
    for th in threads:
        th.start()
    outcome, reason = _watch(rt, view, progress)
    rt.stop.set()
    rt.led.append(rt.tenant, rt.project, [stopping_event(rt.mission_id, rt.run)])
    for th in threads:
        th.join()
    return outcome, reason


def _finish(rt: Runtime, view: MissionView, outcome: MissionOutcome, reason: str) -> Versionstamp:
    """Cancel what is left of the DAG, roll a failed mission back, and record its end."""
    view.catch_up()
    cancel = [
        ticket_event(
            rt.mission_id,
            tv.ticket,
            pb.TICKET_STATE_CANCELLED,
            tv.attempt,
            ORCHESTRATOR,
            step="cancelled",
            reason=reason or "mission over",
        )
        for tv in view.tickets.values()
        if not tv.terminal
    ]
    if cancel:
        rt.led.append(rt.tenant, rt.project, cancel)
    if outcome == MissionOutcome.FAILED:
        rollback(rt, view)
    view.catch_up()
    changed = _changed_paths(rt.led, rt.tenant, rt.project, rt.manifest)
    end = finished_event(rt.mission_id, outcome, reason, files_changed=len(changed))
    (finished,) = rt.led.append(rt.tenant, rt.project, [end])
    return finished.versionstamp


def _snapshot_at_end(
    led: Ledger, tenant: str, project: str, mission_id: str, finished: Versionstamp
) -> None:
    """Take replay's snapshots up to the mission's end (issue 6: "every N events and at
    mission ends"), so replaying this mission's steps folds from a nearby manifest.

    A snapshot only saves replay time; the mission's record is complete without
    it, so a failure here is logged and the mission's outcome stands. A process
    that dies before this leaves the snapshot to the next mission's end, which
    snapshots every mission end it passes.
    """
    try:
        replay.Replayer(led, tenant, project).take_snapshots(upto=finished)
    except Exception:  # any failure: the mission has already finished on the record
        _log.warning(
            "no replay snapshot at the end of mission %s in %s/%s",
            mission_id,
            tenant,
            project,
            exc_info=True,
        )


def _watch(rt: Runtime, view: MissionView, progress: Progress | None) -> tuple[MissionOutcome, str]:
    """Block on ledger watches until the mission's DAG reaches an end; return (outcome, reason)."""
    while True:
        head = rt.led.head(rt.tenant, rt.project)
        view.catch_up()
        tickets = list(view.tickets.values())
        if progress is not None:
            progress("tickets", sum(1 for t in tickets if t.terminal), len(tickets))
        in_flight = any(
            t.state == pb.TICKET_STATE_CLAIMED and t.claim_run == rt.run for t in tickets
        )
        failed = [t for t in tickets if t.state == pb.TICKET_STATE_FAILED]
        if failed:
            rt.stop.set()  # no new claims; in-flight tickets finish, then we roll back
            if not in_flight:
                first = failed[0]
                return MissionOutcome.FAILED, f"ticket {first.ticket.id} failed: {first.reason}"
        verify = view.tickets.get("verify")
        if verify is not None and verify.state == pb.TICKET_STATE_DONE:
            # The verdict landed before the verify ticket's DONE, so the view has it.
            name = view.verdict_name.replace("_", " ")
            return MissionOutcome.SUCCEEDED, f"every ticket done; {name}: {view.verdict_reason}"
        rt.led.wait_for_append(rt.tenant, rt.project, head, 5.0)


def _release_dead_locks(led: Ledger, tenant: str, project: str, view: MissionView) -> None:
    """Let go of locks held by agents of an earlier run of this mission (its process died).

    One mission runs in a project at a time, so a coder's, critic's or orchestrator's
    lock with a live lease can only be a dead run's.
    """
    if view.runs == 0:
        return
    for lock in led.locks(tenant, project):
        agent = AgentId.parse(lock.holder)
        if agent is not None and agent.role in _LOCKING_ROLES:
            with contextlib.suppress(ledger.LockNotHeld):
                led.release_lock(tenant, project, lock.path, lock.holder, lock.token)


_LOCKING_ROLES = frozenset({Role.CODER, Role.CRITIC, Role.ORCHESTRATOR})


def _changed_paths(led: Ledger, tenant: str, project: str, manifest: dict[str, str]) -> list[str]:
    heads = {f.path: f.sha256.hex() for f in led.files(tenant, project)}
    paths = set(manifest) | set(heads)
    return sorted(p for p in paths if heads.get(p, "") != manifest.get(p, ""))


def rollback(rt: Runtime, view: MissionView) -> list[str]:
    """Put every file the mission changed back to its content at the start (compensating
    StateChanges, then the workspace), so a failed mission leaves the repo as it was."""
    restored = []
    last_change: dict[str, str] = {}
    for c in view.changes:
        last_change[c.path] = c.event_id
    for path in _changed_paths(rt.led, rt.tenant, rt.project, rt.manifest):
        if path not in last_change:
            continue  # not the mission's doing (someone else's change since)
        want = rt.manifest.get(path, "")
        head = rt.led.file_state(rt.tenant, rt.project, path)
        now = head.sha256.hex()[:12] if head else "absent"
        restore(
            rt,
            ORCHESTRATOR,
            path,
            bytes.fromhex(want),
            event_id=f"{rt.mission_id}.rollback.{path_key(path)}.{now}",
            reverts=last_change[path],
            wait_s=0.0,
        )
        restored.append(path)
    return restored


def load_view(led: Ledger, tenant: str, project: str, mission_id: str) -> MissionView:
    """The mission's folded state, or :class:`UnknownMission`."""
    view = MissionView(led, tenant, project, mission_id)
    try:
        view.catch_up()
    except (ledger.UnknownTenant, ledger.UnknownProject):
        raise UnknownMission(mission_id, project) from None
    if view.started is None:
        raise UnknownMission(mission_id, project)
    return view


def report_of(
    led: Ledger, tenant: str, project: str, view: MissionView, seconds: float
) -> MissionReport:
    """The report of a mission as its events stand."""
    assert view.started is not None
    manifest = view.started.manifest_of(led, tenant)
    mission_changes = set(view.changed_paths())
    changed = [p for p in _changed_paths(led, tenant, project, manifest) if p in mission_changes]
    counts = Counter(STATE_NAMES.get(t.state, "?") for t in view.tickets.values())
    if view.finished is not None:
        outcome, reason = view.finished.outcome, view.finished.reason
    else:
        outcome, reason = MissionOutcome.RUNNING, "not finished (resume it)"
    failed = {
        t.ticket.id: t.reason for t in view.tickets.values() if t.state == pb.TICKET_STATE_FAILED
    }
    return MissionReport(
        view.mission_id,
        outcome,
        reason,
        dict(counts),
        tuple(changed),
        _tests_of(view),
        seconds,
        view.events,
        failed,
        view.verdict_name,
        view.verdict_reason,
        model_usage_of(view),
    )


def model_usage_of(view: MissionView) -> dict[str, Any]:
    """The mission's model calls and tokens, summed from its exchange events (a loop's
    ``model.exchange``, a single proposal's ``brain.exchange`` / ``brain.failed-exchange``)."""
    kinds = ("model.exchange", "brain.exchange", "brain.failed-exchange")
    calls = [d.event.decision.attributes for k in kinds for d in view.decision(k)]
    if not calls:
        return {}
    return {
        "calls": len(calls),
        "prompt_tokens": sum(int(a.get("prompt_tokens", "0")) for a in calls),
        "completion_tokens": sum(int(a.get("completion_tokens", "0")) for a in calls),
        "estimated": any(a.get("estimated") == "true" for a in calls),
    }


def _tests_of(view: MissionView) -> dict[str, Any]:
    """The report's test summary: the baseline's counts, the runs after the edits, and
    every verdict the critic gave (a retry's verdict follows the one it replaced)."""
    verify = view.tickets.get("verify")
    baseline = view.tickets.get("baseline")
    tests: dict[str, Any] = {}
    if baseline is not None and "counts" in baseline.result:
        tests["baseline"] = {
            **baseline.result["counts"],
            "complete": baseline.result.get("complete", True),
        }
    if verify is not None and verify.result:
        tests["after"] = verify.result.get("tests")
    verdicts = [d.event.decision for d in view.decision("critic.verdict")]
    if verdicts:
        tests["verdicts"] = [v.outcome for v in verdicts]
    return tests
