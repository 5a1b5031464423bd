"""Sync ships in batches that stay within FoundationDB's limits, and a crash mid-batch
resumes exactly once (ADR 0015, wire).

Events go to the hub a batch per transaction (at most ``DEFAULT_BATCH_BYTES``
estimated), and the new blobs of a batch in groups of ``BLOB_GROUP_BYTES``,
never one transaction per blob. The sizes are measured on the real sqlite
engine through a wrapper that counts the bytes each committed transaction
wrote (a seam over the engine, not a fake of it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ledger
import sync
from ledger import Ledger
from sync._gate import BLOB_GROUP_BYTES
from sync._ship import DEFAULT_BATCH_BYTES
from tests.sync._helpers import GRANT, assert_hub_mirrors_edge, change, decision, fill

T, P = "acme", "shop"
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("_ship_child.py")


class _Measured:
    """A transaction that adds up the bytes of what it writes, then passes each write on."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.written = 0
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _count(self, key: bytes, value: bytes) -> None:
        self.written += len(key) + len(value)
        self.writes += 1

    def set(self, key: bytes, value: bytes) -> None:
        self._count(key, value)
        self._inner.set(key, value)

    def set_versionstamped_key(self, key: bytes, value: bytes) -> None:
        self._count(key, value)
        self._inner.set_versionstamped_key(key, value)

    def set_versionstamped_value(self, key: bytes, value: bytes) -> None:
        self._count(key, value)
        self._inner.set_versionstamped_value(key, value)


class MeasuringEngine:
    """The real engine; ``sizes`` holds (bytes, writes) of every committed transaction."""

    def __init__(self, inner: ledger.Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.sizes: list[tuple[int, int]] = []

    def transact(self, fn: Callable[[Any], Any]) -> Any:
        last: list[_Measured] = []

        def measured(tr: Any) -> Any:
            last[:] = [_Measured(tr)]  # a re-run closure counts afresh
            return fn(last[0])

        out = self.inner.transact(measured)
        self.sizes.append((last[0].written, last[0].writes))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _edge_with_blobs(url: str, changes: int, blob_bytes: int) -> Ledger:
    edge = ledger.open_ledger(url)
    edge.create_tenant(T)
    edge.create_project(T, P)
    for i in range(changes):
        events = [decision(f"{i}-{j}") for j in range(9)]
        body = f"# {i}\n".encode() + bytes([65 + i % 26]) * blob_bytes
        edge.append(T, P, [*events, change(edge, T, P, f"src/f{i % 50}.py", body)])
    return edge


def test_a_sync_batches_blobs_and_events_within_the_transaction_limits(tmp_path: Path) -> None:
    edge = _edge_with_blobs(f"sqlite://{tmp_path / 'edge.sqlite'}?sync=normal", 400, 20_000)
    engine = MeasuringEngine(ledger.open_engine(f"sqlite://{tmp_path / 'hub.sqlite'}?sync=normal"))
    hub = Ledger(engine)
    report = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    assert report.landed == 4001 and report.projects[0].blobs == 400  # ~8 MB of blobs
    biggest = max(size for size, _ in engine.sizes)
    # A batch of events is cut at DEFAULT_BATCH_BYTES (estimated with room to spare) and a
    # group of blobs at BLOB_GROUP_BYTES plus the one that crossed it.
    assert biggest <= max(DEFAULT_BATCH_BYTES, BLOB_GROUP_BYTES + 21_000 + 1_000)
    assert biggest < ledger.TRANSACTION_LIMIT // 8
    # Not one transaction per blob: 400 blobs and 4,001 events in a handful of commits.
    assert len(engine.sizes) <= 30
    assert_hub_mirrors_edge(edge, hub, T, P)


def test_a_large_blob_goes_alone_and_lands_whole(tmp_path: Path) -> None:
    edge = _edge_with_blobs(f"sqlite://{tmp_path / 'edge.sqlite'}?sync=normal", 3, 20_000)
    big = change(edge, T, P, "data/big.bin", bytes(range(256)) * 12_000)  # 3 MB, 35 chunks
    edge.append(T, P, [big])
    engine = MeasuringEngine(ledger.open_engine(f"sqlite://{tmp_path / 'hub.sqlite'}?sync=normal"))
    hub = Ledger(engine)
    sync.Shipper(edge, hub, hub_name="hq", grant=GRANT).ship()
    assert max(size for size, _ in engine.sizes) < ledger.TRANSACTION_LIMIT
    assert_hub_mirrors_edge(edge, hub, T, P)


def _child(edge_url: str, hub_url: str, point: str) -> int:
    proc = subprocess.run(
        [sys.executable, str(CHILD), edge_url, hub_url, "20"],
        cwd=ROOT,
        env={**os.environ, "SWARM_TEST_KILL_AT": point},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode not in (0, -signal.SIGKILL):
        pytest.fail(f"child at {point} failed: {proc.stderr}")
    return proc.returncode


@pytest.mark.parametrize("point", [f"{w}-{n}" for w in ("in-tx", "after-tx") for n in (3, 4, 5, 8)])
def test_a_sync_killed_mid_batch_resumes_with_every_event_and_blob_once(
    tmp_path: Path, point: str
) -> None:
    edge_url = f"sqlite://{tmp_path / 'edge.sqlite'}"
    hub_url = f"sqlite://{tmp_path / 'hub.sqlite'}"
    edge = ledger.open_ledger(edge_url)
    edge.create_tenant(T)
    edge.create_project(T, P)
    fill(edge, T, P, 300, seed=3)  # ~60 StateChanges: batches of 20 hold blobs
    assert _child(edge_url, hub_url, point) == -signal.SIGKILL
    with ledger.open_ledger(hub_url) as hub:
        before = sum(1 for _ in hub.iter_events(T, P)) if T in hub.tenants() else 0
    assert before < 301  # the kill left work in flight
    assert _child(edge_url, hub_url, "") == 0  # a fresh run picks up from the cursor
    with ledger.open_ledger(hub_url) as hub:
        assert_hub_mirrors_edge(edge, hub, T, P)  # once each, in order, every blob
        assert sync.project_status(edge, T, P, "hq").pending == 0
