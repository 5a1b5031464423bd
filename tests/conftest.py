"""Shared fixtures. The one factory hook every conformance suite runs through.

``engine`` is parametrised over every engine: ``memory`` and ``sqlite``
always, ``sim+memory`` and ``sim+sqlite`` (FoundationDB's semantics enforced
strictly over them, ``ledger._sim``) always, ``fdb`` when
``SWARM_FDB_CLUSTER_FILE`` names a cluster file (skipped with that reason
otherwise). A new engine is added here once and every conformance test runs
on it.

The sim engines' faults come from one seed, printed in the header and at the
end of every run; ``SWARM_SIM_SEED=N`` replays it (it is exported to the
processes the tests start, so theirs match).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import ledger
from ledger import Engine, Ledger
from ledger._sim import SEED_ENV, process_seed

ENGINES = ("memory", "sqlite", "sim+memory", "sim+sqlite", "fdb")
FDB_ENV = "SWARM_FDB_CLUSTER_FILE"


def pytest_configure(config: pytest.Config) -> None:
    os.environ[SEED_ENV] = str(process_seed())  # child processes draw the same faults


def _seed_line() -> str:
    seed = process_seed()
    return f"sim engine seed: {seed} (replay: {SEED_ENV}={seed})"


def pytest_report_header(config: pytest.Config) -> str:
    return _seed_line()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(_seed_line())


def engine_url(kind: str, tmp_path: Path) -> str:
    """The ledger URL of a fresh store of engine ``kind`` (skips fdb without a cluster)."""
    if kind == "memory":
        return "memory:"
    if kind == "sqlite":
        return f"sqlite://{tmp_path / 'ledger.sqlite'}"
    if kind == "sim+memory":
        return "sim+memory:"
    if kind == "sim+sqlite":
        return f"sim+sqlite://{tmp_path / 'ledger.sqlite'}"
    if kind == "fdb":
        cluster = os.environ.get(FDB_ENV)
        if not cluster:
            pytest.skip(f"fdb engine: {FDB_ENV} is not set, so no cluster to run against")
        return f"fdb://{cluster}"
    raise ValueError(kind)


class ManualClock:
    """The clock seam: microseconds that move only when a test says so."""

    def __init__(self, start_us: int = 1_700_000_000_000_000) -> None:
        self.now_us = start_us

    def __call__(self) -> int:
        return self.now_us

    def advance(self, seconds: float) -> None:
        self.now_us += int(seconds * 1_000_000)


@pytest.fixture(params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(engine_kind: str, tmp_path: Path) -> Iterator[Engine]:
    eng = ledger.open_engine(engine_url(engine_kind, tmp_path))
    yield eng
    eng.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def led(engine: Engine, clock: ManualClock) -> Ledger:
    """A Ledger on each engine, driven by the manual clock."""
    return Ledger(engine, clock=clock)


@pytest.fixture
def space() -> bytes:
    """A key prefix no other test uses (a shared fdb cluster keeps keys between runs)."""
    return b"\x01t" + uuid.uuid4().bytes


@pytest.fixture
def tenant() -> str:
    return "t-" + uuid.uuid4().hex[:12]
