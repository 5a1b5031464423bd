"""Crash and resume: a real mission process SIGKILLed mid-mission, then resumed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ledger
from swarm.missions import MissionOptions, load_view, run_mission, start_mission
from tests.swarm.missions.conftest import RENAME, ROOT, generate_repo, snapshot

MID = "m00c0ffee0001"


def _swarm(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SWARM_LEDGER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "swarm", "mission", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _project_exists(led: ledger.Ledger) -> bool:
    try:
        led.head("local", "crashed")
    except (ledger.UnknownTenant, ledger.UnknownProject):
        return False
    return True


@pytest.mark.slow
def test_a_mission_killed_mid_way_resumes_to_the_same_files_with_no_change_applied_twice(
    tmp_path: Path,
) -> None:
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    generate_repo(crashed, 60, seed=11)
    shutil.copytree(crashed, clean)

    # The uninterrupted run, for comparison.
    with ledger.open_ledger(f"sqlite://{tmp_path / 'clean.sqlite'}") as led:
        mid = start_mission(
            led, "t", "clean", clean, RENAME, options=MissionOptions(coders=2, run_tests=False)
        )
        assert run_mission(led, "t", "clean", mid).ok

    proc = _swarm(
        "rename",
        "--repo",
        str(crashed),
        "calculate_total",
        "compute_order_total",
        "--no-tests",
        "--coders",
        "2",
        "--step-delay",
        "0.1",
        "--mission-id",
        MID,
    )
    db = crashed / ".swarm" / "ledger.sqlite"
    deadline = time.monotonic() + 60
    while not db.exists():  # the child creates the ledger; nothing to watch before that
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    with ledger.open_ledger(f"sqlite://{db}") as led:
        # The file exists before the child's first transaction creates the tenant and
        # project; until then there is nothing to watch, so wait for them to appear.
        while not _project_exists(led):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        head = None
        landed = 0
        while landed < 8:
            assert time.monotonic() < deadline, "the mission never got going"
            assert proc.poll() is None, proc.communicate()
            try:
                led.wait_for_append("local", "crashed", head, 5)
            except (
                ledger.UnknownTenant,
                ledger.UnknownProject,
            ):  # the child checks the symbol first
                time.sleep(0.05)
                continue
            head = led.head("local", "crashed")
            landed = sum(
                1
                for r in led.history("local", "crashed", mission=MID)
                if r.kind == "state_change" and r.event.agent_id.startswith("coder-")
            )
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        view = load_view(led, "local", "crashed", MID)
        assert view.finished is None
        done_at_kill = sum(
            1 for t in view.tickets.values() if t.ticket.kind == "coder" and t.terminal
        )
        assert done_at_kill < len([t for t in view.tickets.values() if t.ticket.kind == "coder"])

    resumed = _swarm("resume", MID, "--repo", str(crashed), "--json")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["outcome"] == "succeeded"

    assert snapshot(crashed) == snapshot(clean)
    with ledger.open_ledger(f"sqlite://{db}") as led:
        view = load_view(led, "local", "crashed", MID)
        assert view.runs == 2
        ids = [c.event_id for c in view.changes]
        assert len(ids) == len(set(ids))
        by_path: dict[str, list[bytes]] = {}
        for c in view.changes:
            if c.agent_id.startswith("coder-"):
                by_path.setdefault(c.path, []).append(c.new)
            # every change chains from the head before it: none was applied on top of itself
            assert c.previous != c.new
        assert all(len(v) == 1 for v in by_path.values()), {
            p: len(v) for p, v in by_path.items() if len(v) > 1
        }
        assert len(by_path) == len(report["files_changed"])
        heads = {f.path: f.sha256.hex() for f in led.files("local", "crashed")}
        assert heads == snapshot(crashed)
