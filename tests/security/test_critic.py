"""Attacks on the critic's verdict: a patch that breaks the code and rewrites its judge.

Each attack is a real ``mission patch`` on a copy of examples/sample_repo, run
through the real sandbox with a real sqlite ledger. The patch makes
``calculate_total`` subtract the tax (the sample's tests catch that) and edits the
test code so the edited suite reports a pass: by monkeypatching unittest, by a
pytest plugin, or by walking the stack to the runner's report channel and writing
a complete all-passed report. ADR 0009 says the sandbox cannot stop these from
inside one interpreter; the critic's rule (ADR 0007, "A change does not judge
itself") must keep every one of them from ending "accepted", roll the change back,
and leave a folder outside the repository byte-identical.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest
from swarm.missions import (
    MissionOptions,
    MissionReport,
    load_view,
    run_mission,
    start_mission,
    walk_repo,
)
from tests.security._outside import Outside

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"
TENANT, PROJECT = "acme", "shop"

BREAK = (
    "    return round(sum(prices) * (1.0 + tax), 2)",
    "    return round(sum(prices) * (1.0 - tax), 2)",
)

# A break only tests/test_pricing.py catches (unit_price is used nowhere else).
BREAK_UNIT = ("    return round(total / quantity, 2)", "    return round(total / quantity + 1, 2)")

# Every assertEqual passes: failures become passes without touching the report channel.
PATCH_UNITTEST = """import unittest

unittest.TestCase.assertEqual = lambda self, first, second, msg=None: None
"""

# Walks to the runner's ``main`` for its channel and nonce, lists every test the host
# will look for (with the runner's own discovery functions), writes one complete
# all-passed report, and ends the process before the runner can send the real one.
STACK_FORGER = """import json
import os
import sys
import unittest


def _forge():
    frame = sys._getframe()
    while frame is not None and "nonce" not in frame.f_locals:
        frame = frame.f_back
    assert frame is not None, "runner frame not found"
    channel, nonce = frame.f_locals["channel"], frame.f_locals["nonce"]
    runner = frame.f_globals
    names = []
    for path in runner["test_files"]():
        if path.endswith("test_pricing.py"):
            continue  # this very module, half imported: its ids are known
        module = runner["import_test_file"](path)
        stack = [unittest.TestLoader().loadTestsFromModule(module)]
        while stack:
            suite = stack.pop()
            for t in suite:
                stack.append(t) if isinstance(t, unittest.TestSuite) else names.append(t.id())
    names += [f"tests.test_pricing.PricingTest.{n}" for n in ("test_total_with_tax", "test_x")]
    items = [[n, "passed", ""] for n in names]
    body = json.dumps({"framework": "unittest", "runner": "forged", "items": items}).encode()
    os.write(channel, b"SBXREPORT1 %s %d\\n%s" % (nonce, len(body), body))
    os._exit(0)


_forge()


class PricingTest(unittest.TestCase):
    def test_total_with_tax(self):
        pass

    def test_x(self):
        pass
"""

# A pytest plugin (conftest.py also switches the sandbox to pytest) that reports every
# failing test as passed.
CONFTEST_FORGER = """import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
"""


def diff_of(root: Path, files: Mapping[str, str | None]) -> str:
    """A unified diff taking ``root``'s files to ``files`` (path -> new text; None deletes)."""
    out: list[str] = []
    for path, new in files.items():
        old_file = root / path
        old = old_file.read_text() if old_file.exists() else None
        a = (old or "").splitlines(keepends=True)
        b = (new or "").splitlines(keepends=True)
        src = f"a/{path}" if old is not None else "/dev/null"
        dst = f"b/{path}" if new is not None else "/dev/null"
        out.extend(difflib.unified_diff(a, b, src, dst))
    return "".join(out)


def broken_pricing(root: Path, change: tuple[str, str] = BREAK) -> str:
    text = (root / "shop" / "pricing.py").read_text()
    assert change[0] in text
    return text.replace(*change)


def snapshot(root: Path) -> dict[str, str]:
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest() for p in walk_repo(root)}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    dest = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    return dest


@pytest.fixture
def led(tmp_path: Path) -> Iterator[ledger.Ledger]:
    with ledger.open_ledger(f"sqlite://{tmp_path / 'ledger.sqlite'}") as opened:
        yield opened


def patch_mission(
    led: ledger.Ledger, repo: Path, diff: str, **options: object
) -> tuple[str, MissionReport]:
    opts = MissionOptions(coders=2, backoff_s=0.0, **options)  # type: ignore[arg-type]
    mid = start_mission(
        led, TENANT, PROJECT, repo, EditRequest("patch", {"diff": diff}), options=opts
    )
    return mid, run_mission(led, TENANT, PROJECT, mid)


def stage_outcomes(led: ledger.Ledger, mid: str) -> dict[str, str]:
    """stage -> outcome of the mission's test runs ("pass", "reject", "incomplete", ...)."""
    view = load_view(led, TENANT, PROJECT, mid)
    return {
        d.event.decision.attributes["stage"]: d.event.decision.outcome
        for d in view.decisions
        if d.event.decision.kind in ("critic.baseline", "critic.tests")
    }


def verdict_of(led: ledger.Ledger, mid: str) -> pb.Decision:
    view = load_view(led, TENANT, PROJECT, mid)
    (verdict,) = view.decision("critic.verdict")
    return verdict.event.decision


def test_a_new_test_file_that_patches_unittest_does_not_get_a_broken_change_accepted(
    led: ledger.Ledger, repo: Path, outside: Outside
) -> None:
    before = snapshot(repo)
    diff = diff_of(
        repo,
        {"shop/pricing.py": broken_pricing(repo), "tests/test_a_forge.py": PATCH_UNITTEST},
    )
    mid, report = patch_mission(led, repo, diff)
    assert report.verdict == "rejected" and report.outcome == "failed"
    # The forgery fooled the edited suite; the original tests, against the new code, did not.
    assert stage_outcomes(led, mid) == {"baseline": "recorded", "original": "reject"}
    assert "test_total_with_tax" in report.reason
    assert "an original test the change did not edit" in report.reason
    verdict = verdict_of(led, mid)
    assert verdict.test_code.rule == pb.TEST_CODE_RULE_ORIGINAL_TESTS
    assert [(f.path, f.reason) for f in verdict.test_code.files] == [
        ("tests/test_a_forge.py", "a test file")
    ]
    assert any("test_total_with_tax" in n for n in verdict.test_code.original_failing)
    assert snapshot(repo) == before  # rolled back
    outside.assert_untouched()


@pytest.mark.parametrize("allow_unverified", [False, True])
def test_a_rewritten_test_file_that_forges_the_report_through_the_stack_is_not_accepted(
    led: ledger.Ledger, repo: Path, outside: Outside, allow_unverified: bool
) -> None:
    before = snapshot(repo)
    diff = diff_of(
        repo,
        {
            "shop/pricing.py": broken_pricing(repo, BREAK_UNIT),
            "tests/test_pricing.py": STACK_FORGER,
        },
    )
    mid, report = patch_mission(led, repo, diff, allow_unverified=allow_unverified)
    assert report.verdict != "accepted" and "accepted" not in report.reason
    outcomes = stage_outcomes(led, mid)
    # The consistent forgery is complete and all-passed: only the original tests tell.
    assert outcomes["full"] == "pass" and outcomes["original"] == "reject", outcomes
    assert "the change edits the tests that judge it" in report.verdict_reason
    verdict = verdict_of(led, mid)
    assert verdict.test_code.judge_run.endswith(".tests.original")
    assert [f.path for f in verdict.test_code.files] == ["tests/test_pricing.py"]
    if allow_unverified:  # kept, as asked, and marked so: never "accepted"
        assert report.verdict == "unverified" and report.outcome == "succeeded"
        assert verdict.verdict == pb.CRITIC_VERDICT_UNVERIFIED
    else:
        assert report.verdict == "could_not_judge" and report.outcome == "failed"
        assert "--allow-unverified" in report.reason
        assert snapshot(repo) == before  # rolled back
    outside.assert_untouched()


def test_a_conftest_plugin_that_turns_failures_into_passes_is_not_accepted(
    led: ledger.Ledger, repo: Path, outside: Outside
) -> None:
    before = snapshot(repo)
    diff = diff_of(repo, {"shop/pricing.py": broken_pricing(repo), "conftest.py": CONFTEST_FORGER})
    mid, report = patch_mission(led, repo, diff)
    assert report.verdict == "could_not_judge" and report.outcome == "failed"
    assert "the change edits the tests that judge it" in report.reason
    # The plugin fooled the edited suite (pytest, since the patch added a conftest.py).
    assert stage_outcomes(led, mid) == {
        "baseline": "recorded",
        "original": "reject",
        "full": "pass",
    }
    verdict = verdict_of(led, mid)
    assert [(f.path, f.reason) for f in verdict.test_code.files] == [
        ("conftest.py", "conftest.py (a pytest plugin)")
    ]
    assert snapshot(repo) == before
    outside.assert_untouched()


def test_deleting_the_tests_that_catch_a_break_does_not_get_it_accepted(
    led: ledger.Ledger, repo: Path, outside: Outside
) -> None:
    before = snapshot(repo)
    diff = diff_of(repo, {"shop/pricing.py": broken_pricing(repo), "tests/test_pricing.py": None})
    _, report = patch_mission(led, repo, diff)
    assert report.verdict in ("rejected", "could_not_judge") and report.outcome == "failed"
    assert snapshot(repo) == before
    outside.assert_untouched()


def test_swarm_sandbox_test_prints_why_a_forged_report_was_refused(
    tmp_path: Path, outside: Outside, capsys: pytest.CaptureFixture[str]
) -> None:
    from swarm.cli import main

    project = tmp_path / "p"
    project.mkdir()
    (project / "test_forge.py").write_text(
        "import os, sys\n\n\ndef test_forge():\n    f = sys._getframe()\n"
        "    while 'nonce' not in f.f_locals:\n        f = f.f_back\n"
        "    os.write(f.f_locals['channel'], b'SBXREPORT1 %s 2\\n{}' % f.f_locals['nonce'])\n"
    )
    assert main(["sandbox", "test", str(project)]) == 1
    out = capsys.readouterr().out
    assert "INCOMPLETE (2 reports on the report channel" in out and "ok:" not in out
    assert main(["sandbox", "test", str(project), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["complete"] is False and "2 reports" in data["problem"]
    assert "runner" in data
    outside.assert_untouched()
