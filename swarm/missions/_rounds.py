"""One round of a coder's loop, judged: apply the answer, compile it, run the tied tests.

A round's candidate is always built from the files as the loop found them, not
on top of an earlier failed round's edit: each answer must be the whole change,
and two rounds that write the same files are the same proposal (the loop does
not run one twice). What comes out is a :class:`RoundResult`: the outcome, a
one-line summary for ``mission show``, and the feedback the next turn sends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from proto.swarm.v1 import model_pb2 as mp
from swarm.brain import BrainError, EditDoesNotApply, FileEdit, feedback_for, proposal_from_answer
from swarm.missions._errors import MissionError
from swarm.missions._judgement import collected, judge, run_budget
from swarm.missions._runtime import Runtime
from swarm.missions._suites import Suite, baseline_of, run_suite
from swarm.missions._view import MissionView
from swarm.missions._workspace import resolve, walk_repo
from swarm.scout import check_syntax

_FAILURES_SHOWN = 5
_MESSAGE_LINES = 12
_MESSAGE_CHARS = 900


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What one answer came to."""

    outcome: int  # an mp.RoundOutcome
    summary: str
    feedback: str = ""
    edits: tuple[FileEdit, ...] = ()
    failing: tuple[str, ...] = ()
    tests_event_id: str = ""
    duplicate_of: int = 0

    @property
    def passed(self) -> bool:
        return bool(self.outcome == mp.ROUND_OUTCOME_PASSED)


@dataclass(frozen=True, slots=True)
class LoopTask:
    """What one loop ticket is to do: the words, the files it may change, the tests that
    must pass (ids as the runner names them, or files)."""

    text: str
    paths: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    must_fix: tuple[str, ...] = field(default=())  # fix: tests failing before, to pass now


def fingerprint(edits: Sequence[FileEdit]) -> str:
    """Which files a candidate writes, and with what: equal for equal proposals."""
    return fingerprint_of([(e.path, content_sha(e.new_source)) for e in edits])


def content_sha(text: str | None) -> bytes:
    return b"" if text is None else hashlib.sha256(text.encode("utf-8")).digest()


def fingerprint_of(files: Sequence[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for path, sha in sorted(files):
        h.update(path.encode() + b"\0" + sha + b"\n")
    return h.hexdigest()


def candidate(
    rt: Runtime, task: LoopTask, answer: str, read: Callable[[str], str]
) -> tuple[FileEdit, ...] | RoundResult:
    """The files the answer writes, or the round's failure (no edit, did not apply, a path
    the ticket or the workspace guard refuses)."""
    try:
        with rt.index_lock:
            proposal = proposal_from_answer(answer, (), read, rt.index)
    except EditDoesNotApply as exc:
        return RoundResult(
            mp.ROUND_OUTCOME_DID_NOT_APPLY,
            f"the edit did not apply: {exc.reason}",
            feedback_for(exc),
        )
    except BrainError as exc:
        reason = getattr(exc, "reason", str(exc))
        return RoundResult(mp.ROUND_OUTCOME_NO_EDIT, f"no usable edit: {reason}", feedback_for(exc))
    for e in proposal.edits:
        refused = _refused_path(rt, task, e.path)
        if refused:
            return RoundResult(
                mp.ROUND_OUTCOME_NO_EDIT,
                f"the edit touches {e.path}, which it may not: {refused}",
                f"Your edit changes {e.path}, which it may not: {refused}\nAnswer again, "
                "changing only the files the task is about.",
            )
    return proposal.edits


def _refused_path(rt: Runtime, task: LoopTask, path: str) -> str:
    if task.paths and path not in task.paths:
        return "this ticket may change only " + ", ".join(task.paths)
    try:
        resolve(rt.root, path)
    except MissionError as exc:
        return str(exc)
    return ""


def syntax_failure(edits: Sequence[FileEdit]) -> RoundResult | None:
    """The round's failure when an edited file does not compile (CPython's compile())."""
    for e in edits:
        if e.new_source is None:
            continue
        errors = check_syntax(e.path, e.new_source.encode("utf-8"))
        if errors:
            where = "; ".join(errors)
            return RoundResult(
                mp.ROUND_OUTCOME_SYNTAX_ERROR,
                f"{e.path} does not compile: {where}",
                f"Your edit was applied, but {e.path} no longer compiles: {where} (line:column "
                "message). The edit was undone: the files are as shown before. Answer again "
                "with the whole change, fixed.",
                edits=tuple(edits),
            )
    return None


def tied_tests(rt: Runtime, task: LoopTask, edits: Sequence[FileEdit]) -> set[str]:
    """The test files a candidate's tests run: those the import graph ties to the edited
    files, the ticket's own tests' files, and edited or new test files."""
    changed = [e.path for e in edits]
    with rt.index_lock:
        known = set(rt.index.files())
        tied = rt.index.tests_for([p for p in changed if p in known])
    tied |= {p for p in changed if collected(p)}
    tied |= {t.split("::", 1)[0] for t in (*task.tests, *task.must_fix)}
    return {p for p in tied if collected(p)}


def test_round(
    rt: Runtime,
    view: MissionView,
    ticket: str,
    step: str,
    task: LoopTask,
    edits: tuple[FileEdit, ...],
) -> RoundResult:
    """Run the tied tests on the candidate (the critic's sandbox path, recorded and reused
    like its own runs) and judge them: no regression, and every required test passing."""
    tied = tied_tests(rt, task, edits)
    passed = RoundResult(mp.ROUND_OUTCOME_PASSED, "applied and compiles", edits=edits)
    if not rt.options.run_tests or not tied:
        why = "tests are off" if not rt.options.run_tests else "no test is tied to the change"
        return RoundResult(passed.outcome, f"applied and compiles ({why})", edits=edits)
    baseline = baseline_of(rt, view) or {}
    overlay: dict[str, bytes | None] = {
        e.path: e.new_source.encode("utf-8") if e.new_source is not None else None for e in edits
    }
    everything = {p for p in walk_repo(rt.root) if collected(p)} | set(overlay)
    drop = frozenset(p for p in everything if collected(p) and p not in tied)
    budget = run_budget(float(baseline.get("wall_s", 0.0)), rt.options.test_timeout_s)
    suite = Suite(step, "coder.tests", "tied", drop, budget, overlay)
    data = run_suite(rt, view, suite, ticket, baseline)
    return judge_run(data, baseline, task, edits, step)


def judge_run(
    data: Mapping[str, Any],
    baseline: Mapping[str, Any],
    task: LoopTask,
    edits: tuple[FileEdit, ...],
    step: str,
) -> RoundResult:
    """A round's test run held against the baseline and the ticket's required tests."""
    items = [tuple(i) for i in data.get("items", [])]
    if not data.get("complete"):
        detail = str(data.get("detail", "")) or "it did not finish"
        return RoundResult(
            mp.ROUND_OUTCOME_TESTS_INCOMPLETE,
            f"the tests did not complete: {detail}",
            f"Your edit was applied, but the tests did not complete: {detail}. (An endless "
            "loop or a very slow change?) The edit was undone. Answer again with a different "
            "change.",
            edits=edits,
            tests_event_id=step,
        )
    j = judge(baseline, [data])
    failing = list(j.regression_names)
    for test_id in (*task.tests, *task.must_fix):
        hits = [i for i in items if matches(str(i[0]), test_id)]
        if not hits:
            failing.append(test_id)
        failing += [str(i[0]) for i in hits if i[1] != "passed" and str(i[0]) not in failing]
    counts = data.get("counts", {})
    bad = int(counts.get("failed", 0)) + int(counts.get("errors", 0))
    ran = f"{counts.get('passed', 0)} passed, {bad} failed"
    if not failing:
        return RoundResult(
            mp.ROUND_OUTCOME_PASSED,
            f"applied, compiles, tied tests pass ({ran})",
            edits=edits,
            tests_event_id=step,
        )
    return RoundResult(
        mp.ROUND_OUTCOME_TESTS_FAILED,
        f"tests fail ({ran}): {', '.join(failing[:_FAILURES_SHOWN])}",
        test_feedback(failing, items),
        edits=edits,
        failing=tuple(failing),
        tests_event_id=step,
    )


def matches(name: str, test_id: str) -> bool:
    """Whether the runner's test ``name`` is (or is inside) ``test_id``: a node id, a
    dotted unittest id or a file, in either spelling."""

    def norm(x: str) -> str:
        x = x.replace("::", ".").replace("/", ".")
        return x.replace(".py.", ".").removesuffix(".py")

    n, t = norm(name), norm(test_id)
    return n == t or n.startswith(t + ".")


def test_feedback(failing: Sequence[str], items: Sequence[tuple[Any, ...]]) -> str:
    """The failing tests' names, assertion messages and trimmed tracebacks, for the model."""
    messages = {str(i[0]): str(i[2]) for i in items}
    lines = ["Your edit was applied, but these tests fail:"]
    for name in failing[:_FAILURES_SHOWN]:
        message = messages.get(name)
        if message is None:
            lines.append(f"- {name}: did not run (no test by that name was collected)")
            continue
        lines.append(f"- {name}:")
        lines.append(trim_traceback(message))
    if len(failing) > _FAILURES_SHOWN:
        lines.append(f"... and {len(failing) - _FAILURES_SHOWN} more")
    lines.append(
        "The edit was undone: the files are as shown before. Answer again with the whole "
        "change, fixed, as SEARCH/REPLACE blocks."
    )
    return "\n".join(lines)


def trim_traceback(message: str) -> str:
    """The end of a traceback (where the assertion is), at most a few lines."""
    kept = message.strip().splitlines()[-_MESSAGE_LINES:]
    text = "\n".join("    " + ln for ln in kept)
    return text[-_MESSAGE_CHARS:]
