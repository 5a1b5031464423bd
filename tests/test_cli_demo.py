"""`swarm demo` (the daemon runs a mission) and `swarm demo ledger`, as a person and a script run them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from swarm.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_demo_json_reports_every_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    assert main(["demo", "ledger", "--ledger", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    steps = [s["step"] for s in out["steps"]]
    assert "refused a stale token" in steps and "woke on a watch" in steps
    assert main(["demo", "ledger", "--ledger", url, "--json"]) == 0  # runs again on the same file
    again = json.loads(capsys.readouterr().out)
    assert again["steps"][0]["events_so_far"] == out["steps"][-1]["events"]


def test_demo_refuses_a_bad_ledger_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "ledger", "--ledger", "postgres://db/x"]) == 2
    err = capsys.readouterr().err
    assert "unknown scheme 'postgres'" in err


def test_demo_refuses_a_bad_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "demo",
                "ledger",
                "--ledger",
                f"sqlite://{tmp_path / 'l.sqlite'}",
                "--tenant",
                "Bad Tenant",
            ]
        )
        == 2
    )
    assert "invalid tenant id" in capsys.readouterr().err


def run_demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swarm", "demo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(cwd)},
    )


def test_the_ledger_tour_as_a_real_process_on_the_default_ledger(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "ledger")
    assert done.returncode == 0, done.stderr
    assert "woke on a watch" in done.stdout
    assert (tmp_path / ".swarm" / "ledger.sqlite").exists()


def test_the_quick_start_demo_runs_a_mission_through_a_real_daemon(tmp_path: Path) -> None:
    """The README's first command: a daemon on the default ledger, a mission over gRPC, a stop."""
    done = run_demo(tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    steps = {s["step"]: s for s in out["steps"]}
    assert steps["health check"]["status"] == "SERVING"
    assert steps["mission succeeded"]["files_changed"] == 6
    assert steps["stopped the daemon"]["exit_code"] == 0
    # The stream carried the whole mission once, in ledger order, ending with its finish.
    cursors = [e["cursor"] for e in out["events"]]
    assert cursors == sorted(set(cursors))
    assert out["events"][-1]["what"].startswith("signal mission_finished")
    assert any(
        e["agent"].startswith("coder-") and e["kind"] == "state_change" for e in out["events"]
    )
    # The daemon changed the copy, not the sample, and the ledger holds what the stream showed.
    workspace = Path(out["workspace"])
    assert "def compute_order_total" in (workspace / "shop" / "pricing.py").read_text()
    assert "def calculate_total" in (ROOT / "examples/sample_repo/shop/pricing.py").read_text()
    led = ledger.open_ledger(f"sqlite://{tmp_path / '.swarm' / 'ledger.sqlite'}")
    with led:
        mission_id = steps["submitted a mission"]["mission_id"]
        story = led.history(out["tenant"], out["project"], mission=mission_id)
        assert [str(r.versionstamp) for r in story] == cursors
    # The daemon's log is JSON lines, and it stopped cleanly.
    log = (tmp_path / ".swarm" / "demo-serve.log").read_text().splitlines()
    assert any(
        json.loads(line).get("mission_id") == mission_id for line in log if line.startswith("{")
    )
    # A second run on the same ledger works on a fresh copy in a fresh project.
    again = run_demo(tmp_path, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["project"] != out["project"]


def test_the_demo_refuses_a_missing_repo_and_a_taken_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    assert main(["demo", "--ledger", url, "--repo", str(tmp_path / "nope")]) == 2
    assert "not a folder with Python files" in capsys.readouterr().err
    (tmp_path / "ws" / "taken").mkdir(parents=True)
    args = ["demo", "--ledger", url, "--workspaces", str(tmp_path / "ws"), "--project", "taken"]
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert not (tmp_path / "l.sqlite").exists()  # refused before anything was written
    assert (
        main(["demo", "--ledger", url, "--workspaces", str(tmp_path / "ws"), "--tenant", "A B"])
        == 2
    )
    assert "invalid tenant id" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == ["taken"]
