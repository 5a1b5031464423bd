"""--follow wakes on watches; every boundary refuses bad input with a clear SyncError."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import ledger
import sync
from tests.sync._helpers import GRANT, assert_hub_mirrors_edge, decision
from tests.sync.conftest import MemoryLedgers

T, P = "acme", "shop"


def _wait_until(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def _landed(hub: ledger.Ledger, event_id: str) -> bool:
    return T in hub.tenants() and hub.find_event(T, event_id) is not None


def test_follow_ships_new_appends_across_projects_and_stops(tmp_path: Path) -> None:
    edge = ledger.open_ledger(f"sqlite://{tmp_path / 'edge.sqlite'}?sync=normal")
    hub = ledger.open_ledger(f"sqlite://{tmp_path / 'hub.sqlite'}?sync=normal")
    edge.create_tenant(T)
    for p in ("one", "two"):
        edge.create_project(T, p)
    stop = threading.Event()
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT)
    # A long wake timeout: only the watches can make this test finish promptly.
    runner = threading.Thread(
        target=shipper.follow, kwargs={"stop": stop, "wake_timeout_s": 30.0}, daemon=True
    )
    runner.start()
    try:
        for p in ("one", "two"):
            ev = decision(p)
            edge.append(T, p, [ev])
            assert _wait_until(lambda ev=ev: _landed(hub, ev.event_id))
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
    for p in ("one", "two"):
        assert_hub_mirrors_edge(edge, hub, T, p)


def test_follow_rides_out_an_unreachable_hub(mem: MemoryLedgers) -> None:
    from tests.sync._helpers import FlakyEngine

    edge = mem()
    edge.create_tenant(T)
    edge.create_project(T, P)
    flaky = FlakyEngine(ledger.open_engine("memory:"), every=1)  # down
    policy = sync.RetryPolicy(attempts=2, base_s=0, cap_s=0.01)
    shipper = sync.Shipper(edge, ledger.Ledger(flaky), hub_name="hq", grant=GRANT, retry=policy)
    stop = threading.Event()
    seen: list[sync.HubUnavailable] = []

    def unavailable(exc: sync.HubUnavailable) -> None:
        seen.append(exc)
        if len(seen) == 3:
            flaky.every = 10**9  # the hub comes back

    runner = threading.Thread(
        target=shipper.follow,
        kwargs={"stop": stop, "wake_timeout_s": 0.05, "on_unavailable": unavailable},
        daemon=True,
    )
    runner.start()
    try:
        assert _wait_until(lambda: shipper.cursor(T, P).versionstamp == edge.head(T, P))
    finally:
        stop.set()
        runner.join(timeout=10)
    assert len(seen) >= 3
    assert_hub_mirrors_edge(edge, ledger.Ledger(flaky.inner), T, P)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hub_name": "Bad Name"}, "hub name 'Bad Name'"),
        ({"hub_name": ""}, "hub name ''"),
        ({"hub_name": "hq", "batch_events": 0}, "batch_events must be between 1 and 10000"),
        ({"hub_name": "hq", "batch_events": 10_001}, "batch_events must be between 1 and 10000"),
        ({"hub_name": "hq", "batch_bytes": 10}, "batch_bytes must be between"),
        ({"hub_name": "hq", "batch_bytes": 9_000_000}, "batch_bytes must be between"),
    ],
)
def test_shipper_refuses_bad_settings(
    kwargs: dict[str, object], message: str, mem: MemoryLedgers
) -> None:
    edge, hub = mem(), mem()
    with pytest.raises(sync.InvalidSyncArgument, match=message):
        sync.Shipper(edge, hub, grant=GRANT, **kwargs)  # type: ignore[arg-type]


def test_same_ledger_both_sides_is_refused(mem: MemoryLedgers) -> None:
    led = mem()
    with pytest.raises(sync.InvalidSyncArgument, match="same ledger"):
        sync.Shipper(led, led, hub_name="hq", grant=GRANT)


def test_unknown_tenant_or_project_is_refused_and_nothing_is_shipped(mem: MemoryLedgers) -> None:
    edge, hub = mem(), mem()
    edge.create_tenant(T)
    edge.create_project(T, P)
    grant = sync.SyncGrant.of([T, "ghost"], holder="test grant")
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=grant)
    with pytest.raises(sync.InvalidSyncArgument, match="no tenant 'ghost'"):
        shipper.ship("ghost")
    with pytest.raises(sync.InvalidSyncArgument, match="no project 'ghost'"):
        shipper.ship(T, "ghost")
    with pytest.raises(sync.InvalidSyncArgument, match="give the tenant too"):
        shipper.ship(None, P)
    assert hub.tenants() == []


@pytest.mark.parametrize(
    "stored",
    [
        b"not json",
        b'{"format": 9, "hub": "hq"}',
        b'{"format": 1, "hub": "other", "vs": ""}',
        b'{"format": 1, "hub": "hq", "vs": "zz", "handled": 0, "updated_us": 0}',
    ],
)
def test_a_corrupt_cursor_is_refused_and_left_alone(stored: bytes, mem: MemoryLedgers) -> None:
    edge, hub = mem(), mem()
    edge.create_tenant(T)
    edge.create_project(T, P)
    edge.set_cursor(T, P, sync.CURSOR_PREFIX + "hq", stored)
    with pytest.raises(sync.CorruptCursor, match=r"sync cursor 'sync\.to\.hq' of acme/shop"):
        sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    assert edge.get_cursor(T, P, sync.CURSOR_PREFIX + "hq") == stored
    assert hub.tenants() == []


def test_retry_policy_refuses_nonsense_and_jitters_within_the_cap() -> None:
    with pytest.raises(sync.InvalidSyncArgument):
        sync.RetryPolicy(attempts=0)
    with pytest.raises(sync.InvalidSyncArgument):
        sync.RetryPolicy(base_s=-1)
    policy = sync.RetryPolicy(base_s=0.1, cap_s=0.5)
    delays = [policy.delay(n) for n in range(10) for _ in range(20)]
    assert all(0 <= d <= 0.5 for d in delays)
    assert len(set(delays)) > 100  # jittered, not a fixed schedule


def test_transient_and_permanent_errors_are_told_apart() -> None:
    assert sync.is_transient(ledger.Conflict(3, "x"))
    assert sync.is_transient(ledger.EngineUnavailable("fdb", "down"))
    assert not sync.is_transient(ledger.CorruptStore("x", "y"))
    assert not sync.is_transient(ledger.HashChainBroken("a", b"", b""))
    assert not sync.is_transient(ledger.InvalidEvent("e", "bad"))


def test_follow_reports_a_refused_event_and_keeps_shipping_the_other_projects(
    tmp_path: Path,
) -> None:
    edge = ledger.open_ledger(f"sqlite://{tmp_path / 'edge.sqlite'}?sync=normal")
    hub = ledger.open_ledger(f"sqlite://{tmp_path / 'hub.sqlite'}?sync=normal")
    edge.create_tenant(T)
    for p in ("one", "two"):
        edge.create_project(T, p)
    bad = decision("odd")
    bad.mission_id = "m/../x"
    edge.append(T, "one", [bad])
    stopped: list[sync.Refusal] = []
    stop = threading.Event()
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT)
    runner = threading.Thread(
        target=shipper.follow,
        kwargs={
            "stop": stop,
            "wake_timeout_s": 30.0,
            "on_report": lambda r: stopped.extend(r.stopped),
        },
        daemon=True,
    )
    runner.start()
    try:
        assert _wait_until(lambda: bool(stopped))
        later = decision("in the other project")
        edge.append(T, "two", [later])
        assert _wait_until(lambda: _landed(hub, later.event_id))
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()
    assert {r.event_id for r in stopped} == {bad.event_id}
    # The stopped project is retried when the edge records something new, not in a
    # loop: one report at the start, one when project two's append woke the follower.
    assert len(stopped) <= 3
    assert "mission_id" in stopped[0].rule
    assert hub.find_event(T, bad.event_id) is None
