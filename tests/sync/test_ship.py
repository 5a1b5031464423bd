"""Shipping: order, batches, blobs, cursor, idempotent re-runs, transient hub failures."""

from __future__ import annotations

from pathlib import Path

import pytest

import ledger
import sync
from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from tests.sync._helpers import (
    GRANT,
    FlakyEngine,
    assert_hub_mirrors_edge,
    change,
    decision,
    event_ids,
    fill,
)
from tests.sync.conftest import MemoryLedgers

T, P = "acme", "shop"
FAST = sync.RetryPolicy(attempts=30, base_s=0.0005, cap_s=0.005)


def _edge(edge: Ledger, n: int = 200) -> None:
    edge.create_tenant(T)
    edge.create_project(T, P)
    fill(edge, T, P, n)


def test_ships_every_event_in_order_with_blobs(pair: tuple[Ledger, Ledger]) -> None:
    edge, hub = pair
    _edge(edge)
    report = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT, batch_events=37).ship()
    assert report.landed == len(event_ids(edge, T, P))
    assert report.duplicates == 0 and report.conflicts == []
    assert report.projects[0].batches > 1
    assert_hub_mirrors_edge(edge, hub, T, P)


def test_keeps_edge_times_and_payloads(pair: tuple[Ledger, Ledger]) -> None:
    edge, hub = pair
    _edge(edge, 40)
    sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    by_id = {r.event.event_id: r.event for r in hub.iter_events(T, P)}
    for rec in edge.iter_events(T, P):
        landed = by_id[rec.event.event_id]
        # The hub's project is dated just before the edge's, so every edge time is kept.
        assert landed.time_us == rec.event.time_us
        assert landed == rec.event


def test_second_run_ships_only_what_is_new(pair: tuple[Ledger, Ledger]) -> None:
    edge, hub = pair
    _edge(edge, 50)
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT)
    first = shipper.ship()
    assert shipper.ship().landed == 0
    edge.append(T, P, [decision("later")])
    again = shipper.ship()
    assert (again.landed, again.duplicates) == (1, 0)
    cursor = shipper.cursor(T, P)
    assert cursor.versionstamp == edge.head(T, P)
    assert cursor.handled == first.landed + 1
    assert_hub_mirrors_edge(edge, hub, T, P)


def test_lost_cursor_resends_and_hub_lands_nothing_twice(pair: tuple[Ledger, Ledger]) -> None:
    """The crash window between the hub's commit and the cursor write, forced."""
    edge, hub = pair
    _edge(edge, 80)
    sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    edge.set_cursor(T, P, sync.CURSOR_PREFIX + "hq", sync.Cursor("hq", None, 0, 0).encode())
    report = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT, batch_events=13).ship()
    assert report.landed == 0
    assert report.duplicates == len(event_ids(edge, T, P))
    assert_hub_mirrors_edge(edge, hub, T, P)


def test_each_hub_has_its_own_cursor(tmp_path: Path, mem: MemoryLedgers) -> None:
    edge, hub1, hub2 = (mem() for _ in range(3))
    _edge(edge, 30)
    sync.Shipper(edge, hub1, hub_name="one", grant=GRANT).ship()
    assert sync.Shipper(edge, hub2, hub_name="two", grant=GRANT).ship().landed == len(
        event_ids(edge, T, P)
    )
    assert_hub_mirrors_edge(edge, hub2, T, P)


def test_ships_every_tenant_and_project_or_only_the_named_one(mem: MemoryLedgers) -> None:
    edge, hub = mem(), mem()
    for t in ("a", "b"):
        edge.create_tenant(t)
        for p in ("x", "y"):
            edge.create_project(t, p)
            edge.append(t, p, [decision(f"{t}{p}")])
    grant = sync.SyncGrant.of(["a", "b"], holder="test grant")
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=grant)
    only = shipper.ship("a", "y")
    assert [(r.tenant, r.project) for r in only.projects] == [("a", "y")]
    assert hub.tenants() == ["a"]
    everything = shipper.ship()
    assert len(everything.projects) == 4
    for t in ("a", "b"):
        for p in ("x", "y"):
            assert_hub_mirrors_edge(edge, hub, t, p)


def test_batches_stay_under_the_byte_budget(mem: MemoryLedgers) -> None:
    edge, hub = mem(), mem()
    edge.create_tenant(T)
    edge.create_project(T, P)
    big = "x" * 90_000  # near the 100 KB value limit: 12 of them exceed a 1 MB budget
    edge.append(T, P, [decision(big) for _ in range(12)])
    report = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT, batch_bytes=1_000_000).ship()
    assert report.projects[0].batches >= 2
    assert_hub_mirrors_edge(edge, hub, T, P)


def test_decision_detail_blobs_travel_and_missing_ones_do_not_block(mem: MemoryLedgers) -> None:
    edge, hub = mem(), mem()
    edge.create_tenant(T)
    edge.create_project(T, P)
    stored = edge.put_blob(T, b"test output\n" * 100)
    with_detail = decision("ran tests")
    with_detail.decision.detail.CopyFrom(pb.BlobRef(sha256=stored.sha256, size=stored.size))
    dangling = decision("refers to a blob the edge never stored")
    dangling.decision.detail.CopyFrom(pb.BlobRef(sha256=b"\x01" * 32, size=3))
    edge.append(T, P, [with_detail, dangling])
    sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    assert hub.get_blob(T, stored.sha256) == b"test output\n" * 100
    assert_hub_mirrors_edge(edge, hub, T, P)


def test_transient_hub_failures_one_commit_in_five_still_exactly_once(tmp_path: Path) -> None:
    edge = ledger.open_ledger(f"sqlite://{tmp_path / 'edge.sqlite'}?sync=normal")
    _edge(edge, 300)
    flaky = FlakyEngine(ledger.open_engine(f"sqlite://{tmp_path / 'hub.sqlite'}?sync=normal"))
    hub = Ledger(flaky)
    report = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT, batch_events=20, retry=FAST).ship()
    assert flaky.failures >= 5
    assert report.landed + report.duplicates == len(event_ids(edge, T, P))
    assert report.duplicates >= 1  # some commits landed and then reported an error
    assert_hub_mirrors_edge(edge, Ledger(flaky.inner), T, P)


def test_hub_down_for_good_stops_with_the_cursor_where_it_was(mem: MemoryLedgers) -> None:
    edge = mem()
    _edge(edge, 20)
    dead = FlakyEngine(ledger.open_engine("memory:"), every=1)
    shipper = sync.Shipper(
        edge,
        Ledger(dead),
        hub_name="hq",
        grant=GRANT,
        retry=sync.RetryPolicy(attempts=3, base_s=0, cap_s=0),
    )
    with pytest.raises(sync.HubUnavailable) as info:
        shipper.ship()
    assert info.value.attempts == 3
    assert "run sync again" in str(info.value)
    assert shipper.cursor(T, P).versionstamp is None


def test_an_id_the_hub_holds_in_another_project_is_a_recorded_conflict(mem: MemoryLedgers) -> None:
    """It used to stop the project for good; now it is parked and the rest ships."""
    edge, hub = mem(), mem()
    edge.create_tenant(T)
    edge.create_project(T, P)
    ev = decision("mine")
    after = decision("after it")
    edge.append(T, P, [ev, after])
    hub.create_tenant(T)
    hub.create_project(T, "other")
    hub.append(T, "other", [ev])
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT)
    report = shipper.ship()
    (conflict,) = report.conflicts
    assert conflict.kind == "event_id" and conflict.edge_event_id == ev.event_id
    assert "in project 'other'" in conflict.reason
    assert hub.find_event(T, ev.event_id)[0] == "other"  # type: ignore[index]
    assert hub.find_event(T, after.event_id) is not None
    assert shipper.cursor(T, P).versionstamp == edge.head(T, P)
    assert [c.conflict_id for c in sync.conflicts(hub, T, P)] == [conflict.conflict_id]


def test_status_reports_pending_lag_and_cursor(mem: MemoryLedgers) -> None:
    edge, hub = mem(), mem()
    _edge(edge, 30)
    (before,) = sync.sync_status(edge, "hq")
    assert before.shipped_to is None and before.pending == len(event_ids(edge, T, P))
    sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    edge.append(T, P, [decision("a"), decision("b")])
    (after,) = sync.sync_status(edge, "hq")
    assert after.pending == 2
    assert after.lag_us > 0
    assert after.shipped_to is not None and after.edge_head is not None
    assert after.shipped_to < after.edge_head
    assert after.open_conflicts == ()


def test_state_changes_under_edge_locks_ship_without_the_edges_tokens(
    pair: tuple[Ledger, Ledger],
) -> None:
    edge, hub = pair
    edge.create_tenant(T)
    edge.create_project(T, P)
    lock = edge.acquire_lock(T, P, "a.py", "coder-1", ttl_s=60)
    ev = change(edge, T, P, "a.py", b"print(1)\n")
    ev.state_change.fencing_token = lock.token
    edge.append(T, P, [ev])
    edge.release_lock(T, P, "a.py", "coder-1", lock.token)
    sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    assert_hub_mirrors_edge(edge, hub, T, P)
