"""The critic's sandbox runs: copy the tree, run (or reuse) one suite, record it.

Nothing runs twice. Every run is keyed by the digest of the tree copied into
the sandbox (paths and content hashes, so the test selection is part of it);
a later run with the same key reuses the recorded result, and its decision
names the run it reused in ``memory_refs``. After the edits the critic runs
the test files the import graph ties to the changed files, then only the
*other* test files, so no test file runs twice on one tree.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import RecordedEvent
from swarm.missions._events import decision_event
from swarm.missions._identity import CRITIC
from swarm.missions._judgement import judge
from swarm.missions._records import decode_test_run, encode_test_run
from swarm.missions._runtime import Runtime
from swarm.missions._view import MissionView
from swarm.missions._workspace import walk_repo

if TYPE_CHECKING:  # the sandbox (wasmtime) loads when a suite runs, not with every mission
    import sandbox

#: Bump when the way a run is made changes, so results made the old way are not reused.
RUN_KEY_VERSION = "swarm-critic-run/2"

RUN_KINDS = ("critic.baseline", "critic.tests", "coder.tests")  # coder.tests: a loop's rounds

# Statuses after which the runner's report can be trusted to be the whole run.
_FINISHED = ("ok", "exit")  # sandbox.Status values (a StrEnum)


def copy_tree(
    root: Path,
    dest: Path,
    drop: frozenset[str],
    overlay: Mapping[str, bytes | None] | None = None,
) -> str:
    """Copy the workspace's tracked files, except ``drop``, to ``dest``, with ``overlay``'s
    content in place of the workspace's (None: leave the path out); the run key: a digest
    of every copied path and its content hash, in path order."""
    overlay = overlay or {}
    entries: list[str] = []
    paths = set(walk_repo(root)) | {p for p, data in overlay.items() if data is not None}
    for path in sorted(paths):
        if path in drop:
            continue
        data = overlay[path] if path in overlay else (root / path).read_bytes()
        if data is None:
            continue
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        entries.append(f"{path}\0{hashlib.sha256(data).hexdigest()}\n")
    digest = hashlib.sha256(RUN_KEY_VERSION.encode() + b"\n")
    for entry in entries:
        digest.update(entry.encode())
    return digest.hexdigest()


def report_json(report: sandbox.TestReport, key: str, budget_s: float) -> dict[str, Any]:
    """A test report as the critic records it (the evidence blob of its decision)."""
    run = report.run
    complete = report.complete and run.status in _FINISHED
    # The sandbox's ``problem`` says why a report was refused (a forged frame, missing
    # tests) even when the run itself ended ok; the run's detail says why it stopped.
    why = report.problem or run.detail
    detail = why or ("" if complete else f"the runner left no report (run {run.status})")
    return {
        "complete": complete,
        "status": str(run.status),
        "detail": detail,
        "problem": report.problem,
        "runner": report.runner,
        "wall_s": round(run.wall_time, 3),
        "budget_s": budget_s,
        "tree": key,
        "items": [[i.name, str(i.outcome), i.message[:2000]] for i in report.items],
        "counts": {
            "passed": report.passed,
            "failed": report.failed,
            "errors": report.errors,
            "skipped": report.skipped,
            "could_not_run": report.could_not_run,
        },
    }


def _blob_json(rt: Runtime, rec: RecordedEvent) -> dict[str, Any]:
    return decode_test_run(rt.led.get_blob(rt.tenant, rec.event.decision.detail.sha256))


def _earlier_run(view: MissionView, key: str) -> RecordedEvent | None:
    """The mission's sandbox run of the very same tree, if there was one."""
    for rec in view.decisions:
        d = rec.event.decision
        if d.kind in RUN_KINDS and d.attributes.get("tree") == key and not d.memory_refs:
            return rec
    return None


@dataclass(frozen=True, slots=True)
class Suite:
    """One run to make: its event id, decision kind, what it is called, what it leaves out."""

    event_id: str
    kind: str  # "critic.baseline" | "critic.tests"
    stage: str  # "baseline" | "full" | "tied" | "rest"
    drop: frozenset[str]
    budget_s: float
    # Content in place of the workspace's (None leaves a path out): the original test code.
    overlay: Mapping[str, bytes | None] = field(default_factory=dict)


def run_suite(
    rt: Runtime,
    view: MissionView,
    suite: Suite,
    ticket: str,
    baseline: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The result of ``suite``: as recorded (a resumed step), reused from an earlier run of
    the same tree, or from a fresh sandbox run; recorded as a decision either way (its
    outcome judged against ``baseline`` when given)."""
    for rec in view.decisions:
        if rec.event.event_id == suite.event_id:
            return _blob_json(rt, rec)
    reused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="swarm-critic-") as tmp:
        key = copy_tree(rt.root, Path(tmp), suite.drop, suite.overlay)
        earlier = _earlier_run(view, key)
        if earlier is not None:
            data = _blob_json(rt, earlier)
            reused = [earlier.event.event_id]
        else:
            # Explicit limits, whatever the sandbox's defaults: the deadline is the budget,
            # fuel is lifted (it measures instructions, not the time a suite may take).
            import sandbox  # here, not at the top: see the TYPE_CHECKING import

            limits = sandbox.Limits(timeout=suite.budget_s, fuel=None)
            data = report_json(sandbox.run_tests(tmp, limits=limits), key, suite.budget_s)
    _record_run(rt, suite, ticket, data, reused, baseline)
    view.catch_up()  # the next stage looks this run up by its tree
    return data


def _record_run(
    rt: Runtime,
    suite: Suite,
    ticket: str,
    data: dict[str, Any],
    reused: list[str],
    baseline: Mapping[str, Any] | None,
) -> None:
    c = data["counts"]
    what = "all test files" if not suite.drop else f"{len(suite.drop)} test file(s) left out"
    if suite.overlay and suite.kind == "coder.tests":
        what = f"{what}, with a loop round's edit of {len(suite.overlay)} file(s)"
    elif suite.overlay:
        what = f"the original test code, {len(suite.overlay)} file(s), against the new code"
    how = f"reused {reused[0]} (same tree)" if reused else f"ran in {data['wall_s']:.2f}s"
    if not data["complete"]:
        outcome = "incomplete"
    elif baseline is None:
        outcome = "recorded"
    else:
        outcome = "reject" if judge(baseline, [data]).regressions else "pass"
    blob = rt.led.put_blob(rt.tenant, encode_test_run(data))
    attributes = {k: str(v) for k, v in c.items()}
    attributes.update(
        stage=suite.stage,
        tree=data["tree"],
        sandbox_run="false" if reused else "true",
        runner=str(data.get("runner", "")),
        problem=str(data.get("problem", ""))[:2000],
        wall_s=f"{data['wall_s']:.3f}",
        budget_s=f"{suite.budget_s:g}",
    )
    rationale = (
        f"{suite.stage} suite ({what}), {how}: {c['passed']} passed, {c['failed']} failed, "
        f"{c['errors']} errors, {c['could_not_run']} could not run"
        + ("" if data["complete"] else f"; did not complete: {data['detail']}")
    )
    rt.led.append(
        rt.tenant,
        rt.project,
        [
            decision_event(
                rt.mission_id,
                suite.event_id,
                CRITIC,
                suite.kind,
                outcome=outcome,
                rationale=rationale,
                input=ticket,
                attributes=attributes,
                detail=blob,
                memory_refs=reused,
            )
        ],
    )


def baseline_of(rt: Runtime, view: MissionView) -> dict[str, Any] | None:
    """The baseline run's recorded result, None when it has not run (or tests are off)."""
    found = view.decision("critic.baseline")
    return _blob_json(rt, found[-1]) if found else None
