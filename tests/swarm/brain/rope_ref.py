"""rope, the refactoring library IDEs use, as the reference a rename is checked against.

Shared by tests/swarm/brain/test_multi_package.py and bench/rename_vs_rope.py:
run rope's own rename on a tree, and list which occurrences a rename changed
by comparing the tree before and after, identifier by identifier.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

_WORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)")
TEXT_SUFFIXES = (".py", ".pyi", ".toml", ".cfg")


def rope_rename(root: Path, path: str, line: int, column: int, new: str) -> float:
    """Rename, with rope's defaults, the name at (1-based ``line``, ``column``) of ``path``;
    the seconds rope took (project open, analysis and writing the changes)."""
    from rope.base.project import Project
    from rope.refactor.rename import Rename

    started = time.perf_counter()
    project = Project(str(root), ropefolder=None)
    try:
        resource = project.get_resource(path)
        lines = resource.read().split("\n")
        offset = sum(len(ln) + 1 for ln in lines[: line - 1]) + column
        changes = Rename(project, resource, offset).get_changes(new)
        project.do(changes)
    finally:
        project.close()
    return time.perf_counter() - started


def snapshot(root: Path) -> dict[str, str]:
    """Every text file of interest under ``root``: repo path -> content."""
    return {
        p.relative_to(root).as_posix(): p.read_text("utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in TEXT_SUFFIXES and ".swarm" not in p.parts
    }


def renamed_sites(
    before: dict[str, str], after: dict[str, str], old: str, new: str
) -> set[tuple[str, int, int]]:
    """(path, line, column) of each ``old`` that became ``new``; any other change is
    reported as (path, line, -1) so a test sees it."""
    sites: set[tuple[str, int, int]] = set()
    for path, text in before.items():
        changed = after.get(path, "")
        if changed == text:
            continue
        a_lines, b_lines = text.split("\n"), changed.split("\n")
        if len(a_lines) != len(b_lines):
            sites.add((path, 0, -1))
            continue
        for number, (a, b) in enumerate(zip(a_lines, b_lines, strict=True), 1):
            if a == b:
                continue
            ta, tb = _WORD.split(a), _WORD.split(b)
            if len(ta) != len(tb):
                sites.add((path, number, -1))
                continue
            for i, (x, y) in enumerate(zip(ta, tb, strict=True)):
                if x == y:
                    continue
                if x == old and y == new:
                    sites.add((path, number, len("".join(ta[:i]))))
                else:
                    sites.add((path, number, -1))
    return sites
