"""The scout's errors: one root, facts carried as attributes.

::

    ScoutError                  anything the scout refuses
    ├── NotInRepository         a path outside the indexed repository (``..``, absolute, symlink)
    ├── UnknownFile             a path the index does not hold
    └── UnsupportedLanguage     no indexer for the file's suffix
"""

from __future__ import annotations


class ScoutError(Exception):
    """Root of every error the scout raises."""


class NotInRepository(ScoutError):
    """A path that does not name a file inside the repository."""

    def __init__(self, path: str, root: str) -> None:
        super().__init__(f"path {path!r} is outside the repository {root}")
        self.path = path
        self.root = root


class UnknownFile(ScoutError):
    """A repository path the index does not hold (not indexed, or not source)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no indexed file {path!r}")
        self.path = path


class UnsupportedLanguage(ScoutError):
    """A file whose suffix no language indexer handles."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no language indexer for {path!r}")
        self.path = path
