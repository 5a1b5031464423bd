"""Shared fixtures: one compiled sandbox for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import Runtime, Sandbox, default_cache_dir


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    # The edge of the test session: SWARM_CACHE_DIR moves the cache, as in the CLI.
    configured = os.environ.get("SWARM_CACHE_DIR")
    return Path(configured) if configured else default_cache_dir()


@pytest.fixture(scope="session")
def box(cache_dir: Path) -> Sandbox:
    # SWARM_SANDBOX_RUNTIME=optimised (or a build folder) runs the suite on another interpreter.
    setting = os.environ.get("SWARM_SANDBOX_RUNTIME", "bundled")
    return Sandbox(runtime=Runtime.from_setting(setting, cache_dir), cache_dir=cache_dir)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The guest's folder, with a secret beside it that must stay out of reach."""
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    work = tmp_path / "work"
    work.mkdir()
    (work / "data.txt").write_text("hello from the host\n")
    return work


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its bytes, to prove the host was left untouched."""
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }
