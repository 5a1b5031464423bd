from __future__ import annotations

from pathlib import Path

import pytest

from swarm.scout import RepoIndex
from tests._model_server import model_server  # noqa: F401  (the fixture, for every brain test)
from tests.swarm.scout.conftest import SAMPLE, write_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo", SAMPLE)


@pytest.fixture
def index(repo: Path) -> RepoIndex:
    idx = RepoIndex(repo)
    idx.refresh()
    return idx


def reader(root: Path):  # type: ignore[no-untyped-def]
    def read(path: str) -> str:
        return (root / path).read_text()

    return read
