"""The scout's errors: one root, facts carried as attributes.

::

    ScoutError                  anything the scout refuses
    ├── NotInRepository         a path outside the indexed repository (``..``, absolute, symlink)
    ├── UnknownFile             a path the index does not hold
    ├── UnsupportedLanguage     no indexer for the file's suffix
    ├── SymbolNotFound          a target that names no definition in the repository
    └── AmbiguousSymbol         a bare target that names several definitions
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


class SymbolNotFound(ScoutError):
    """A target (``name``, ``pkg.mod:Class.attr``) that resolves to no repository definition."""

    def __init__(self, target: str, suggestions: tuple[str, ...] = ()) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"symbol {target!r} is not defined anywhere in the repository{hint}")
        self.target = target
        self.suggestions = suggestions


class AmbiguousSymbol(ScoutError):
    """A target that names several definitions; ``candidates`` are their qualified names."""

    def __init__(self, target: str, candidates: tuple[str, ...]) -> None:
        super().__init__(
            f"symbol {target!r} is ambiguous: it names {len(candidates)} definitions "
            f"({', '.join(candidates)}); say which one, e.g. {candidates[0]!r}"
        )
        self.target = target
        self.candidates = candidates
