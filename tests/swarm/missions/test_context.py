"""The loop's first turn: files ranked by the import graph around what the task names, the
files to change in full, and everything within the token budget."""

from __future__ import annotations

from pathlib import Path

from swarm.missions._context import build_context, estimate_tokens, rank, seeds_of
from swarm.scout import RepoIndex

FILES = {
    "orders/parse.py": "def parse_order(text):\n    return text.split(',')\n",
    "orders/api.py": "from orders.parse import parse_order\n\n\ndef handle(t):\n    return parse_order(t)\n",
    "orders/__init__.py": "",
    "billing/tax.py": "RATE = 0.2\n\n\ndef tax(x):\n    return x * RATE\n",
    "billing/__init__.py": "",
    "tests/test_parse.py": "from orders.parse import parse_order\n\n\ndef test_p():\n    assert parse_order('a,b')\n",
}


def _index(root: Path) -> RepoIndex:
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    index = RepoIndex(root)
    index.refresh()
    return index


def test_the_file_defining_the_named_symbol_ranks_first_and_its_neighbours_before_the_rest(
    tmp_path: Path,
) -> None:
    index = _index(tmp_path)
    seeds = seeds_of(index, "parse_order drops empty fields", (), ())
    assert seeds == {"orders/parse.py"}
    ranked = rank(index, seeds)
    assert ranked[0] == "orders/parse.py"
    assert ranked.index("orders/api.py") < ranked.index("billing/tax.py")
    assert ranked.index("tests/test_parse.py") < ranked.index("billing/tax.py")


def test_the_context_shows_the_target_whole_maps_the_rest_and_fits_its_budget(
    tmp_path: Path,
) -> None:
    index = _index(tmp_path)

    def read(path: str) -> str | None:
        return FILES.get(path)

    ctx = build_context(index, read, "make parse_order drop empty fields", budget_tokens=200)
    assert ctx.whole == ("orders/parse.py",) and FILES["orders/parse.py"] in ctx.text
    assert "orders/api.py: handle" in ctx.text
    assert estimate_tokens(ctx.text) <= 200 + 1
    tiny = build_context(index, read, "make parse_order drop empty fields", budget_tokens=20)
    assert tiny.whole == () and "Task: make parse_order" in tiny.text  # the task always


def test_a_task_that_names_nothing_still_shows_source_to_copy_from(tmp_path: Path) -> None:
    index = _index(tmp_path)
    ctx = build_context(index, FILES.get, "make it faster", budget_tokens=400)
    assert ctx.whole and not any("test" in p for p in ctx.whole)
    assert all(FILES[p] in ctx.text for p in ctx.whole)
