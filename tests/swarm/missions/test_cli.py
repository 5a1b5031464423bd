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
    assert "succeeded" in out and "files changed: 2" in out and "tests: not run" in out
    assert "tickets:" in err  # progress on stderr
    mid = out.split()[1].rstrip(":")
    assert (repo / ".swarm" / "ledger.sqlite").exists()  # the repo carries its own story
    assert main(["mission", "show", mid, "--repo", str(repo)]) == 0
    shown = capsys.readouterr().out
    assert "DAG:" in shown and "edit-00001" in shown and "shop/pricing.py" in shown
    assert "critic.verdict -> accept" in shown
    assert main(["mission", "show", mid, "--repo", str(repo), "--json"]) == 0
    story = json.loads(capsys.readouterr().out)
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
    assert "no mission 'm123456789'" in capsys.readouterr().err
    assert main(["mission", "ask", "--repo", str(repo), "do it", "--brain", "openai"]) == 2
    assert "base_url" in capsys.readouterr().err


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
