"""Reading shelves from files."""

from __future__ import annotations


def _read_source(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def load(path: str) -> list[str]:
    """The non-empty lines of ``path``."""
    return [line for line in _read_source(path).splitlines() if line]
