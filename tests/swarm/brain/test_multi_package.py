"""Renames and add-param on examples/multi_package, checked against rope's own rename.

For each target the swarm must change every occurrence rope changes (no
misses) and, beyond those, exactly the listed ones rope does not do (stubs,
``__all__`` strings, dotted-path strings, entry points, ``getattr``), each
a use of the symbol; and the sample's own test suite must still pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swarm.brain import AmbiguousSymbol, EditRequest, RulesBrain, UnknownSymbol
from swarm.scout import RepoIndex
from tests.swarm.brain.rope_ref import renamed_sites, rope_rename, snapshot

# rope 1.15 warns about its own deprecated source-folder setup on every Project().
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rope")

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "examples" / "multi_package"

# target, new name, what the swarm renames beyond rope (path, line, column), and why.
CASES = [
    (
        "shelf.more:chunked",
        "chunk_into",
        {
            ("pyproject.toml", 9, 21),  # entry point "shelf.more:chunked"
            ("shelf/more.py", 8, 12),  # __all__ entry: rope leaves it, breaking `import *`
            ("shelf/more.pyi", 4, 12),  # the stub's __all__
            ("shelf/more.pyi", 6, 4),  # the stub's def
            ("tools/report.py", 18, 28),  # getattr(sh, "chunked")
            (
                "tools/report.py",
                27,
                22,
            ),  # more = importlib.import_module("shelf.more"); more.chunked
        },
    ),
    (
        "shelf.more.peekable.prepend",
        "push_front",
        {
            ("shelf/more.pyi", 12, 8),  # the stub's method
            ("tools/pipeline.py", 14, 20),  # self.source.prepend: type unknown, one class has it
        },
    ),
    (
        "shelf.recipes:prepend",
        "prepend_value",
        {("shelf/recipes.py", 9, 12), ("shelf/recipes.pyi", 4, 12), ("shelf/recipes.pyi", 6, 4)},
    ),
    (
        "shelf.io._read_source",
        "_read_text",
        {("tests/test_io.py", 9, 22), ("tests/test_io.py", 16, 38)},  # mock.patch targets
    ),
    (
        "shelf:take",  # through the package's re-export
        "take_first",
        {("shelf/recipes.py", 9, 23), ("shelf/recipes.pyi", 4, 23), ("shelf/recipes.pyi", 7, 4)},
    ),
]


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return dest


def _swarm_rename(root: Path, target: str, new: str, **extra: str) -> RepoIndex:
    index = RepoIndex(root)
    index.refresh()
    request = EditRequest("rename", {"old": target, "new": new, **extra})
    for edit in RulesBrain().propose(request, index, lambda p: (root / p).read_text()).edits:
        assert edit.new_source is not None
        (root / edit.path).write_text(edit.new_source)
    return index


def _definition(index: RepoIndex, target: str) -> tuple[str, int, int]:
    symbol = index.symbols().resolve_target(target)
    for o in index.find(symbol.name, ["definition"]):
        qual = f"{o.owner}.{o.name}" if o.owner else o.name
        home = index.symbols().stem_of(o.path) == symbol.stem
        if home and o.path.endswith(".py") and qual == symbol.qualname and o.scope != "local":
            return o.path, o.line, o.column
    raise AssertionError(f"no definition of {target}")


def _run_sample_tests(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(("target", "new", "beyond_rope"), CASES, ids=[c[0] for c in CASES])
def test_rename_changes_what_rope_changes_plus_the_listed_uses_and_nothing_else(
    tmp_path: Path, target: str, new: str, beyond_rope: set[tuple[str, int, int]]
) -> None:
    ours, theirs = _copy(tmp_path, "ours"), _copy(tmp_path, "rope")
    before = snapshot(ours)
    index = _swarm_rename(ours, target, new)
    path, line, column = _definition(index, target)
    rope_rename(theirs, path, line, column, new)
    old = index.symbols().resolve_target(target).name
    swarm_sites = renamed_sites(before, snapshot(ours), old, new)
    rope_sites = renamed_sites(before, snapshot(theirs), old, new)
    assert rope_sites - swarm_sites == set(), "missed what rope renamed"
    assert swarm_sites - rope_sites == beyond_rope
    assert all(col >= 0 for _, _, col in swarm_sites), "an edit that is not old -> new"
    result = _run_sample_tests(ours)
    assert result.returncode == 0, result.stdout + result.stderr


def test_renaming_the_method_leaves_the_same_named_function_alone(tmp_path: Path) -> None:
    ours = _copy(tmp_path, "ours")
    before = snapshot(ours)
    _swarm_rename(ours, "shelf.more.peekable.prepend", "push_front")
    after = snapshot(ours)
    for untouched in ("shelf/recipes.py", "shelf/recipes.pyi", "tests/test_recipes.py"):
        assert after[untouched] == before[untouched]
    assert "list(prepend(0, take(2, p)))" in after["tools/report.py"]
    assert 'p.push_front("start")' in after["tools/report.py"]


def test_in_docs_renames_roles_doctests_and_backticks_only_when_asked(tmp_path: Path) -> None:
    plain, docs = _copy(tmp_path, "plain"), _copy(tmp_path, "docs")
    _swarm_rename(plain, "shelf.more:chunked", "chunk_into")
    _swarm_rename(docs, "shelf.more:chunked", "chunk_into", in_docs="1")
    text_plain = (plain / "shelf/more.py").read_text()
    text_docs = (docs / "shelf/more.py").read_text()
    assert ":func:`chunked`" in text_plain and ">>> chunked(" in text_plain
    assert ":func:`chunk_into`" in text_docs and ">>> chunk_into([1, 2, 3], 2)" in text_docs
    assert ":class:`peekable`" in text_docs  # other mentions stay


def test_add_param_with_a_value_updates_every_call_site_tests_included(tmp_path: Path) -> None:
    root = _copy(tmp_path, "ours")
    index = RepoIndex(root)
    index.refresh()
    request = EditRequest(
        "add_param",
        {"function": "shelf.more:chunked", "param": "strict", "default": "False", "value": "True"},
    )
    brain = RulesBrain()
    assert brain.targets(request, index) == [
        "shelf/more.py",
        "shelf/more.pyi",
        "shelf/recipes.py",
        "tests/test_more.py",
        "tools/pipeline.py",
        "tools/report.py",
    ]
    edits = {
        e.path: e for e in brain.propose(request, index, lambda p: (root / p).read_text()).edits
    }
    tests = edits["tests/test_more.py"].new_source or ""
    assert tests.count("strict=True") == 4  # chunked, sh.chunked, sh.more.chunked, batched alias
    assert "4 call(s)" in edits["tests/test_more.py"].rationale
    assert "def chunked(iterable: Iterable[Any], n: int, strict=False)" in (
        edits["shelf/more.py"].new_source or ""
    )
    assert "n: int, strict=...)" in (edits["shelf/more.pyi"].new_source or "")  # stub style
    report = edits["tools/report.py"].new_source or ""
    assert "sh.chunked(items, 2, strict=True)" in report
    assert "more.chunked(items, 4, strict=True)" in report
    assert "sh.batched(items, 4, strict=True)" in report
    for path, edit in edits.items():
        (root / path).write_text(edit.new_source or "")
    result = _run_sample_tests(root)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_ambiguous_or_unknown_target_is_refused_with_candidates_or_closest_names() -> None:
    index = RepoIndex(SAMPLE)
    index.refresh()
    brain = RulesBrain()
    with pytest.raises(AmbiguousSymbol) as amb:
        brain.targets(EditRequest("rename", {"old": "prepend", "new": "x"}), index)
    assert amb.value.candidates == ("shelf.more:peekable.prepend", "shelf.recipes:prepend")
    with pytest.raises(UnknownSymbol) as unknown:
        brain.targets(EditRequest("rename", {"old": "chunkd", "new": "x"}), index)
    assert "chunked" in unknown.value.suggestions
    with pytest.raises(UnknownSymbol):
        brain.targets(EditRequest("rename", {"old": "shelf.more:prepend", "new": "x"}), index)
    for spelled in ("peekable.prepend", "shelf.more.peekable.prepend", "shelf:peekable.prepend"):
        symbol = index.symbols().resolve_target(spelled)
        assert str(symbol) == "shelf.more:peekable.prepend"


def test_the_planners_check_finds_targets_a_quick_look_cannot_place(tmp_path: Path) -> None:
    from swarm.missions import check_target

    assert check_target(EditRequest("rename", {"old": "shelf:take", "new": "x"}), SAMPLE) == (
        "shelf.recipes:take"
    )
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "core.py").write_text("def run():\n    pass\n")
    (repo / "pkg" / "api.py").write_text("from .core import *\n")  # never spells "run"
    request = EditRequest("rename", {"old": "pkg.api:run", "new": "go"})
    assert check_target(request, repo) == "pkg.core:run"
    with pytest.raises(UnknownSymbol, match="did you mean"):
        check_target(EditRequest("rename", {"old": "pkg.api:rn", "new": "go"}), repo)
    assert not (repo / ".swarm").exists()  # the check writes nothing
