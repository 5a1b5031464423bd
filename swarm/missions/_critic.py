"""The critic: judge a mission's changes by the project's own tests in the sandbox.

Its verdict is a ``CriticVerdict``, the typed ``verdict`` field of a
``critic.verdict`` Decision:

- ACCEPTED only when the baseline and every run after the edits completed and
  no test that passed before fails now;
- REJECTED when a completed run shows regressions (the edits are compensated);
- COULD_NOT_JUDGE when a run did not complete (its deadline, fuel, memory, a
  crash, no report) or the baseline ran no test at all: the mission fails;
- UNVERIFIED instead of COULD_NOT_JUDGE when the mission allows it
  (``allow_unverified``): it finishes, marked so;
- NOT_TESTED when the mission runs without tests.

A change does not judge itself: when the edits change test code (tests, conftest,
pytest configuration, ...: :func:`swarm.missions._testcode.classify_test_code`), the
original test code also runs against the new code, and only its passing accepts,
except for a rename whose test edits are its word substitutions only
(:func:`classify_edits`; the rule and the files are the verdict's typed ``test_code``).

Budgets: the baseline runs under the mission's ``test_timeout_s``; later runs
under :func:`run_budget` of the baseline's wall time. Fuel is lifted: the
wall-clock deadline (epoch interruption) is what stops runaway code.

Nothing runs twice. Every run is keyed by the digest of the tree copied into
the sandbox (paths and content hashes, so the test selection is part of it);
a later run with the same key reuses the recorded result, and its decision
names the run it reused in ``memory_refs``. After the edits the critic runs
the test files the import graph ties to the changed files, then only the
*other* test files, so no test file runs twice on one tree.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import RecordedEvent
from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._agents import finish, revert
from swarm.missions._runtime import Runtime
from swarm.missions._testcode import classify_test_code, owning_test_file, renames_only
from swarm.missions._view import MissionView, TicketView, decision_event, step_id
from swarm.missions._workspace import walk_repo
from swarm.scout import is_test_file

if TYPE_CHECKING:  # the sandbox (wasmtime) loads when a suite runs, not with every mission
    import sandbox

#: Bump when the way a run is made changes, so results made the old way are not reused.
RUN_KEY_VERSION = "swarm-critic-run/2"
RUN_KINDS = ("critic.baseline", "critic.tests")
# Statuses after which the runner's report can be trusted to be the whole run.
_FINISHED = ("ok", "exit")  # sandbox.Status values (a StrEnum)
# Below this baseline wall time one full run after the edits beats tied-then-rest: each
# run pays the interpreter's start-up (~0.3-0.5 s here) and an early rejection saves
# little. The choice reads the recorded baseline, so a resumed mission makes the same one.
TIED_FIRST_MIN_S = 10.0
_HINT = "raise --test-timeout, or pass --allow-unverified to finish untested, or --no-tests"


def run_budget(baseline_wall_s: float, limit_s: float) -> float:
    """The deadline of a run after the edits: room for a slower run than the baseline
    (3x, and at least 30 s more), never past the user's limit."""
    return min(limit_s, max(3.0 * baseline_wall_s, baseline_wall_s + 30.0))


def collected(path: str) -> bool:
    """Whether ``path`` is a test file the sandbox's runners collect (helper modules under
    ``tests/`` are not: they stay in every run, since collected files import them)."""
    name = path.rsplit("/", 1)[-1]
    return is_test_file(path) and (name.startswith("test") or name.endswith("_test.py"))


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


def not_judgeable(data: Mapping[str, Any], what: str) -> str:
    """Why the run ``data`` cannot support a verdict, or "" (naming the runner, if known)."""
    if not data.get("complete"):
        runner = f" (runner: {data['runner']})" if data.get("runner") else ""
        why = data.get("detail") or "no report"
        return f"the {what} test run did not complete: {why}{runner}"
    return ""


def baseline_not_judgeable(data: Mapping[str, Any]) -> str:
    """Why the baseline cannot be judged against, or "": it did not complete, or not one
    test ran in it (every one skipped or out of the sandbox's reach)."""
    why = not_judgeable(data, "baseline")
    if why:
        return why
    c = data.get("counts", {})
    if not c.get("passed", 0) + c.get("failed", 0) + c.get("errors", 0):
        return (
            "the baseline ran no test in the sandbox "
            f"({c.get('skipped', 0)} skipped, {c.get('could_not_run', 0)} could not run)"
        )
    return ""


@dataclass(frozen=True, slots=True)
class Judgement:
    """The runs after the edits, held against the baseline."""

    incomplete: str = ""  # why a run cannot be judged; "" when every run completed
    regressions: tuple[str, ...] = ()
    regression_names: tuple[str, ...] = ()  # the tests behind ``regressions``, in order
    pre_existing_failure_names: tuple[str, ...] = ()
    could_not_run_names: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)  # summed over the runs


_BAD = frozenset({"failed", "error"})


def judge(baseline: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> Judgement:
    """Regressions in ``runs`` against ``baseline``: a test failing (or no longer able to
    run) now that passed or was absent before. A test failing now that failed before is a
    pre-existing failure, reported and not counted."""
    before = {n: o for n, o, _ in baseline.get("items", [])}
    incomplete = ""
    regressions: list[str] = []
    names: list[str] = []
    pre: list[str] = []
    cannot: list[str] = []
    counts: dict[str, int] = {}
    for run in runs:
        incomplete = incomplete or not_judgeable(run, "after-edit")
        for k, v in run.get("counts", {}).items():
            counts[k] = counts.get(k, 0) + int(v)
        for name, outcome, message in run.get("items", []):
            last = message.strip().splitlines()[-1] if message.strip() else ""
            if outcome in _BAD and before.get(name) in _BAD:
                pre.append(name)
            elif outcome in _BAD:
                regressions.append(f"{name}: {outcome}: {last}")
                names.append(name)
            elif outcome == "could_not_run":
                cannot.append(name)
                if before.get(name) == "passed":
                    regressions.append(f"{name}: passed before, could not run now: {last}")
                    names.append(name)
    return Judgement(
        incomplete, tuple(regressions), tuple(names), tuple(pre), tuple(cannot), counts
    )


def retry_is_futile(rt: Runtime) -> str:
    """Why sending rejected edits back to the coders would make the very same edits, or ""
    when a retry could differ. Today every brain's edit is fixed by its inputs: the one
    seam to change when a brain learns from the critic's failure."""
    if rt.request.kind == "patch":
        return "a patch is fixed text, a retry would apply the same diff"
    if not rt.uses_model():
        return f"the {rt.brain.name} brain's codemod is deterministic, a retry makes the same edits"
    return "the model's proposal is recorded and replayed, a retry makes the same edits"


# -- running (or reusing) one suite ----------------------------------------------------


def _blob_json(rt: Runtime, rec: RecordedEvent) -> dict[str, Any]:
    return dict(json.loads(rt.led.get_blob(rt.tenant, rec.event.decision.detail.sha256)))


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
    if suite.overlay:
        what = f"the original test code, {len(suite.overlay)} file(s), against the new code"
    how = f"reused {reused[0]} (same tree)" if reused else f"ran in {data['wall_s']:.2f}s"
    if not data["complete"]:
        outcome = "incomplete"
    elif baseline is None:
        outcome = "recorded"
    else:
        outcome = "reject" if judge(baseline, [data]).regressions else "pass"
    blob = rt.led.put_blob(rt.tenant, json.dumps(data, sort_keys=True).encode())
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
                "critic-1",
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


# -- the critic's tickets ------------------------------------------------------------


def critic(rt: Runtime, view: MissionView, tv: TicketView, agent_id: str) -> None:
    """The critic's handler: the ``baseline`` ticket, or the ``verify`` ticket."""
    if tv.ticket.id == "baseline":
        critic_baseline(rt, view, tv, agent_id)
    else:
        critic_verify(rt, view, tv, agent_id)


def _verdict(
    rt: Runtime,
    ticket: str,
    attempt: int,
    agent_id: str,
    verdict: int,
    rationale: str,
    attributes: Mapping[str, str] | None = None,
    paths: Sequence[str] = (),
    check: pb.TestCodeCheck | None = None,
) -> None:
    outcomes: dict[int, str] = {
        pb.CRITIC_VERDICT_ACCEPTED: "accept",
        pb.CRITIC_VERDICT_REJECTED: "reject",
        pb.CRITIC_VERDICT_COULD_NOT_JUDGE: "could_not_judge",
        pb.CRITIC_VERDICT_UNVERIFIED: "unverified",
        pb.CRITIC_VERDICT_NOT_TESTED: "not_tested",
    }
    ev = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, ticket, attempt, "verdict"),
        agent_id,
        "critic.verdict",
        outcome=outcomes[verdict],
        input=", ".join(paths)[:4000],
        rationale=rationale,
        attributes={"files": str(len(paths)), **(attributes or {})},
        verdict=verdict,
    )
    if check is not None:
        ev.decision.test_code.CopyFrom(check)
    rt.led.append(rt.tenant, rt.project, [ev])


def baseline_of(rt: Runtime, view: MissionView) -> dict[str, Any] | None:
    """The baseline run's recorded result, None when it has not run (or tests are off)."""
    found = view.decision("critic.baseline")
    return _blob_json(rt, found[-1]) if found else None


def critic_baseline(rt: Runtime, view: MissionView, tv: TicketView, agent_id: str) -> None:
    """Run the whole suite before any edit, under the user's deadline. A baseline that
    cannot be judged against fails the mission before anything changes, unless the
    mission allows finishing unverified."""
    if not rt.options.run_tests:
        finish(rt, tv, agent_id, pb.TICKET_STATE_DONE, payload={"skipped": True})
        return
    suite = Suite(
        f"{rt.mission_id}.baseline",
        "critic.baseline",
        "baseline",
        frozenset(),
        rt.options.test_timeout_s,
    )
    data = run_suite(rt, view, suite, tv.ticket.id)
    why = baseline_not_judgeable(data)
    if why and not rt.options.allow_unverified:
        _verdict(rt, tv.ticket.id, tv.attempt, agent_id, pb.CRITIC_VERDICT_COULD_NOT_JUDGE, why)
        reason = f"could not judge: {why}; nothing was changed ({_HINT})"
        finish(rt, tv, agent_id, pb.TICKET_STATE_FAILED, reason=reason)
        return
    payload = {
        "counts": data["counts"],
        "complete": data["complete"],
        "wall_s": data["wall_s"],
        "judgeable": not why,
    }
    finish(rt, tv, agent_id, pb.TICKET_STATE_DONE, payload=payload)


def stages(
    rt: Runtime, paths: Sequence[str], baseline_wall_s: float
) -> list[tuple[str, frozenset[str]]]:
    """The runs after the edits, as (stage, test files left out): the test files the
    import graph ties to ``paths`` first (the likeliest to break, so a rejection comes
    early), then only the others. One "full" run when the tie is empty or covers all, or
    when the whole suite is quick (:data:`TIED_FIRST_MIN_S`)."""
    if baseline_wall_s < TIED_FIRST_MIN_S:
        return [("full", frozenset())]
    tests = {p for p in walk_repo(rt.root) if collected(p)}
    with rt.index_lock:
        tied = rt.index.tests_for([p for p in paths if p in rt.index.files()])
    tied &= tests
    if not tied or tied == tests:
        return [("full", frozenset())]
    return [("tied", frozenset(tests - tied)), ("rest", frozenset(tied))]


def _edits(view: MissionView, tv: TicketView) -> list[TicketView]:
    return [view.tickets[d] for d in tv.ticket.depends_on if view.tickets[d].ticket.kind == "coder"]


def critic_verify(rt: Runtime, view: MissionView, tv: TicketView, agent_id: str) -> None:
    """Judge every edit of the round at once (a rename is only consistent as a whole).

    When the edits change test code, the original test code also runs against the new
    code and has the last word (:func:`classify_edits`, ADR 0007)."""
    a = tv.attempt
    view.catch_up()
    changed = [e for e in _edits(view, tv) if e.result.get("changed")]
    paths = sorted(str(e.result["path"]) for e in changed)
    if not rt.options.run_tests:
        why = "the tests were not run (--no-tests); every change parses"
        _verdict(rt, "verify", a, agent_id, pb.CRITIC_VERDICT_NOT_TESTED, why, paths=paths)
        finish(rt, tv, agent_id, pb.TICKET_STATE_DONE, payload={"files": paths, "tests": "skipped"})
        return
    baseline = baseline_of(rt, view) or {}
    why = baseline_not_judgeable(baseline)
    if why:  # allowed through by allow_unverified (the baseline ticket fails otherwise)
        _unverified(rt, tv, agent_id, paths, why, {})
        return
    edits = classify_edits(rt, paths)
    verdict = Verdict(rt, view, tv, agent_id, paths, edits.check())
    own = Judgement()
    if edits.rule == pb.TEST_CODE_RULE_ORIGINAL_TESTS:
        own = _original_tests(rt, view, tv, baseline, edits, verdict.check)
        foreign = edits.foreign(own)
        if own.incomplete:
            verdict.cannot_judge(own.incomplete, {}, _HINT)
            return
        if foreign:
            verdict.reject(foreign, {"stages": "original"})
            return
    j, final = _after_runs(rt, view, tv, paths, baseline)
    final["test_code"] = edits.summary(own)
    attributes = {
        "stages": ",".join(final["stages"]),
        "could_not_run": str(len(j.could_not_run_names)),
        "pre_existing_failures": str(len(j.pre_existing_failure_names)),
        "test_code_files": str(len(edits.files)),
    }
    _conclude(verdict, edits, own, j, final, attributes)


def _conclude(
    verdict: Verdict,
    edits: TestCodeEdits,
    own: Judgement,
    j: Judgement,
    final: dict[str, Any],
    attributes: dict[str, str],
) -> None:
    """The verdict from the after-runs ``j`` and, when test code changed, the original
    tests' run ``own``: only both passing accepts."""
    if j.regressions:
        verdict.reject(list(j.regressions), attributes)
    elif j.incomplete:
        verdict.cannot_judge(j.incomplete, final, _HINT, attributes)
    elif own.regressions:
        failing = ", ".join(own.regression_names[:5])
        why = (
            f"{EDITS_ITS_JUDGE} ({len(edits.files)} test-code file(s)): "
            f"{len(own.regressions)} original test(s) fail against the new code ({failing}); "
            "the edited tests pass, but they cannot vouch for the change"
        )
        verdict.cannot_judge(why, final, _KEEP_HINT, attributes)
    else:
        c = j.counts
        why = (
            f"no regressions against the baseline: {c.get('passed', 0)} passed, "
            f"{c.get('failed', 0)} failed, {c.get('errors', 0)} errors, "
            f"{c.get('could_not_run', 0)} could not run"
        )
        if j.pre_existing_failure_names:
            why += f" ({len(j.pre_existing_failure_names)} failing before too)"
        verdict.say(pb.CRITIC_VERDICT_ACCEPTED, why + edits.note(), attributes)
        payload = {"files": verdict.paths, "tests": final}
        finish(verdict.rt, verdict.tv, verdict.agent_id, pb.TICKET_STATE_DONE, payload=payload)


def _after_runs(
    rt: Runtime,
    view: MissionView,
    tv: TicketView,
    paths: list[str],
    baseline: Mapping[str, Any],
) -> tuple[Judgement, dict[str, Any]]:
    """Run the stages after the edits under the budget the baseline earned, stopping at
    the first regression or incomplete run; the judgement and the ticket's test summary."""
    wall = float(baseline.get("wall_s", 0.0))
    budget = run_budget(wall, rt.options.test_timeout_s)
    runs: list[dict[str, Any]] = []
    done: list[str] = []
    j = Judgement()
    for stage, drop in stages(rt, paths, wall):
        eid = step_id(rt.mission_id, "verify", tv.attempt, f"tests.{stage}")
        suite = Suite(eid, "critic.tests", stage, drop, budget)
        runs.append(run_suite(rt, view, suite, tv.ticket.id, baseline))
        done.append(stage)
        j = judge(baseline, runs)
        if j.regressions or j.incomplete:
            break
    final = {
        "stages": done,
        "counts": j.counts,
        "could_not_run_names": list(j.could_not_run_names),
        "pre_existing_failure_names": list(j.pre_existing_failure_names),
        "budget_s": budget,
    }
    return j, final


def _unverified(
    rt: Runtime,
    tv: TicketView,
    agent_id: str,
    paths: list[str],
    why: str,
    final: dict[str, Any],
    check: pb.TestCodeCheck | None = None,
) -> None:
    rationale = f"the tests could not judge the changes: {why}; finished untested as allowed"
    verdict = pb.CRITIC_VERDICT_UNVERIFIED
    _verdict(rt, "verify", tv.attempt, agent_id, verdict, rationale, paths=paths, check=check)
    tests = {**final, "unverified": why}
    finish(rt, tv, agent_id, pb.TICKET_STATE_DONE, payload={"files": paths, "tests": tests})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the verify ticket can end with, for one round's edits and its test-code check."""

    rt: Runtime
    view: MissionView
    tv: TicketView
    agent_id: str
    paths: list[str]
    check: pb.TestCodeCheck

    def say(self, verdict: int, why: str, attributes: Mapping[str, str]) -> None:
        """Record the verdict decision (the caller finishes the ticket)."""
        rt, tv = self.rt, self.tv
        _verdict(
            rt,
            "verify",
            tv.attempt,
            self.agent_id,
            verdict,
            why,
            attributes,
            self.paths,
            self.check,
        )

    def cannot_judge(
        self,
        why: str,
        final: dict[str, Any],
        hint: str,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        """UNVERIFIED when the mission allows it (the change stays, marked); otherwise
        COULD_NOT_JUDGE, and the ticket fails (the mission rolls the change back)."""
        rt, tv = self.rt, self.tv
        if rt.options.allow_unverified:
            _unverified(rt, tv, self.agent_id, self.paths, why, final, self.check)
            return
        self.say(pb.CRITIC_VERDICT_COULD_NOT_JUDGE, why, attributes or {})
        reason = f"could not judge: {why} ({hint})"
        finish(rt, tv, self.agent_id, pb.TICKET_STATE_FAILED, reason=reason)

    def reject(self, problems: list[str], attributes: Mapping[str, str]) -> None:
        """Compensate the round's changes; send the edits back only when a retry could differ."""
        rt, view, tv, agent_id = self.rt, self.view, self.tv, self.agent_id
        a = tv.attempt
        text = "; ".join(problems)
        self.say(pb.CRITIC_VERDICT_REJECTED, "regressions: " + text, attributes)
        reason = "critic rejected the change: " + text[:1500]
        edits = _edits(view, tv)
        for e in edits:
            if e.result.get("changed"):
                revert(rt, view, e, agent_id)
        futile = retry_is_futile(rt)
        if a <= tv.ticket.retries and not futile:
            for e in edits:
                finish(rt, e, agent_id, pb.TICKET_STATE_RETRY, reason=reason, attempt=e.attempt + 1)
            finish(rt, tv, agent_id, pb.TICKET_STATE_RETRY, reason=reason, attempt=a + 1)
            return
        if a <= tv.ticket.retries:
            reason += f" (not retried: {futile})"
        finish(rt, tv, agent_id, pb.TICKET_STATE_FAILED, reason=reason)


# -- a change does not judge itself ---------------------------------------------------

#: What a verdict's reason says when a change's own tests were all that passed.
EDITS_ITS_JUDGE = "the change edits the tests that judge it"
_KEEP_HINT = "pass --allow-unverified to keep it, marked unverified"
_RULE_NAMES: dict[int, str] = {
    pb.TEST_CODE_RULE_UNCHANGED: "unchanged",
    pb.TEST_CODE_RULE_RENAME_ONLY: "rename-only",
    pb.TEST_CODE_RULE_ORIGINAL_TESTS: "original-tests",
}


@dataclass(frozen=True, slots=True)
class TestCodeEdits:
    """The round's changed files that are test code, and the rule that judges them."""

    __test__ = False

    files: tuple[tuple[str, str], ...]  # (path, why it is test code)
    rule: int
    original: Mapping[str, bytes | None]  # each file's content before the mission

    def check(self, judge_run: str = "", failing: Sequence[str] = ()) -> pb.TestCodeCheck:
        return pb.TestCodeCheck(
            files=[pb.TestCodeFile(path=p, reason=r) for p, r in self.files],
            rule=self.rule,  # type: ignore[arg-type]
            judge_run=judge_run,
            original_failing=list(failing[:50]),
        )

    def foreign(self, own: Judgement) -> list[str]:
        """The original run's regressions that no edit to test code can explain: a test
        whose file the round left alone failing, while no shared test code (conftest,
        helpers, configuration) changed. Those are the new code's fault."""
        changed = [p for p, _ in self.files]
        if any(not collected(p) for p in changed):
            return []
        return [
            f"{text} (an original test the change did not edit)"
            for name, text in zip(own.regression_names, own.regressions, strict=True)
            if not owning_test_file(name, changed)
        ]

    def summary(self, own: Judgement) -> dict[str, Any]:
        return {
            "rule": _RULE_NAMES.get(self.rule, ""),
            "files": [p for p, _ in self.files],
            "original_failing": list(own.regression_names),
        }

    def note(self) -> str:
        """What an accepting verdict adds about the test code the round changed."""
        if self.rule == pb.TEST_CODE_RULE_RENAME_ONLY:
            return (
                f"; the rename's edits to {len(self.files)} test-code file(s) are its word "
                "substitutions only"
            )
        if self.rule == pb.TEST_CODE_RULE_ORIGINAL_TESTS:
            return (
                f"; the change edits {len(self.files)} test-code file(s), and the original "
                "tests pass against the new code too"
            )
        return ""


def _content(rt: Runtime, digest: bytes | str | None) -> bytes | None:
    if not digest:
        return None
    sha = bytes.fromhex(digest) if isinstance(digest, str) else digest
    return rt.led.get_blob(rt.tenant, sha)


def classify_edits(rt: Runtime, paths: Sequence[str]) -> TestCodeEdits:
    """Classify the round's changed ``paths`` (:func:`classify_test_code`, on the content
    before the mission and at the ledger's head) and choose the rule:

    - UNCHANGED: no test code changed; the suite judges as it is.
    - RENAME_ONLY: a rename whose every test-code edit is the rename's word
      substitutions and nothing else (:func:`renames_only`): the original tests would
      fail by construction, and the edited ones are the originals renamed.
    - ORIGINAL_TESTS: anything else (patches, model answers, add-param, a rename whose
      edit is more than its words): the original test code runs against the new code
      as well, and an accepting verdict needs it to pass.
    """
    files: list[tuple[str, str]] = []
    original: dict[str, bytes | None] = {}
    p = rt.request.params
    # The check reads the bytes, not the brain: a model's rename passes only if its test
    # edits are the same word swap a codemod would make.
    rename = rt.request.kind == "rename"
    old, new = re.split("[.:]", p.get("old", ""))[-1], p.get("new", "")
    mechanical = rename
    for path in paths:
        before = _content(rt, rt.manifest.get(path))
        state = rt.led.file_state(rt.tenant, rt.project, path)
        after = _content(rt, state.sha256 if state is not None else None)
        why = classify_test_code(path, before, after)
        if why:
            files.append((path, why))
            original[path] = before
            mechanical = mechanical and renames_only(before, after, old, new)
    if not files:
        rule = pb.TEST_CODE_RULE_UNCHANGED
    else:
        rule = pb.TEST_CODE_RULE_RENAME_ONLY if mechanical else pb.TEST_CODE_RULE_ORIGINAL_TESTS
    return TestCodeEdits(tuple(files), rule, original)


def _original_tests(
    rt: Runtime,
    view: MissionView,
    tv: TicketView,
    baseline: Mapping[str, Any],
    edits: TestCodeEdits,
    check: pb.TestCodeCheck,
) -> Judgement:
    """Run the original test code (every test-code file as before the mission; files the
    mission added left out) against the new code, judged against the baseline. Fills
    ``check``'s ``judge_run`` and ``original_failing``."""
    budget = run_budget(float(baseline.get("wall_s", 0.0)), rt.options.test_timeout_s)
    eid = step_id(rt.mission_id, "verify", tv.attempt, "tests.original")
    suite = Suite(eid, "critic.tests", "original", frozenset(), budget, edits.original)
    data = run_suite(rt, view, suite, tv.ticket.id, baseline)
    own = judge(baseline, [data])
    check.judge_run = eid
    del check.original_failing[:]
    check.original_failing.extend(own.regression_names[:50])
    return own
