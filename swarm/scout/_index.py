"""RepoIndex: the repository-wide index over per-language indexers."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from swarm.scout._types import FileIndex, IndexStats, Occurrence


def is_test_file(path: str) -> bool:
    """True for ``test_*.py``, ``*_test.py`` and Python files under a ``tests/`` folder."""
    raise NotImplementedError


def check_syntax(path: str, source: bytes) -> tuple[str, ...]:
    """The syntax errors of one file (``"line:col message"``), empty when it parses cleanly."""
    raise NotImplementedError


class RepoIndex:
    """An index of every source file under ``root``."""

    def __init__(self, root: Path, *, cache_dir: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.cache_dir = cache_dir

    def refresh(self) -> IndexStats:
        """Walk the repository and (re)index new or changed files; forget deleted ones."""
        raise NotImplementedError

    def update(self, path: str, source: bytes) -> FileIndex:
        """Re-index one file from ``source`` (after an edit)."""
        raise NotImplementedError

    def remove(self, path: str) -> None:
        """Forget one file (after a deletion)."""
        raise NotImplementedError

    def files(self) -> list[str]:
        """Every indexed repo path, sorted."""
        raise NotImplementedError

    def file(self, path: str) -> FileIndex:
        """The index of one file."""
        raise NotImplementedError

    def find(self, name: str, kinds: Iterable[str] | None = None) -> list[Occurrence]:
        """Every occurrence of identifier ``name`` (optionally only ``kinds``), in path order."""
        raise NotImplementedError

    def import_graph(self) -> dict[str, set[str]]:
        """path -> the repo paths it imports."""
        raise NotImplementedError

    def dependents(self, paths: Iterable[str]) -> set[str]:
        """The paths that import these, transitively, including themselves."""
        raise NotImplementedError

    def tests_for(self, changed: Iterable[str]) -> set[str]:
        """The test files the import graph ties to the changed files."""
        raise NotImplementedError
