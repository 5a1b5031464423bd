from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger
from ledger import Ledger

SYNC_ENGINES = ("memory", "sqlite")


@pytest.fixture(params=SYNC_ENGINES)
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Ledger, Ledger]]:
    """An edge and a hub ledger, both of one engine kind (fresh stores)."""
    if request.param == "memory":
        edge, hub = ledger.open_ledger("memory:"), ledger.open_ledger("memory:")
    else:
        edge = ledger.open_ledger(f"sqlite://{tmp_path / 'edge.sqlite'}?sync=normal")
        hub = ledger.open_ledger(f"sqlite://{tmp_path / 'hub.sqlite'}?sync=normal")
    yield edge, hub
    edge.close()
    hub.close()
