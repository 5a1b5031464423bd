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

This module holds the critic's handlers and how a round's verdict is reached; the
sandbox runs and their reuse (nothing runs twice on one tree) are in ``_suites``, and
the judging of runs against the baseline and of test-code edits in ``_judgement``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._events import decision_event, path_key, step_id
from swarm.missions._identity import AgentId
from swarm.missions._judgement import (
    EDITS_ITS_JUDGE,
    Judgement,
    TestCodeEdits,
    baseline_not_judgeable,
    classify_edits,
    collected,
    judge,
    run_budget,
)
from swarm.missions._loop import finish, restore
from swarm.missions._runtime import Runtime
from swarm.missions._suites import Suite, baseline_of, run_suite
from swarm.missions._view import MissionView, TicketView
from swarm.missions._workspace import walk_repo

__all__ = ["TIED_FIRST_MIN_S", "Judgement", "critic", "judge", "run_budget"]

# Below this baseline wall time one full run after the edits beats tied-then-rest: each
# run pays the interpreter's start-up (~0.3-0.5 s here) and an early rejection saves
# little. The choice reads the recorded baseline, so a resumed mission makes the same one.
TIED_FIRST_MIN_S = 10.0


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


_HINT = "raise --test-timeout, or pass --allow-unverified to finish untested, or --no-tests"

_KEEP_HINT = "pass --allow-unverified to keep it, marked unverified"


def retry_is_futile(rt: Runtime) -> str:
    """Why sending rejected edits back to the coders would make the very same edits, or ""
    when a retry could differ. Today every brain's edit is fixed by its inputs: the one
    seam to change when a brain learns from the critic's failure."""
    if rt.request.kind == "patch":
        return "a patch is fixed text, a retry would apply the same diff"
    if not rt.uses_model():
        return f"the {rt.brain.name} brain's codemod is deterministic, a retry makes the same edits"
    return "the model's proposal is recorded and replayed, a retry makes the same edits"


def critic(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """The critic's handler: the ``baseline`` ticket, or the ``verify`` ticket."""
    if tv.ticket.id == "baseline":
        critic_baseline(rt, view, tv, agent)
    else:
        critic_verify(rt, view, tv, agent)


#: A verdict decision's ``outcome`` word.
_OUTCOMES: dict[int, str] = {
    pb.CRITIC_VERDICT_ACCEPTED: "accept",
    pb.CRITIC_VERDICT_REJECTED: "reject",
    pb.CRITIC_VERDICT_COULD_NOT_JUDGE: "could_not_judge",
    pb.CRITIC_VERDICT_UNVERIFIED: "unverified",
    pb.CRITIC_VERDICT_NOT_TESTED: "not_tested",
}


def _verdict(
    rt: Runtime,
    ticket: str,
    attempt: int,
    agent: AgentId,
    verdict: pb.CriticVerdict,
    rationale: str,
    attributes: Mapping[str, str] | None = None,
    paths: Sequence[str] = (),
    check: pb.TestCodeCheck | None = None,
) -> None:
    ev = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, ticket, attempt, "verdict"),
        agent,
        "critic.verdict",
        outcome=_OUTCOMES[verdict],
        input=", ".join(paths)[:4000],
        rationale=rationale,
        attributes={"files": str(len(paths)), **(attributes or {})},
        verdict=verdict,
    )
    if check is not None:
        ev.decision.test_code.CopyFrom(check)
    rt.led.append(rt.tenant, rt.project, [ev])


def critic_baseline(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Run the whole suite before any edit, under the user's deadline. A baseline that
    cannot be judged against fails the mission before anything changes, unless the
    mission allows finishing unverified."""
    if not rt.options.run_tests:
        finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload={"skipped": True})
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
        _verdict(rt, tv.ticket.id, tv.attempt, agent, pb.CRITIC_VERDICT_COULD_NOT_JUDGE, why)
        reason = f"could not judge: {why}; nothing was changed ({_HINT})"
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=reason)
        return
    payload = {
        "counts": data["counts"],
        "complete": data["complete"],
        "wall_s": data["wall_s"],
        "judgeable": not why,
    }
    finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload=payload)


def changes_of(tv: TicketView) -> list[tuple[str, str]]:
    """A coder ticket's changes as (path, change event id): one for a plain coder, each
    file of a model-backed loop ticket (ADR 0015)."""
    r = tv.result
    if "changes" in r:
        return [(str(c["path"]), str(c["change_event_id"])) for c in r["changes"]]
    return [(str(r["path"]), str(r["change_event_id"]))]


def _edits(view: MissionView, tv: TicketView) -> list[TicketView]:
    return [view.tickets[d] for d in tv.ticket.depends_on if view.tickets[d].ticket.kind == "coder"]


def critic_verify(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Judge every edit of the round at once (a rename is only consistent as a whole).

    When the edits change test code, the original test code also runs against the new
    code and has the last word (:func:`classify_edits`, ADR 0007)."""
    a = tv.attempt
    view.catch_up()
    changed = [e for e in _edits(view, tv) if e.result.get("changed")]
    paths = sorted(p for e in changed for p, _ in changes_of(e))
    if not rt.options.run_tests:
        why = "the tests were not run (--no-tests); every change parses"
        _verdict(rt, "verify", a, agent, pb.CRITIC_VERDICT_NOT_TESTED, why, paths=paths)
        finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload={"files": paths, "tests": "skipped"})
        return
    baseline = baseline_of(rt, view) or {}
    why = baseline_not_judgeable(baseline)
    if why:  # allowed through by allow_unverified (the baseline ticket fails otherwise)
        _unverified(rt, tv, agent, paths, why, {})
        return
    edits = classify_edits(rt, paths)
    verdict = Verdict(rt, view, tv, agent, paths, edits.check())
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
        finish(verdict.rt, verdict.tv, verdict.agent, pb.TICKET_STATE_DONE, payload=payload)


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
    agent: AgentId,
    paths: list[str],
    why: str,
    final: dict[str, Any],
    check: pb.TestCodeCheck | None = None,
) -> None:
    rationale = f"the tests could not judge the changes: {why}; finished untested as allowed"
    verdict = pb.CRITIC_VERDICT_UNVERIFIED
    _verdict(rt, "verify", tv.attempt, agent, verdict, rationale, paths=paths, check=check)
    tests = {**final, "unverified": why}
    finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload={"files": paths, "tests": tests})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the verify ticket can end with, for one round's edits and its test-code check."""

    rt: Runtime
    view: MissionView
    tv: TicketView
    agent: AgentId
    paths: list[str]
    check: pb.TestCodeCheck

    def say(self, verdict: pb.CriticVerdict, why: str, attributes: Mapping[str, str]) -> None:
        """Record the verdict decision (the caller finishes the ticket)."""
        rt, tv = self.rt, self.tv
        _verdict(
            rt,
            "verify",
            tv.attempt,
            self.agent,
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
            _unverified(rt, tv, self.agent, self.paths, why, final, self.check)
            return
        self.say(pb.CRITIC_VERDICT_COULD_NOT_JUDGE, why, attributes or {})
        reason = f"could not judge: {why} ({hint})"
        finish(rt, tv, self.agent, pb.TICKET_STATE_FAILED, reason=reason)

    def reject(self, problems: list[str], attributes: Mapping[str, str]) -> None:
        """Compensate the round's changes; send the edits back only when a retry could differ."""
        rt, view, tv, agent = self.rt, self.view, self.tv, self.agent
        a = tv.attempt
        text = "; ".join(problems)
        self.say(pb.CRITIC_VERDICT_REJECTED, "regressions: " + text, attributes)
        reason = "critic rejected the change: " + text[:1500]
        edits = _edits(view, tv)
        for e in edits:
            if e.result.get("changed"):
                _revert(rt, view, e, agent)
        # A model's loop ticket gets the rejection as feedback (ADR 0015): its retry differs.
        loops = all(e.ticket.inputs.get("loop") == "1" for e in edits) and bool(edits)
        futile = "" if loops else retry_is_futile(rt)
        if a <= tv.ticket.retries and not futile:
            for e in edits:
                finish(rt, e, agent, pb.TICKET_STATE_RETRY, reason=reason, attempt=e.attempt + 1)
            finish(rt, tv, agent, pb.TICKET_STATE_RETRY, reason=reason, attempt=a + 1)
            return
        if a <= tv.ticket.retries:
            reason += f" (not retried: {futile})"
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=reason)


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


def _revert(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Compensating StateChanges that undo one coder ticket's change(s)."""
    several = "changes" in tv.result
    for path, change_id in changes_of(tv):
        original = next(c for c in view.changes if c.event_id == change_id)
        step = f"revert.{path_key(path)}" if several else "revert"
        restore(
            rt,
            agent,
            path,
            original.previous,
            event_id=step_id(rt.mission_id, tv.ticket.id, tv.attempt, step),
            reverts=change_id,
            wait_s=tv.ticket.timeout_s,
        )
