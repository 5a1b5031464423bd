"""The direction of dependencies in docs/architecture.md, checked on the source.

Each package may import only the packages listed for it here; a new edge is a
decision, made by editing this table and the map together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ALLOWED: dict[str, set[str]] = {
    "proto": set(),
    "ledger": {"proto"},
    "sandbox": set(),
    "replay": {"ledger", "proto"},
    "sync": {"ledger", "proto"},
    "ops": {"ledger", "proto", "replay"},
    "swarm.scout": {"replay"},
    "swarm.brain": {"swarm.scout"},
    "swarm.telemetry": set(),
    "swarm.missions": {
        "ledger", "ops", "proto", "replay", "sandbox", "swarm.brain", "swarm.scout",
        "swarm.telemetry",
    },
    "swarm.memory": {"ledger", "ops", "proto", "swarm.missions"},
    "swarm.daemon": {
        "ledger", "ops", "proto", "replay", "sandbox", "swarm.brain", "swarm.client",
        "swarm.memory", "swarm.missions", "swarm.scout", "swarm.telemetry",
    },
    "swarm.client": {
        "ledger", "ops", "proto", "replay", "sandbox", "swarm.brain", "swarm.memory",
        "swarm.missions", "swarm.scout",
    },
    "swarm.mcp": {
        "ledger", "replay", "swarm.brain", "swarm.client", "swarm.daemon", "swarm.missions",
        "swarm.telemetry",
    },
    "swarm.cli": {
        "ledger", "ops", "proto", "replay", "sandbox", "swarm.brain", "swarm.client",
        "swarm.daemon", "swarm.mcp", "swarm.missions", "swarm.scout", "swarm.telemetry",
        "swarm.memory", "swarm.web", "sync",
    },
    "swarm.web": {"swarm.client"},
    "swarm": {"swarm.cli"},
}  # fmt: skip


def _unit(parts: tuple[str, ...]) -> str:
    """``swarm.x`` for a module under ``swarm/x``, else the top-level package."""
    return ".".join(parts[:2]) if parts[0] == "swarm" and len(parts) > 2 else parts[0]


def _imported_unit(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] not in {"proto", "ledger", "sandbox", "replay", "sync", "ops", "swarm"}:
        return None
    return ".".join(parts[:2]) if parts[0] == "swarm" and len(parts) > 1 else parts[0]


def _edges() -> dict[str, set[tuple[str, str]]]:
    """unit -> {(imported unit, file that imports it)}."""
    found: dict[str, set[tuple[str, str]]] = {}
    for top in ("proto", "ledger", "sandbox", "replay", "sync", "ops", "swarm"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "_pb2" in path.name:
                continue
            rel = path.relative_to(ROOT)
            unit = _unit(rel.with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    target = _imported_unit(name)
                    if target is not None and target != unit:
                        found.setdefault(unit, set()).add((target, str(rel)))
    return found


EDGES = _edges()


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_imports_only_what_the_map_allows(unit: str) -> None:
    wrong = sorted((t, f) for t, f in EDGES.get(unit, set()) if t not in ALLOWED[unit])
    assert not wrong, f"{unit} imports outside docs/architecture.md's map: {wrong}"


def test_every_package_is_on_the_map() -> None:
    assert set(EDGES) <= set(ALLOWED), sorted(set(EDGES) - set(ALLOWED))


def test_the_map_has_no_cycle() -> None:
    seen: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(unit: str, path: list[str]) -> None:
        if seen.get(unit) == 1:
            pytest.fail(f"a cycle: {' -> '.join([*path, unit])}")
        if seen.get(unit) == 2:
            return
        seen[unit] = 1
        for dep in sorted(ALLOWED[unit]):
            visit(dep, [*path, unit])
        seen[unit] = 2

    for unit in sorted(ALLOWED):
        visit(unit, [])
