"""``swarm mission`` in-process: summary, --json, exit codes, show, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarm.cli import main


def test_rename_prints_a_summary_and_show_prints_the_dag_and_story(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["mission", "rename", "--repo", str(repo), "unit_price", "price_each", "--no-tests"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "succeeded" in out and "files changed: 2" in out
    # --no-tests: the verdict says so; nothing claims the tests passed or ran
    assert "verdict: not tested" in out
    assert "accepted" not in out and "tests before" not in out and "passed" not in out
    assert "tickets:" in err  # progress on stderr
    mid = out.split()[1].rstrip(":")
    assert (repo / ".swarm" / "ledger.sqlite").exists()  # the repo carries its own story
    assert main(["mission", "show", mid, "--repo", str(repo)]) == 0
    shown = capsys.readouterr().out
    assert "DAG:" in shown and "edit-00001" in shown and "shop/pricing.py" in shown
    assert "critic.verdict -> not_tested" in shown and "verdict: not tested" in shown
    assert main(["mission", "show", mid, "--repo", str(repo), "--json"]) == 0
    story = json.loads(capsys.readouterr().out)
    assert story["verdict"] == "not_tested"
    assert story["mission_id"] == mid and {t["state"] for t in story["dag"]} == {"done"}


def test_json_report_and_exit_code_one_when_the_mission_fails(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = tmp_path / "stale.diff"
    diff.write_text(
        "--- a/shop/discounts.py\n+++ b/shop/discounts.py\n@@ -1,1 +1,1 @@\n"
        "-a line the file does not hold\n+x = 1\n"
    )
    code = main(["mission", "patch", "--repo", str(repo), str(diff), "--json", "--no-tests"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["outcome"] == "failed" and report["failed_tickets"]


def test_an_unknown_symbol_is_refused_before_anything_runs_with_the_closest_names(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["mission", "rename", "--repo", str(repo), "unit_prise", "x"])
    err = capsys.readouterr().err
    assert code == 2
    assert "'unit_prise' is not defined" in err and "did you mean unit_price" in err
    # Nothing was written: not even the tenant exists in the repository's ledger.
    assert main(["mission", "list", "--repo", str(repo), "--json"]) == 2
    assert "unknown tenant 'local'" in capsys.readouterr().err


def test_refusals_exit_two_with_a_readable_error(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mission", "rename", "--repo", str(tmp_path / "no"), "a", "b"]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["mission", "rename", "--repo", str(repo), "a", "b", "--coders", "0"]) == 2
    assert "coders must be 1..64" in capsys.readouterr().err
    assert main(["mission", "rename", "--repo", str(repo), "a", "b", "--policy", "bogus"]) == 2
    assert "unknown or empty policy" in capsys.readouterr().err
    assert main(["mission", "show", "m123456789", "--repo", str(repo)]) == 2
    assert "no ledger at" in capsys.readouterr().err  # refused missions made none
    assert main(["mission", "ask", "--repo", str(repo), "do it", "--brain", "openai"]) == 2
    assert "ask needs a model: --model-url and --model" in capsys.readouterr().err


def test_patch_from_a_file(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text(
        "--- a/shop/discounts.py\n+++ b/shop/discounts.py\n@@ -1,1 +1,1 @@\n"
        '-"""Discount rules applied to a cart\'s subtotal."""\n'
        '+"""Discount rules for a cart."""\n'
    )
    assert main(["mission", "patch", "--repo", str(repo), str(diff), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files_changed"] == ["shop/discounts.py"]
    assert (
        (repo / "shop" / "discounts.py").read_text().startswith('"""Discount rules for a cart."""')
    )


def test_the_summary_says_could_not_judge_or_unverified_never_accepted(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A test that never ends: every run stops at its deadline, however fast the machine.
    (repo / "tests" / "test_forever.py").write_text(
        "def test_forever():\n    while True:\n        pass\n"
    )
    argv = ["mission", "rename", "--repo", str(repo), "unit_price", "price_each"]
    assert main([*argv, "--test-timeout", "2"]) == 1
    out = capsys.readouterr().out
    assert "failed" in out and "verdict: could not judge" in out and "did not complete" in out
    assert "accepted" not in out and "tests before: 0 passed" not in out
    assert main([*argv, "--test-timeout", "2", "--allow-unverified", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["outcome"] == "succeeded" and report["verdict"] == "unverified"
    assert "accepted" not in report["reason"]
    mid = report["mission_id"]
    assert main(["mission", "show", mid, "--repo", str(repo)]) == 0
    assert "verdict: unverified" in capsys.readouterr().out


def test_could_not_run_is_a_count_everywhere(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A test the sandbox cannot run (a module that is not there): listed by name, counted.
    (repo / "tests" / "test_native.py").write_text(
        "import no_such_native_module\n\n\ndef test_it():\n    pass\n"
    )
    argv = ["mission", "rename", "--repo", str(repo), "calculate_total", "compute_order_total"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "accepted"
    before, after = report["tests"]["baseline"], report["tests"]["after"]
    assert before["could_not_run"] == 1 and after["counts"]["could_not_run"] == 1
    assert after["could_not_run_names"] == ["tests/test_native.py"]
    assert "could_not_run" not in after  # the names have their own key
