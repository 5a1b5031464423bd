"""The critic's judgement: runs after the edits held against the baseline, and which of a
round's edits are test code (and so may not vouch for themselves).

Pure functions of recorded runs (:func:`judge`) and of file contents
(:func:`classify_edits`): the critic's handlers in ``_critic`` turn them into verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._runtime import Runtime
from swarm.missions._testcode import classify_test_code, owning_test_file, renames_only
from swarm.scout import is_test_file


def run_budget(baseline_wall_s: float, limit_s: float) -> float:
    """The deadline of a run after the edits: room for a slower run than the baseline
    (3x, and at least 30 s more), never past the user's limit."""
    return min(limit_s, max(3.0 * baseline_wall_s, baseline_wall_s + 30.0))


def collected(path: str) -> bool:
    """Whether ``path`` is a test file the sandbox's runners collect (helper modules under
    ``tests/`` are not: they stay in every run, since collected files import them)."""
    name = path.rsplit("/", 1)[-1]
    return is_test_file(path) and (name.startswith("test") or name.endswith("_test.py"))


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


#: What a verdict's reason says when a change's own tests were all that passed.
EDITS_ITS_JUDGE = "the change edits the tests that judge it"

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
