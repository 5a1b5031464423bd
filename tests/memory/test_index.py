"""The indexer keeps memory a projection of the log: rebuild == incremental, files that
change or go away change or lose their points, re-indexing writes nothing new."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ledger
from swarm.missions import MissionOptions, start_mission
from tests.memory.conftest import RENAME, Embed, copy_sample, needs_memory_extra

needs_memory_extra()

from swarm.memory import Memory  # noqa: E402

TENANT, PROJECT = "acme", "shop"
NEW_DOC = "Add up the prices, then add the tax on top; cents are rounded half to even."


def _points(mem: Memory) -> dict[str, dict[str, dict[str, Any]]]:
    return {k: mem.store.points(TENANT, k) for k in ("code", "lesson")}


def _code(mem: Memory) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["path"], p["symbol"]): p for p in mem.store.points(TENANT, "code").values()}


@pytest.fixture(scope="module")
def two_imports(
    tmp_path_factory: pytest.TempPathFactory, embed: Embed
) -> Iterator[tuple[ledger.Ledger, Memory, Path]]:
    """A ledger holding two imports of the sample: the second edits a docstring, deletes
    a file and adds one. Memory indexed after each, in batches of 7 events. Shared by
    the module's tests: each leaves the points as it found them."""
    tmp_path = tmp_path_factory.mktemp("two-imports")
    led = ledger.open_ledger(f"sqlite://{tmp_path / 'ledger.sqlite'}")
    repo = copy_sample(tmp_path / "repo")
    mem = Memory(led, str(tmp_path / "memory"), embed=embed)
    opts = MissionOptions(run_tests=False)
    start_mission(led, TENANT, PROJECT, repo, RENAME, options=opts)
    mem.indexer.catch_up(TENANT, PROJECT, batch=7)
    pricing = repo / "shop" / "pricing.py"
    old = "Sum the prices and apply tax, rounded to cents."
    pricing.write_text(pricing.read_text().replace(old, NEW_DOC))
    (repo / "shop" / "discounts.py").unlink()
    (repo / "shop" / "shipping.py").write_text(
        "def shipping_cost(weight_kg: float) -> float:\n"
        '    """What sending a parcel costs: a base fee plus a rate per kilogram."""\n'
        "    return 4.5 + 1.25 * weight_kg\n"
    )
    start_mission(led, TENANT, PROJECT, repo, RENAME, options=opts)
    mem.indexer.catch_up(TENANT, PROJECT, batch=7)
    yield led, mem, repo


def test_rebuild_from_the_log_equals_incremental_indexing(
    two_imports: tuple[ledger.Ledger, Memory, Path],
) -> None:
    led, mem, _ = two_imports
    incremental = _points(mem)
    assert incremental["code"] and len(incremental["lesson"]) == 2
    mem.store.drop()
    assert _points(mem) == {"code": {}, "lesson": {}}
    stats = mem.index(TENANT)
    assert stats.events == len(list(led.iter_events(TENANT, PROJECT)))
    assert _points(mem) == incremental


def test_a_changed_file_rewrites_its_points_and_a_deleted_one_loses_them(
    two_imports: tuple[ledger.Ledger, Memory, Path],
) -> None:
    led, mem, _ = two_imports
    code = _code(mem)
    assert not [k for k in code if k[0] == "shop/discounts.py"]
    total = code[("shop/pricing.py", "calculate_total")]
    assert NEW_DOC in total["text"]
    changed = led.history(TENANT, PROJECT, path="shop/pricing.py")
    assert total["versionstamp"] == str(changed[-1].versionstamp)  # read at the second import
    assert ("shop/shipping.py", "shipping_cost") in code
    # Unchanged files keep the first import's read.
    cart = code[("shop/cart.py", "Cart")]
    assert cart["versionstamp"] == str(
        led.history(TENANT, PROJECT, path="shop/cart.py")[0].versionstamp
    )
    hits = mem.search(TENANT, "how much does it cost to send a parcel", kind="code", limit=1)
    assert hits and hits[0].path == "shop/shipping.py"  # type: ignore[union-attr]


def test_indexing_again_from_an_old_cursor_writes_the_same_points(
    two_imports: tuple[ledger.Ledger, Memory, Path],
) -> None:
    led, mem, _ = two_imports
    before = _points(mem)
    first = led.read(TENANT, PROJECT, limit=3)[-1].versionstamp
    mem.store.set_cursor(TENANT, PROJECT, str(first))  # as if killed before the next cursor
    again = mem.indexer.catch_up(TENANT, PROJECT, batch=5)
    assert again.events > 0
    assert _points(mem) == before


def test_forgetting_a_project_deletes_its_points_and_cursor_only(
    two_imports: tuple[ledger.Ledger, Memory, Path], tmp_path: Path
) -> None:
    led, mem, _ = two_imports
    before = _points(mem)
    other = copy_sample(tmp_path / "other")
    start_mission(led, TENANT, "other", other, RENAME, options=MissionOptions(run_tests=False))
    mem.index(TENANT)
    assert mem.store.points(TENANT, "code", "other")
    removed = mem.forget(TENANT, PROJECT)
    assert removed > 0
    assert mem.store.points(TENANT, "code", PROJECT) == {}
    assert mem.store.points(TENANT, "lesson", PROJECT) == {}
    assert mem.store.get_cursor(TENANT, PROJECT) is None
    assert mem.store.points(TENANT, "code", "other")
    # The log is the truth: indexing again brings the forgotten project back whole.
    mem.index(TENANT, PROJECT)
    assert mem.store.points(TENANT, "code", PROJECT) == before["code"]
    assert mem.store.points(TENANT, "lesson", PROJECT) == before["lesson"]
