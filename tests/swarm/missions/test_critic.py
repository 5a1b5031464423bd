"""The critic never judges blind: real sandbox runs, verdicts read back from the ledger.

Sandbox runs are counted from the ledger's ``critic.baseline``/``critic.tests``
decisions (``sandbox_run`` says whether the run happened or reused an earlier
run of the same tree), never from timing. The looping suites stop at their
deadline, however loaded the machine: no assertion depends on how long a run took.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest
from swarm.missions import _critic, judge, load_view, run_budget
from swarm.missions._records import decode_test_run
from swarm.missions._testcode import classify_test_code, owning_test_file, renames_only
from tests.security.test_critic import diff_of
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
    data: dict[str, Any] = decode_test_run(led.get_blob(TENANT, decision.detail.sha256))
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
    assert report.outcome == "succeeded", report
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


# -- a change does not judge itself (ADR 0007) ----------------------------------------


@pytest.mark.parametrize(
    "path,before,after,why",
    [
        ("tests/test_pricing.py", b"", b"", "a test file"),
        ("test_top.py", b"", b"", "a test file"),
        ("pkg/orders_test.py", b"", b"", "a test file"),
        ("pkg/testing.py", b"", b"", "a test file"),  # unittest collects test*.py
        ("conftest.py", None, b"", "conftest.py (a pytest plugin)"),
        ("pkg/sub/conftest.py", b"", b"", "conftest.py (a pytest plugin)"),
        ("tests/helpers.py", b"", b"", "under a tests/ folder"),
        ("tests/data/expected.json", b"", b"", "under a tests/ folder"),
        ("test/util.py", b"", b"", "under a test/ folder"),
        ("sitecustomize.py", None, b"", "sitecustomize.py (runs at interpreter start)"),
        ("src/usercustomize.py", b"", b"", "usercustomize.py (runs at interpreter start)"),
        ("evil.pth", None, b"", "a .pth file (runs at interpreter start)"),
        ("pytest_forge.py", None, b"", "a pytest plugin module"),
        ("pytest_plugins/x.py", None, b"", "a pytest plugin module"),
        ("pytest/__init__.py", None, b"", "the project's own pytest (replaces the test runner)"),
        ("src/_pytest/main.py", None, b"", "the project's own _pytest (replaces the test runner)"),
        ("pluggy.py", None, b"", "the project's own pluggy (replaces the test runner)"),
        ("pytest.ini", None, b"[pytest]\n", "pytest.ini (pytest configuration)"),
        ("pytest.toml", None, b"", "pytest.toml (pytest configuration)"),
        (
            "pyproject.toml",
            b"[project]\nname='x'\n",
            b"[project]\nname='x'\n[tool.pytest.ini_options]\naddopts='-p forge'\n",
            "pyproject.toml with a [tool.pytest] section (pytest configuration)",
        ),
        (
            "pyproject.toml",
            b'[tool."pytest"]\nx=1\n',  # removing the section changes pytest's config too
            b"[project]\n",
            "pyproject.toml with a [tool.pytest] section (pytest configuration)",
        ),
        (
            "pyproject.toml",
            b"[project\n",  # what we cannot parse, pytest might: the doubt goes to the rule
            b"[project]\n",
            "pyproject.toml with a [tool.pytest] section (pytest configuration)",
        ),
        (
            "setup.cfg",
            b"[metadata]\nname = x\n",
            b"[metadata]\nname = x\n[tool:pytest]\naddopts = -p forge\n",
            "setup.cfg with a [tool:pytest] section (pytest configuration)",
        ),
        (
            "tox.ini",
            b"[tox]\n[pytest]\naddopts = -q\n",
            b"[tox]\n[pytest]\naddopts = -p x\n",
            "tox.ini with a [pytest] section (pytest configuration)",
        ),
        ("pyproject.toml", b"[project]\nname='x'\n", b"[project]\nname='y'\n", ""),
        ("setup.cfg", b"[metadata]\nname = x\n", b"[metadata]\nname = y\n", ""),
        ("tox.ini", b"[tox]\nenvlist = py\n", None, ""),
        ("shop/pricing.py", b"", b"", ""),
        ("shop/contest.py", b"", b"", ""),
        ("docs/testing.md", b"", b"", ""),
        ("shop/__init__.py", b"", b"", ""),
        ("README.md", b"", b"", ""),
    ],
)
def test_which_changed_files_are_test_code(
    path: str, before: bytes | None, after: bytes | None, why: str
) -> None:
    assert classify_test_code(path, before, after) == why


def test_a_rename_only_edit_is_the_words_and_nothing_else() -> None:
    old = b"from shop import calculate_total\n\nx = calculate_total([1])  # calculate_total\n"
    renamed = old.replace(b"calculate_total", b"compute_order_total")
    assert renames_only(old, renamed, "calculate_total", "compute_order_total")
    # some occurrences only (a shadowing local left alone) is still only the rename
    partial = old.replace(b"calculate_total", b"compute_order_total", 1)
    assert renames_only(old, partial, "calculate_total", "compute_order_total")
    assert renames_only(old, old, "calculate_total", "compute_order_total")
    smuggled = renamed + b"import unittest\n"
    assert not renames_only(old, smuggled, "calculate_total", "compute_order_total")
    space = renamed.replace(b"x = ", b"x  = ")
    assert not renames_only(old, space, "calculate_total", "compute_order_total")
    other_word = old.replace(b"shop", b"evil")
    assert not renames_only(old, other_word, "calculate_total", "compute_order_total")
    # a word that merely contains the old name is another word
    inside = old.replace(b"calculate_total", b"calculate_sum")
    assert not renames_only(old, inside, "total", "sum")
    assert not renames_only(None, renamed, "calculate_total", "compute_order_total")
    assert not renames_only(old, None, "calculate_total", "compute_order_total")
    assert not renames_only(b"\xff", b"\xfe", "a", "b")


def test_a_reported_test_is_placed_in_its_file() -> None:
    files = ["tests/test_pricing.py", "pkg/tests/test_x.py"]
    assert owning_test_file("tests/test_pricing.py::PricingTest::test_a", files) == files[0]
    assert owning_test_file("tests.test_pricing.PricingTest.test_a", files) == files[0]
    assert owning_test_file("test_pricing.PricingTest.test_a", files) == files[0]  # no __init__
    assert owning_test_file("tests/test_pricing.py", files) == files[0]  # an import error
    assert owning_test_file("pkg.tests.test_x.T.test", files) == files[1]
    assert owning_test_file("tests.test_cart.CartTest.test_total", files) == ""
    assert owning_test_file("tests.test_pricing_more.T.t", files) == ""


def _verdict_decision(led: ledger.Ledger, mid: str) -> pb.Decision:
    view = load_view(led, TENANT, PROJECT, mid)
    return view.decision("critic.verdict")[-1].event.decision


def test_a_rename_whose_test_edits_are_the_rename_is_accepted(
    mission: Mission, mled: ledger.Ledger
) -> None:
    mid, report = mission()
    assert report.ok and report.verdict == "accepted", report
    check = _verdict_decision(mled, mid).test_code
    assert check.rule == pb.TEST_CODE_RULE_RENAME_ONLY
    assert {f.path for f in check.files} >= {"tests/test_pricing.py", "tests/test_cart.py"}
    assert not check.judge_run  # no run of the original tests: they would fail by design
    assert "word substitutions only" in report.verdict_reason
    assert report.tests["after"]["test_code"]["rule"] == "rename-only"


def test_a_change_that_edits_no_test_code_is_judged_by_the_suite_as_it_is(
    mission: Mission, mled: ledger.Ledger
) -> None:
    mid, report = mission(EditRequest("patch", {"diff": NO_OP}))
    assert report.ok
    check = _verdict_decision(mled, mid).test_code
    assert check.rule == pb.TEST_CODE_RULE_UNCHANGED and not check.files


def test_a_patch_that_only_adds_a_test_is_judged_by_the_original_tests_too(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    new = (repo / "tests" / "test_pricing.py").read_text() + (
        "\n\nclass MoreTest(unittest.TestCase):\n"
        "    def test_zero_tax(self) -> None:\n"
        "        self.assertEqual(calculate_total([3.0], tax=0.0), 3.0)\n"
    )
    mid, report = mission(
        EditRequest("patch", {"diff": diff_of(repo, {"tests/test_pricing.py": new})})
    )
    assert report.ok and report.verdict == "accepted", report
    check = _verdict_decision(mled, mid).test_code
    assert check.rule == pb.TEST_CODE_RULE_ORIGINAL_TESTS
    assert [f.path for f in check.files] == ["tests/test_pricing.py"]
    assert not check.original_failing
    assert "the original tests pass against the new code too" in report.verdict_reason
    # The original tests against unchanged code are the baseline's very tree: reused.
    by_stage = {d.attributes["stage"]: d for d in runs(mled, mid)}
    assert list(by_stage["original"].memory_refs) == [f"{mid}.baseline"]
    assert check.judge_run == f"{mid}.verify.a1.tests.original"
    names = [n for n, _, _ in items_of(mled, by_stage["full"])]
    assert "tests.test_pricing.MoreTest.test_zero_tax" in names  # the new test ran, and passed


def test_a_patch_that_changes_behaviour_and_its_test_is_not_accepted_on_its_own_word(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    pricing = (repo / "shop" / "pricing.py").read_text().replace("TAX_RATE = 0.2", "TAX_RATE = 0.1")
    tests = (repo / "tests" / "test_pricing.py").read_text().replace("18.0)", "16.5)")
    diff = diff_of(repo, {"shop/pricing.py": pricing, "tests/test_pricing.py": tests})
    _, report = mission(EditRequest("patch", {"diff": diff}))
    # test_orders (unchanged) also pins the 20% rate: the new code's fault, so rejected.
    assert report.verdict == "rejected", report
    assert "an original test the change did not edit" in report.reason
    assert snapshot(repo) == before


def test_an_honest_test_update_finishes_unverified_only_when_allowed(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    # unit_price is tested in test_pricing.py only: the edit and its test update agree.
    pricing = (
        (repo / "shop" / "pricing.py")
        .read_text()
        .replace("return round(total / quantity, 2)", "return round(total / quantity, 1)")
    )
    tests = (
        (repo / "tests" / "test_pricing.py")
        .read_text()
        .replace(
            "unit_price(10.0, 4), 2.5)",
            "unit_price(10.0, 4), 2.5)\n        self.assertEqual(unit_price(1.0, 3), 0.3)",
        )
    )
    original = (
        (repo / "tests" / "test_pricing.py")
        .read_text()
        .replace(
            "unit_price(10.0, 4), 2.5)",
            "unit_price(10.0, 4), 2.5)\n        self.assertEqual(unit_price(1.0, 3), 0.33)",
        )
    )
    (repo / "tests" / "test_pricing.py").write_text(original)
    before = snapshot(repo)
    diff = diff_of(repo, {"shop/pricing.py": pricing, "tests/test_pricing.py": tests})
    mid, report = mission(EditRequest("patch", {"diff": diff}))
    assert report.outcome == "failed" and report.verdict == "could_not_judge", report
    assert "the change edits the tests that judge it" in report.reason
    assert "--allow-unverified" in report.reason
    assert snapshot(repo) == before
    check = _verdict_decision(mled, mid).test_code
    assert check.original_failing == ["tests.test_pricing.PricingTest.test_unit_price"]

    mid, report = mission(EditRequest("patch", {"diff": diff}), allow_unverified=True)
    assert report.ok and report.verdict == "unverified", report
    assert "the change edits the tests that judge it" in report.verdict_reason
    assert "round(total / quantity, 1)" in (repo / "shop" / "pricing.py").read_text()


def test_an_incomplete_run_names_the_sandboxs_problem_and_runner(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    # A test that writes a second report through the stack: the sandbox refuses the
    # report (the run itself ends ok), and the critic says why, not "run ok".
    forger = (
        "import os, sys\n\n\ndef test_forge():\n    f = sys._getframe()\n"
        "    while 'nonce' not in f.f_locals:\n        f = f.f_back\n"
        "    os.write(f.f_locals['channel'], b'SBXREPORT1 %s 2\\n{}' % f.f_locals['nonce'])\n"
    )
    diff = diff_of(repo, {"tests/test_forge.py": forger})
    mid, report = mission(EditRequest("patch", {"diff": diff}))
    assert report.verdict == "could_not_judge", report
    assert "2 reports on the report channel" in report.reason, report.reason
    assert "run ok" not in report.reason
    run = [d for d in runs(mled, mid) if d.outcome == "incomplete"][-1]
    assert "2 reports" in run.attributes["problem"] and "runner" in run.attributes
    data = decode_test_run(mled.get_blob(TENANT, run.detail.sha256))
    assert "2 reports" in data["problem"] and data["runner"] == run.attributes["runner"]
    # A complete run records which runner made its report.
    (baseline,) = [d for d in runs(mled, mid) if d.attributes["stage"] == "baseline"]
    assert baseline.attributes["runner"] == "the sandbox's unittest runner"


def test_the_summary_says_when_a_change_edits_the_tests_that_judge_it(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from swarm.cli import main

    pricing = (repo / "shop" / "pricing.py").read_text()
    broken = pricing.replace("round(total / quantity, 2)", "round(total / quantity + 1, 2)")
    tests = (repo / "tests" / "test_pricing.py").read_text().replace("2.5)", "3.5)")
    diff = tmp_path / "judge.diff"
    diff.write_text(diff_of(repo, {"shop/pricing.py": broken, "tests/test_pricing.py": tests}))
    code = main(["mission", "patch", "--repo", str(repo), str(diff), "--allow-unverified"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "verdict: unverified" in out and "the change edits the tests that judge it" in out
    assert "test code changed: 1 file(s); the original tests ran against the new code too" in out
    assert "accepted" not in out


def test_an_add_param_that_edits_test_call_sites_is_judged_by_the_original_tests(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    # Its call-site value is an arbitrary expression, so its test edits are no codemod's
    # word swap; the original tests still call the function, whose new parameter has a
    # default, so they judge it.
    request = EditRequest(
        "add_param",
        {"function": "calculate_total", "param": "rounding", "default": "2", "value": "2"},
    )
    mid, report = mission(request)
    assert report.ok and report.verdict == "accepted", report
    assert (
        "calculate_total([10.0, 5.0], rounding=2)"
        in (repo / "tests" / "test_pricing.py").read_text()
    )
    check = _verdict_decision(mled, mid).test_code
    assert check.rule == pb.TEST_CODE_RULE_ORIGINAL_TESTS and not check.original_failing
    assert "tests/test_pricing.py" in {f.path for f in check.files}
    assert {d.attributes["stage"] for d in runs(mled, mid)} == {"baseline", "original", "full"}
