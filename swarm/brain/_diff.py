"""Unified diffs: a strict parser and applier shared by every provider."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hunk:
    """One ``@@ -a,b +c,d @@`` hunk: its header and its marked lines."""

    header: str
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FilePatch:
    """The hunks for one file; ``old_path``/``new_path`` are ``None`` for /dev/null."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        """The repo path this patch changes."""
        return self.new_path or self.old_path or ""


def parse_unified_diff(diff: str) -> list[FilePatch]:
    """Parse a unified diff into per-file patches."""
    raise NotImplementedError


def apply_patch(patch: FilePatch, source: str | None) -> str | None:
    """Apply one file's hunks to ``source``; ``None`` source means the file is absent."""
    raise NotImplementedError
