"""`swarm demo`, as a person and a script run it, and what it refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from swarm.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_demo_json_reports_every_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    assert main(["demo", "--ledger", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    steps = [s["step"] for s in out["steps"]]
    assert "refused a stale token" in steps and "woke on a watch" in steps
    assert main(["demo", "--ledger", url, "--json"]) == 0  # runs again on the same file
    again = json.loads(capsys.readouterr().out)
    assert again["steps"][0]["events_so_far"] == out["steps"][-1]["events"]


def test_demo_refuses_a_bad_ledger_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--ledger", "postgres://db/x"]) == 2
    err = capsys.readouterr().err
    assert "unknown scheme 'postgres'" in err


def test_demo_refuses_a_bad_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["demo", "--ledger", f"sqlite://{tmp_path / 'l.sqlite'}", "--tenant", "Bad Tenant"])
        == 2
    )
    assert "invalid tenant id" in capsys.readouterr().err


def test_demo_as_a_real_process_on_the_default_ledger(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "swarm", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "woke on a watch" in done.stdout
    assert (tmp_path / ".swarm" / "ledger.sqlite").exists()
