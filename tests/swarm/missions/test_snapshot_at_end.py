"""Missions leave a replay snapshot at their end (issue 6: "every N events and at mission ends")."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import ledger
import replay
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest
from tests.swarm.missions.conftest import (
    HALF_APPLYING_DIFF,
    PROJECT,
    TENANT,
    Mission,
    snapshot,
)


def _finished_at(led: ledger.Ledger, mission_id: str) -> ledger.Versionstamp:
    ends = [
        r.versionstamp
        for r in led.history(TENANT, PROJECT, mission=mission_id, limit=10_000)
        if r.kind == "signal" and r.event.signal.kind == pb.SIGNAL_KIND_MISSION_FINISHED
    ]
    assert len(ends) == 1
    return ends[0]


def _manifest_at(led: ledger.Ledger, vs: ledger.Versionstamp) -> dict[str, str]:
    found = ledger.snapshot_at_or_before(led, TENANT, PROJECT, vs)
    assert found is not None and found[0] == vs, f"no snapshot at {vs}"
    return {p: e.sha256.hex() for p, e in replay.decode_manifest(found[1]).items()}


def test_a_finished_mission_leaves_a_snapshot_of_its_final_files_at_its_end(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    mid, report = mission(run_tests=False)
    assert report.ok, report
    end = _finished_at(mled, mid)
    assert ledger.snapshots(mled, TENANT, PROJECT) == [end]
    assert _manifest_at(mled, end) == snapshot(repo)
    # replay at the end starts from that snapshot and folds nothing after it
    state = replay.Replayer(mled, TENANT, PROJECT).state_at(end)
    assert state.snapshot == end and state.events_folded == 0


def test_a_failed_mission_leaves_a_snapshot_of_the_files_it_restored(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    mid, report = mission(
        EditRequest("patch", {"diff": HALF_APPLYING_DIFF}), coders=1, run_tests=False
    )
    assert report.outcome == "failed"
    assert _manifest_at(mled, _finished_at(mled, mid)) == before == snapshot(repo)


def test_each_mission_end_gets_its_own_snapshot(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    first, _ = mission(run_tests=False)
    after_first = snapshot(repo)
    back = EditRequest("rename", {"old": "compute_order_total", "new": "calculate_total"})
    second, report = mission(back, run_tests=False)
    assert report.ok, report
    ends = [_finished_at(mled, first), _finished_at(mled, second)]
    assert ledger.snapshots(mled, TENANT, PROJECT) == ends
    assert _manifest_at(mled, ends[0]) == after_first
    assert _manifest_at(mled, ends[1]) == snapshot(repo) != after_first


def test_a_snapshot_that_fails_is_logged_and_the_mission_still_succeeds(
    mission: Mission,
    mled: ledger.Ledger,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(self: replay.Replayer, upto: ledger.Versionstamp | None = None) -> None:
        raise replay.ChainBroken("shop/cart.py", str(upto), "a broken chain, for this test")

    monkeypatch.setattr(replay.Replayer, "take_snapshots", refuse)
    with caplog.at_level(logging.WARNING, logger="swarm.missions._orchestrator"):
        mid, report = mission(run_tests=False)
    assert report.ok, report
    assert ledger.snapshots(mled, TENANT, PROJECT) == []
    (record,) = caplog.records
    assert f"no replay snapshot at the end of mission {mid}" in record.getMessage()
    assert record.exc_info is not None and "a broken chain" in str(record.exc_info[1])
