from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import ledger
from ledger import Ledger

SYNC_ENGINES = ("memory", "sqlite", "sim+memory", "sim+sqlite")
#: ``mem()`` opens a fresh in-memory ledger: plain, and held to FoundationDB's
#: semantics (``ledger._sim``), so every sync test that takes ``mem`` runs on both.
MemoryLedgers = Callable[[], Ledger]


@pytest.fixture(params=("memory", "sim+memory"))
def mem(request: pytest.FixtureRequest) -> Iterator[MemoryLedgers]:
    opened: list[Ledger] = []

    def make() -> Ledger:
        opened.append(ledger.open_ledger(f"{request.param}:"))
        return opened[-1]

    yield make
    for led in opened:
        led.close()


@pytest.fixture(params=SYNC_ENGINES)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Ledger, Ledger]]:
    """An edge and a hub ledger, both of one engine kind (fresh stores)."""
    kind = str(request.param)
    if kind.endswith("memory"):
        edge, hub = ledger.open_ledger(f"{kind}:"), ledger.open_ledger(f"{kind}:")
    else:
        edge = ledger.open_ledger(f"{kind}://{tmp_path / 'edge.sqlite'}?sync=normal")
        hub = ledger.open_ledger(f"{kind}://{tmp_path / 'hub.sqlite'}?sync=normal")
    yield edge, hub
    edge.close()
    hub.close()
