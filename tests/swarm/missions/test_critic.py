"""The critic never judges blind: real sandbox runs, verdicts read back from the ledger.

Sandbox runs are counted from the ledger's ``critic.baseline``/``critic.tests``
decisions (``sandbox_run`` says whether the run happened or reused an earlier
run of the same tree), never from timing. The looping suites stop at their
deadline, however loaded the machine: no assertion depends on how long a run took.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest
from swarm.missions import _critic, judge, load_view, run_budget
from tests.swarm.missions.conftest import PROJECT, SAMPLE, TENANT, Mission, snapshot

BREAKING = (
    "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -9,3 +9,3 @@\n"
    '     """Sum the prices and apply tax, rounded to cents."""\n'
    "-    return round(sum(prices) * (1.0 + tax), 2)\n"
    "+    return round(sum(prices) * (1.0 - tax), 2)\n"
    " \n"
)
# A hunk that replaces a line with itself: the coder's edit changes nothing.
NO_OP = (
    "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -9,3 +9,3 @@\n"
    '     """Sum the prices and apply tax, rounded to cents."""\n'
    "-    return round(sum(prices) * (1.0 + tax), 2)\n"
    "+    return round(sum(prices) * (1.0 + tax), 2)\n"
    " \n"
)
# A patch that makes calculate_total (and so the suite) loop forever.
LOOPING_CODE = (
    "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -9,3 +9,5 @@\n"
    '     """Sum the prices and apply tax, rounded to cents."""\n'
    "+    while True:\n"
    "+        pass\n"
    "     return round(sum(prices) * (1.0 + tax), 2)\n"
    " \n"
)
LOOPING_TEST = "def test_forever():\n    while True:\n        pass\n"


def runs(led: ledger.Ledger, mid: str) -> list[pb.Decision]:
    """The mission's test-run decisions, in order."""
    view = load_view(led, TENANT, PROJECT, mid)
    kinds = ("critic.baseline", "critic.tests")
    return [d.event.decision for d in view.decisions if d.event.decision.kind in kinds]


def sandbox_runs(led: ledger.Ledger, mid: str) -> int:
    """How many suites the mission ran in the sandbox (reused results not counted)."""
    return sum(1 for d in runs(led, mid) if d.attributes["sandbox_run"] == "true")


def verdicts(led: ledger.Ledger, mid: str) -> list[int]:
    view = load_view(led, TENANT, PROJECT, mid)
    return [d.event.decision.verdict for d in view.decision("critic.verdict")]


def items_of(led: ledger.Ledger, decision: pb.Decision) -> list[list[str]]:
    data: dict[str, Any] = json.loads(led.get_blob(TENANT, decision.detail.sha256))
    return list(data["items"])


@pytest.fixture
def looping(tmp_path: Path) -> Path:
    """The sample repository plus a test that never ends."""
    dest = tmp_path / "looping_repo"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    (dest / "tests" / "test_forever.py").write_text(LOOPING_TEST)
    return dest


# -- could not judge ----------------------------------------------------------------


def test_a_suite_that_exhausts_its_budget_cannot_be_judged_and_the_mission_fails(
    mission: Mission, mled: ledger.Ledger, looping: Path
) -> None:
    before = snapshot(looping)
    mid, report = mission(root=looping, test_timeout_s=2.0)
    assert report.outcome == "failed"
    assert report.verdict == "could_not_judge"
    assert "could not judge" in report.reason and "did not complete" in report.reason
    assert "accepted" not in report.reason
    assert verdicts(mled, mid) == [pb.CRITIC_VERDICT_COULD_NOT_JUDGE]  # typed, in the ledger
    (baseline,) = runs(mled, mid)
    assert baseline.outcome == "incomplete" and baseline.attributes["budget_s"] == "2"
    # Judged before any edit: nothing was written, nothing to roll back.
    view = load_view(mled, TENANT, PROJECT, mid)
    assert not [c for c in view.changes if c.agent_id.startswith("coder-")]
    assert snapshot(looping) == before


def test_an_after_run_that_exhausts_its_budget_cannot_be_judged_and_rolls_back(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    # The baseline has 5 s; the after-run's budget is capped by it. On a machine too
    # loaded for the baseline to finish in 5 s the verdict is the same, from the baseline.
    mid, report = mission(EditRequest("patch", {"diff": LOOPING_CODE}), test_timeout_s=5.0)
    assert report.outcome == "failed"
    assert report.verdict == "could_not_judge"
    assert verdicts(mled, mid) == [pb.CRITIC_VERDICT_COULD_NOT_JUDGE]
    assert "did not complete" in report.reason
    assert snapshot(repo) == before  # rolled back


def test_allow_unverified_finishes_marked_unverified_and_never_says_accepted(
    mission: Mission, mled: ledger.Ledger, looping: Path
) -> None:
    mid, report = mission(root=looping, test_timeout_s=2.0, allow_unverified=True)
    assert report.outcome == "succeeded"
    assert report.verdict == "unverified"
    assert "unverified" in report.reason and "accepted" not in report.reason
    assert "did not complete" in report.verdict_reason
    assert verdicts(mled, mid) == [pb.CRITIC_VERDICT_UNVERIFIED]
    assert "def compute_order_total(" in (looping / "shop" / "pricing.py").read_text()
    # Nothing to judge against, so no after-run spends another deadline.
    assert sandbox_runs(mled, mid) == 1


def test_an_after_run_out_of_budget_with_allow_unverified_keeps_the_change_marked(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    request = EditRequest("patch", {"diff": LOOPING_CODE})
    mid, report = mission(request, test_timeout_s=5.0, allow_unverified=True)
    assert report.outcome == "succeeded" and report.verdict == "unverified"
    assert "did not complete" in report.verdict_reason
    assert "did not complete" in report.tests["after"]["unverified"]
    assert "while True:" in (repo / "shop" / "pricing.py").read_text()
    assert verdicts(mled, mid) == [pb.CRITIC_VERDICT_UNVERIFIED]


def test_a_baseline_that_runs_no_test_cannot_be_judged(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    for test in (repo / "tests").glob("test_*.py"):
        test.unlink()
    _, report = mission()
    assert report.outcome == "failed" and report.verdict == "could_not_judge"
    assert "ran no test" in report.reason


# -- nothing tested twice -----------------------------------------------------------


def test_a_rejected_patch_is_not_retried_with_the_same_patch(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    mid, report = mission(EditRequest("patch", {"diff": BREAKING}), critic_rounds=3)
    assert report.outcome == "failed" and report.verdict == "rejected"
    assert "test_total_with_tax" in report.reason
    assert "not retried: a patch is fixed text" in report.reason
    assert snapshot(repo) == before
    view = load_view(mled, TENANT, PROJECT, mid)
    edits = [c for c in view.changes if c.agent_id.startswith("coder-")]
    assert len(edits) == 1 and [c.reverts for c in view.changes if c.reverts] == [edits[0].event_id]
    assert verdicts(mled, mid) == [pb.CRITIC_VERDICT_REJECTED]
    assert "retry" not in [h[0] for h in view.tickets["edit-00001"].history]
    assert sandbox_runs(mled, mid) == 2  # the baseline and one after-run


def test_a_rejected_rename_is_not_retried(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    # The sample's tests pin the old name in a string: the rename breaks one of them.
    (repo / "tests" / "test_names.py").write_text(
        "import shop.pricing\n\n\ndef test_the_name():\n"
        "    assert hasattr(shop.pricing, 'calculate' + '_total')\n"
    )
    mid, report = mission(critic_rounds=2)
    assert report.outcome == "failed" and report.verdict == "rejected"
    assert "not retried: the rules brain's codemod is deterministic" in report.reason
    view = load_view(mled, TENANT, PROJECT, mid)
    assert {tv.attempt for tv in view.tickets.values()} == {1}
    assert verdicts(mled, mid) == [pb.CRITIC_VERDICT_REJECTED]


def test_a_tied_run_that_covers_every_test_file_is_not_followed_by_a_full_run(
    mission: Mission, mled: ledger.Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_critic, "TIED_FIRST_MIN_S", 0.0)  # as for a slow suite
    mid, report = mission()
    assert report.ok and report.verdict == "accepted"
    assert sandbox_runs(mled, mid) == 2  # was 3: baseline, tied, and a full run repeating it
    baseline, after = runs(mled, mid)
    assert after.attributes["stage"] == "full"
    names = sorted(n for n, _, _ in items_of(mled, after))
    assert names == sorted(n for n, _, _ in items_of(mled, baseline))


def test_tied_then_rest_runs_every_test_file_exactly_once(
    mission: Mission, mled: ledger.Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample's suite is quick, so the critic would run it whole: split it anyway.
    monkeypatch.setattr(_critic, "TIED_FIRST_MIN_S", 0.0)
    # best_discount is used by orders and test_orders only: one test file is tied to it.
    mid, report = mission(EditRequest("rename", {"old": "best_discount", "new": "best_price"}))
    assert report.ok and report.verdict == "accepted", report
    baseline, tied, rest = runs(mled, mid)
    assert (tied.attributes["stage"], rest.attributes["stage"]) == ("tied", "rest")
    assert sandbox_runs(mled, mid) == 3
    after = [n for d in (tied, rest) for n, _, _ in items_of(mled, d)]
    assert len(after) == len(set(after))  # no test ran twice on the edited tree
    assert sorted(after) == sorted(n for n, _, _ in items_of(mled, baseline))
    assert report.tests["after"]["counts"]["passed"] == report.tests["baseline"]["passed"]


def test_a_tree_already_tested_is_not_tested_again(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    mid, report = mission(EditRequest("patch", {"diff": NO_OP}))
    assert report.ok and report.verdict == "accepted", report
    baseline, after = runs(mled, mid)
    assert sandbox_runs(mled, mid) == 1
    assert after.attributes["tree"] == baseline.attributes["tree"]
    assert list(after.memory_refs) == [f"{mid}.baseline"]


def test_a_quick_suite_is_run_whole_after_the_edits(mission: Mission, mled: ledger.Ledger) -> None:
    # best_discount ties one test file of three; the sample's suite is far below the
    # threshold (it takes well under a second), so one full run follows the baseline.
    mid, report = mission(EditRequest("rename", {"old": "best_discount", "new": "best_price"}))
    assert report.ok and report.verdict == "accepted", report
    wall = float(runs(mled, mid)[0].attributes["wall_s"])
    if wall < _critic.TIED_FIRST_MIN_S:  # a lower bound only a very starved machine misses
        assert [d.attributes["stage"] for d in runs(mled, mid)] == ["baseline", "full"]
        assert sandbox_runs(mled, mid) == 2


def test_later_runs_get_a_budget_from_the_baseline(mission: Mission, mled: ledger.Ledger) -> None:
    mid, report = mission(test_timeout_s=300.0)
    assert report.ok
    baseline, after = runs(mled, mid)
    assert baseline.attributes["budget_s"] == "300"
    wall = float(baseline.attributes["wall_s"])
    assert float(after.attributes["budget_s"]) == pytest.approx(run_budget(wall, 300.0), abs=1e-3)


def test_the_budget_rule() -> None:
    assert run_budget(1.0, 600.0) == 31.0  # a short suite gets 30 s of slack
    assert run_budget(100.0, 600.0) == 300.0  # a long one 3x its time
    assert run_budget(300.0, 600.0) == 600.0  # never past the user's limit
    assert run_budget(2.0, 5.0) == 5.0


# -- the judge ------------------------------------------------------------------------


def _run(items: list[list[str]], complete: bool = True) -> dict[str, Any]:
    return {"complete": complete, "detail": "" if complete else "out of budget", "items": items}


def test_the_judge_counts_only_what_the_change_broke() -> None:
    base = _run([["a", "passed", ""], ["b", "failed", "x"], ["c", "passed", ""]])
    j = judge(base, [_run([["a", "failed", "boom\nAssertionError"], ["b", "failed", "x"]])])
    assert j.regressions == ("a: failed: AssertionError",)
    assert j.pre_existing_failure_names == ("b",)
    assert not j.incomplete
    j = judge(base, [_run([["c", "could_not_run", "needs threads"]])])
    assert j.regressions == ("c: passed before, could not run now: needs threads",)
    assert j.could_not_run_names == ("c",)


def test_the_judge_says_an_incomplete_run_cannot_be_judged() -> None:
    base = _run([["a", "passed", ""]])
    j = judge(base, [_run([["a", "passed", ""]]), _run([], complete=False)])
    assert "did not complete: out of budget" in j.incomplete and not j.regressions
