"""A generated Python repository for benches: modules that import each other and use
``calculate_total``, plus tests. Deterministic for a given (files, seed)."""

from __future__ import annotations

import random
from pathlib import Path


def generate_repo(root: Path, files: int, seed: int) -> None:
    """Write a package ``shop`` of about ``files`` Python files under ``root``.

    ``shop/core.py`` defines ``calculate_total``; every other module imports a
    few earlier modules (so the import graph is a DAG) and most call
    ``calculate_total`` directly, through ``core.calculate_total`` or through
    an alias. One test file per ten modules. Comments and strings mention the
    name too, so a plain text search finds more than the real uses.
    """
    rng = random.Random(seed)
    pkg = root / "shop"
    tests = root / "tests"
    pkg.mkdir(parents=True, exist_ok=True)
    tests.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(
        'from shop.core import calculate_total\n\n__all__ = ["calculate_total"]\n'
    )
    (pkg / "core.py").write_text(
        "from __future__ import annotations\n\n\n"
        "def calculate_total(items: list[float], tax: float = 0.0) -> float:\n"
        '    """Sum the items and apply tax."""\n'
        "    return round(sum(items) * (1.0 + tax), 2)\n"
    )
    (tests / "__init__.py").write_text("")
    n_tests = max(1, files // 10)
    n_modules = max(1, files - 3 - n_tests)
    for i in range(n_modules):
        lines = ["from __future__ import annotations", ""]
        style = rng.randrange(4)
        if style == 0:
            lines.append("from shop.core import calculate_total")
        elif style == 1:
            lines.append("from shop import core")
        elif style == 2:
            lines.append("from shop.core import calculate_total as total_of")
        deps = rng.sample(range(i), k=min(i, 2)) if i else []
        for d in deps:
            lines.append(f"from shop import mod_{d:04d}")
        lines += ["", "", f"def value_{i}(items: list[float]) -> float:"]
        lines.append(f'    """Value of module {i}; calls calculate_total in a comment-free way."""')
        call = {
            0: "calculate_total(items)",
            1: "core.calculate_total(items)",
            2: "total_of(items)",
            3: "sum(items)",
        }[style]
        expr = " + ".join([call, *(f"mod_{d:04d}.value_{d}([])" for d in deps)])
        lines.append(f"    return {expr}")
        lines += [
            "",
            "",
            f"class Report{i}:",
            "    # calculate_total appears here only as text",
            "    label = 'calculate_total'",
            "",
        ]
        lines.append("    def total(self, items: list[float]) -> float:")
        lines.append(f"        return value_{i}(items)")
        for k in range(rng.randrange(5, 15)):
            lines += [
                "",
                "",
                f"def helper_{i}_{k}(x: int) -> int:",
                f"    return x * {k} + {rng.randrange(100)}",
            ]
        (pkg / f"mod_{i:04d}.py").write_text("\n".join(lines) + "\n")
    for t in range(n_tests):
        picked = sorted(rng.sample(range(n_modules), k=min(n_modules, 3)))
        body = [
            "from shop.core import calculate_total",
            *(f"from shop import mod_{m:04d}" for m in picked),
            "",
            "",
        ]
        body += [
            "def test_calculate_total() -> None:",
            "    assert calculate_total([1.0, 2.0]) == 3.0",
            "",
        ]
        for m in picked:
            body += [
                "",
                f"def test_value_{m}() -> None:",
                f"    assert mod_{m:04d}.value_{m}([1.0]) >= 0",
                "",
            ]
        (tests / f"test_group_{t:03d}.py").write_text("\n".join(body))
