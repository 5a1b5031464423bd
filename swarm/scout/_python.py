"""The Python indexer (tree-sitter-python)."""

from __future__ import annotations

from swarm.scout._types import FileIndex


class PythonIndexer:
    """Indexes Python source with tree-sitter."""

    name = "python"
    suffixes = (".py", ".pyi")
    version = "py-1"

    def index(self, path: str, source: bytes) -> FileIndex:
        raise NotImplementedError
