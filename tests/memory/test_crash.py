"""An indexer killed with SIGKILL mid-way resumes from its cursor: no point lost, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ledger
from swarm.missions import MissionOptions, start_mission
from tests.memory.conftest import RENAME, ROOT, Embed, copy_sample, needs_memory_extra

needs_memory_extra()

from swarm.memory import Memory  # noqa: E402

CHILD = Path(__file__).with_name("_index_child.py")
TENANT, PROJECT = "acme", "shop"
#: Guard for one child (it loads the model on a loaded machine): not a measure.
CHILD_GUARD_S = 900


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ledger holding an import of the sample (two dozen chunks over ten files)."""
    root = tmp_path_factory.mktemp("crash")
    url = f"sqlite://{root / 'ledger.sqlite'}"
    with ledger.open_ledger(url) as led:
        repo = copy_sample(root / "repo")
        start_mission(led, TENANT, PROJECT, repo, RENAME, options=MissionOptions(run_tests=False))
    return url


@pytest.fixture(scope="module")
def rebuilt(
    logged: str, tmp_path_factory: pytest.TempPathFactory, embed: Embed
) -> dict[str, dict[str, dict[str, Any]]]:
    """The points one uninterrupted pass writes."""
    folder = tmp_path_factory.mktemp("rebuilt") / "memory"
    with ledger.open_ledger(logged) as led, Memory(led, str(folder), embed=embed) as mem:
        mem.index(TENANT)
        return {k: mem.store.points(TENANT, k) for k in ("code", "lesson")}


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-points-5", "after-cursor-2"])
def test_an_indexer_killed_mid_way_resumes_with_nothing_lost_or_doubled(
    logged: str,
    rebuilt: dict[str, dict[str, dict[str, Any]]],
    tmp_path: Path,
    embed: Embed,
    point: str,
) -> None:
    folder = tmp_path / "memory"
    proc = subprocess.run(
        [sys.executable, str(CHILD), logged, str(folder), TENANT, PROJECT],
        cwd=ROOT,
        env={**os.environ, "SWARM_TEST_KILL_AT": point},
        capture_output=True,
        text=True,
        timeout=CHILD_GUARD_S,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "done" not in proc.stdout
    with ledger.open_ledger(logged) as led, Memory(led, str(folder), embed=embed) as mem:
        half = mem.store.points(TENANT, "code")
        assert 0 < len(half) < len(rebuilt["code"])  # killed part-way: some points, not all
        cursor = mem.store.get_cursor(TENANT, PROJECT)
        assert cursor is not None or point.startswith("after-points")
        resumed = mem.index(TENANT)
        assert resumed.events > 0
        assert {k: mem.store.points(TENANT, k) for k in ("code", "lesson")} == rebuilt
        places = [(p["path"], p["symbol"]) for p in mem.store.points(TENANT, "code").values()]
        assert len(places) == len(set(places))
