"""Locks: four coders on 200 files never hold one file at once; a person's lock is respected."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest
from swarm.missions import InvalidMission, MissionOptions, load_view, run_mission, start_mission
from tests.swarm.missions.conftest import (
    ON_BOTH_ENGINES,
    PROJECT,
    RENAME,
    TENANT,
    generate_repo,
    snapshot,
)

pytestmark = ON_BOTH_ENGINES  # sqlite, and sqlite held to FoundationDB's semantics

_GRANT, _FREE = (
    pb.SIGNAL_KIND_LOCK_ACQUIRED,
    (pb.SIGNAL_KIND_LOCK_RELEASED, pb.SIGNAL_KIND_LOCK_EXPIRED),
)


def _holders_never_overlap(led: ledger.Ledger, path: str) -> list[str]:
    """Walk the file's lock history; return the holders in grant order (asserting no overlap)."""
    holder: str | None = None
    grants: list[str] = []
    for rec in led.history(TENANT, PROJECT, path=path):
        if rec.kind != "signal":
            continue
        sig = rec.event.signal
        who = rec.event.agent_id
        if sig.kind == _GRANT:
            assert holder is None, f"{path}: {who} granted while {holder} held it"
            holder = who
            grants.append(who)
        elif sig.kind in _FREE:
            assert holder == who, f"{path}: {who} released a lock held by {holder}"
            holder = None
    assert holder is None, f"{path}: still held by {holder}"
    return grants


def test_four_coders_on_200_files_never_hold_one_file_at_once(
    mled: ledger.Ledger, tmp_path: Path
) -> None:
    root = tmp_path / "gen"
    generate_repo(root, 200, seed=3)
    opts = MissionOptions(coders=4, run_tests=False, backoff_s=0.0)
    mid = start_mission(mled, TENANT, PROJECT, root, RENAME, options=opts)
    report = run_mission(mled, TENANT, PROJECT, mid)
    assert report.ok, report
    assert len(report.files_changed) > 100
    view = load_view(mled, TENANT, PROJECT, mid)
    coders_used = set()
    for path in report.files_changed:
        grants = _holders_never_overlap(mled, path)
        assert len(grants) == 1 and grants[0].startswith("coder-")
        coders_used.add(grants[0])
    assert len(coders_used) >= 2  # the work really was shared
    assert not [c for c in view.changes if c.agent_id.startswith("coder-") and c.reverts]
    assert {f.path: f.sha256.hex() for f in mled.files(TENANT, PROJECT)} == snapshot(root)
    assert mled.locks(TENANT, PROJECT) == []


def test_a_file_a_person_holds_waits_and_the_rest_proceed(mled: ledger.Ledger, repo: Path) -> None:
    opts = MissionOptions(coders=2, run_tests=False, ticket_timeout_s=60.0, backoff_s=0.0)
    mid = start_mission(mled, TENANT, PROJECT, repo, RENAME, options=opts)
    human = mled.acquire_lock(TENANT, PROJECT, "shop/pricing.py", "human:alice", ttl_s=120)
    others_done = threading.Event()
    expected_others = 5

    def alice() -> None:
        # Alice lets go only once every other file is done: proof the rest did not wait for her.
        head = None
        while True:
            view = load_view(mled, TENANT, PROJECT, mid)
            done = [
                t
                for t in view.tickets.values()
                if t.ticket.kind == "coder" and t.state == pb.TICKET_STATE_DONE
            ]
            if len(done) >= expected_others:
                others_done.set()
                mled.release_lock(TENANT, PROJECT, "shop/pricing.py", "human:alice", human.token)
                return
            mled.wait_for_append(TENANT, PROJECT, head, 10)
            head = mled.head(TENANT, PROJECT)

    th = threading.Thread(target=alice)
    th.start()
    report = run_mission(mled, TENANT, PROJECT, mid)
    th.join()
    assert others_done.is_set()
    assert report.ok, report
    assert "def compute_order_total(" in (repo / "shop" / "pricing.py").read_text()
    grants = _holders_never_overlap(mled, "shop/pricing.py")
    assert grants[0] == "human:alice" and grants[1].startswith("coder-")


def test_a_lock_a_person_never_releases_fails_that_ticket_and_the_mission_rolls_back(
    mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    opts = MissionOptions(coders=2, run_tests=False, ticket_timeout_s=1.0, backoff_s=0.0)
    mid = start_mission(mled, TENANT, PROJECT, repo, RENAME, options=opts)
    mled.acquire_lock(TENANT, PROJECT, "shop/cart.py", "human:bob", ttl_s=300)
    report = run_mission(mled, TENANT, PROJECT, mid)
    assert report.outcome == "failed"
    (why,) = report.failed_tickets.values()
    assert "shop/cart.py is locked by human:bob" in why and "waiting 1s" in why
    view = load_view(mled, TENANT, PROJECT, mid)
    landed = [c for c in view.changes if c.agent_id.startswith("coder-")]
    assert len(landed) >= 4  # the other files proceeded ...
    assert snapshot(repo) == before  # ... and were compensated when the mission failed
    held = mled.get_lock(TENANT, PROJECT, "shop/cart.py")
    assert held is not None and held.holder == "human:bob"


def test_add_param_updates_definition_and_call_sites(mled: ledger.Ledger, repo: Path) -> None:
    req = EditRequest("add_param", {"function": "percent_off", "param": "floor", "default": "0.0"})
    mid = start_mission(
        mled, TENANT, PROJECT, repo, req, options=MissionOptions(coders=2, run_tests=False)
    )
    report = run_mission(mled, TENANT, PROJECT, mid)
    assert report.ok, report
    assert "floor=0.0" in (repo / "shop" / "discounts.py").read_text()


def test_a_locked_file_the_ledger_never_held_refuses_the_mission_before_anything_lands(
    mled: ledger.Ledger, repo: Path
) -> None:
    # Not imported, the file would be invisible to the scout and the rename would miss it.
    mled.create_tenant(TENANT)
    mled.create_project(TENANT, PROJECT)
    mled.acquire_lock(TENANT, PROJECT, "shop/cart.py", "human:bob", ttl_s=300)
    before = snapshot(repo)
    with pytest.raises(InvalidMission, match=r"shop/cart.py is locked by human:bob and was never"):
        start_mission(mled, TENANT, PROJECT, repo, RENAME, options=MissionOptions(run_tests=False))
    assert mled.files(TENANT, PROJECT) == []
    assert snapshot(repo) == before
