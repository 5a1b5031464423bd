"""Fixtures for mission tests: a copy of examples/sample_repo, a real sqlite ledger, a runner."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ledger
from swarm.brain import EditRequest
from swarm.missions import MissionOptions, MissionReport, run_mission, start_mission, walk_repo

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "examples" / "sample_repo"
TENANT, PROJECT = "acme", "shop"
RENAME = EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"})
# Two hunks: the first applies to the sample, the second's context is not in its file.
HALF_APPLYING_DIFF = (
    "--- a/shop/discounts.py\n+++ b/shop/discounts.py\n@@ -1,1 +1,1 @@\n"
    '-"""Discount rules applied to a cart\'s subtotal."""\n'
    '+"""Discount rules."""\n'
    "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -1,1 +1,1 @@\n"
    '-"""This line is not in the file."""\n'
    '+"""Prices."""\n'
)


def generate_repo(root: Path, files: int, seed: int = 7) -> None:
    """bench/_genrepo.py's generator (bench/ is not a package, so load it by path)."""
    spec = importlib.util.spec_from_file_location("_genrepo", ROOT / "bench" / "_genrepo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate_repo(root, files, seed)


def snapshot(root: Path) -> dict[str, str]:
    """path -> sha256 of every tracked file: what 'byte-identical' compares."""
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest() for p in walk_repo(root)}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    dest = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    return dest


#: The engines a module's missions run on when it says ``pytestmark = ON_BOTH_ENGINES``:
#: sqlite, and sqlite under FoundationDB's semantics held strictly (``ledger._sim``).
MISSION_ENGINES = ("sqlite", "sim+sqlite")
ON_BOTH_ENGINES = pytest.mark.parametrize("mission_engine", MISSION_ENGINES, indirect=True)


@pytest.fixture
def mission_engine(request: pytest.FixtureRequest) -> str:
    """The scheme of ``mled``: sqlite unless the module runs on both engines."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def mled(tmp_path: Path, mission_engine: str) -> Iterator[ledger.Ledger]:
    """A real sqlite ledger on the wall clock (lock leases and watches need real time)."""
    with ledger.open_ledger(f"{mission_engine}://{tmp_path / 'ledger.sqlite'}") as led:
        yield led


Mission = Callable[..., tuple[str, MissionReport]]


@pytest.fixture
def mission(mled: ledger.Ledger, repo: Path) -> Mission:
    """Start and run one mission on ``repo``; returns (mission id, report)."""

    def go(
        request: EditRequest = RENAME,
        *,
        root: Path | None = None,
        brain: str = "rules",
        brain_settings: dict[str, Any] | None = None,
        **options: Any,
    ) -> tuple[str, MissionReport]:
        opts = MissionOptions(**{"coders": 2, "backoff_s": 0.0, **options})
        mid = start_mission(
            mled,
            TENANT,
            PROJECT,
            root or repo,
            request,
            brain=brain,
            brain_settings=brain_settings,
            options=opts,
        )
        return mid, run_mission(mled, TENANT, PROJECT, mid)

    return go
