"""A lazy RepoIndex parses only what a query needs and answers exactly as the eager one."""

from __future__ import annotations

import shutil
import sysconfig
import threading
from pathlib import Path

import pytest

from swarm.brain import EditRequest, RulesBrain
from swarm.scout import RepoIndex, Scan
from tests.swarm.brain.test_multi_package import CASES
from tests.swarm.missions.conftest import generate_repo
from tests.swarm.scout.conftest import SAMPLE, write_repo

ROOT = Path(__file__).resolve().parents[3]
MULTI = ROOT / "examples" / "multi_package"
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def _eager(root: Path) -> RepoIndex:
    index = RepoIndex(root)
    index.refresh()
    return index


def _lazy(root: Path, parses: dict[bytes, Scan] | None = None) -> RepoIndex:
    index = RepoIndex(root, lazy=True, parses=parses)
    stats = index.refresh()
    assert stats.parsed == 0
    return index


def _names(index: RepoIndex) -> list[str]:
    return sorted({o.name for p in index.files() for o in index.file(p).occurrences})


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    generate_repo(root, 60, 7)
    return root


def _tree(tree: str, tmp_path: Path, generated: Path) -> Path:
    if tree == "multi":
        return MULTI
    if tree == "generated":
        return generated
    if tree == "stdlib":  # real code: the json and email packages
        for package in ("json", "email"):
            shutil.copytree(STDLIB / package, tmp_path / package)
        return tmp_path
    return write_repo(tmp_path, SAMPLE)


@pytest.mark.parametrize("tree", ["multi", "sample", "generated", "stdlib"])
def test_find_on_a_fresh_lazy_index_equals_the_eager_answer_for_every_name(
    tree: str, tmp_path: Path, generated: Path
) -> None:
    root = _tree(tree, tmp_path, generated)
    eager = _eager(root)
    names = _names(eager)
    assert len(names) > 10
    for name in names[:: max(1, len(names) // 80)]:
        lazy = _lazy(root)
        assert lazy.find(name) == eager.find(name), name
        assert lazy.defines(name) == eager.defines(name), name
    lazy = _lazy(root)
    assert lazy.files() == eager.files()
    assert [lazy.file(p) for p in lazy.files()] == [eager.file(p) for p in eager.files()]


def test_symbols_of_a_lazy_index_resolve_every_occurrence_as_the_eager_ones() -> None:
    eager = _eager(MULTI)
    lazy = _lazy(MULTI)
    ours, theirs = lazy.symbols(), eager.symbols()
    for path in eager.files():
        for o in eager.file(path).occurrences:
            assert ours.meaning(o) == theirs.meaning(o), (path, o)
    for symbol in theirs.definitions():
        assert ours.others_named(symbol) == theirs.others_named(symbol), symbol
    assert ours.definitions() == theirs.definitions()
    assert lazy.import_graph() == eager.import_graph()
    assert lazy.tests_for(["shelf/more.py"]) == eager.tests_for(["shelf/more.py"])


@pytest.mark.parametrize(
    ("target", "new"), [(c[0], c[1]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_rename_planned_on_a_lazy_index_is_the_eager_one(target: str, new: str) -> None:
    request = EditRequest("rename", {"old": target, "new": new})

    def read(p: str) -> str:
        return (MULTI / p).read_text("utf-8")

    assert RulesBrain().propose(request, _lazy(MULTI), read) == RulesBrain().propose(
        request, _eager(MULTI), read
    )


def test_a_rename_of_a_rare_name_parses_only_the_files_that_can_name_it(generated: Path) -> None:
    parses: dict[bytes, Scan] = {}
    lazy = _lazy(generated, parses)
    request = EditRequest("rename", {"old": "shop.mod_0005:value_5", "new": "value_five"})
    proposal = RulesBrain().propose(request, lazy, lambda p: (generated / p).read_text("utf-8"))
    assert proposal == RulesBrain().propose(
        request, _eager(generated), lambda p: (generated / p).read_text("utf-8")
    )
    every = len(lazy.files())
    assert 0 < len(parses) < every / 3, (len(parses), every)


def test_a_lazy_index_sees_edits_and_deletions_on_refresh(tmp_path: Path) -> None:
    root = write_repo(tmp_path, SAMPLE)
    lazy = _lazy(root)
    assert lazy.find("calculate_total")  # parsed now
    (root / "shop/util.py").write_text("def calculate_total():\n    return 2\n")
    (root / "shop/report.py").unlink()
    stats = lazy.refresh()
    assert stats.removed == 1
    eager = _eager(root)
    assert lazy.find("calculate_total") == eager.find("calculate_total")
    assert lazy.files() == eager.files()
    lazy.update("shop/util.py", b"helper = 3\n")
    mine = [(o.line, o.kind) for o in lazy.find("helper") if o.path == "shop/util.py"]
    assert mine == [(1, "definition")]
    assert not [o for o in lazy.find("calculate_total") if o.path == "shop/util.py"]


def test_threads_reading_one_lazy_index_get_the_eager_answers(tmp_path: Path) -> None:
    root = tmp_path / "multi"
    shutil.copytree(MULTI, root)
    eager = _eager(root)
    names = _names(eager)
    for _ in range(5):
        lazy = _lazy(root)
        start = threading.Barrier(4)
        found: dict[int, list[object]] = {}

        def work(
            k: int,
            lazy: RepoIndex = lazy,
            start: threading.Barrier = start,
            found: dict[int, list[object]] = found,
        ) -> None:
            start.wait()
            found[k] = [lazy.find(n) for n in names[k::4]]

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in range(4):
            assert found[k] == [eager.find(n) for n in names[k::4]]
