from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE = {
    "shop/__init__.py": 'from shop.orders import calculate_total\n\n__all__ = ["calculate_total"]\n',
    "shop/orders.py": (
        "from __future__ import annotations\n\n\n"
        "def calculate_total(items, tax=0.0):\n"
        '    """calculate_total sums items."""\n'
        "    return sum(items) * (1 + tax)\n\n\n"
        "class Cart:\n"
        "    def calculate_total(self):\n"
        "        return calculate_total(self.items)\n"
    ),
    "shop/report.py": (
        "import shop.orders as orders\n"
        "from .orders import calculate_total as ct\n\n\n"
        "def report(items):\n"
        "    # calculate_total in a comment\n"
        '    label = "calculate_total"\n'
        "    return orders.calculate_total(items), ct(items), label\n"
    ),
    "shop/util.py": "def helper():\n    return 1\n",
    "tests/test_orders.py": "from shop.orders import calculate_total\n\n\ndef test_total():\n    assert calculate_total([1, 2]) == 3\n",
    "tests/test_report.py": "from shop.report import report\n\n\ndef test_report():\n    assert report([1])[0] == 1\n",
    "tests/test_util.py": "from shop import util\n\n\ndef test_helper():\n    assert util.helper() == 1\n",
    "tests/conftest.py": "",
    ".venv/lib/skip.py": "calculate_total = 1\n",
    "build/.hidden/skip.py": "calculate_total = 1\n",
    "node_modules/x.py": "calculate_total = 1\n",
    "shop/__pycache__/orders.py": "calculate_total = 1\n",
    "README.md": "calculate_total\n",
}


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo", SAMPLE)
