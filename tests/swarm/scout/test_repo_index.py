from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from swarm.scout import (
    NotInRepository,
    RepoIndex,
    ScoutError,
    UnknownFile,
    UnsupportedLanguage,
    check_syntax,
    is_test_file,
)


def test_refresh_indexes_python_files_and_skips_hidden_caches_and_venvs(sample_repo: Path) -> None:
    (sample_repo / "venvlike").mkdir()
    (sample_repo / "venvlike" / "pyvenv.cfg").write_text("home = /usr\n")
    (sample_repo / "venvlike" / "x.py").write_text("calculate_total = 1\n")
    index = RepoIndex(sample_repo)
    stats = index.refresh()
    assert index.files() == [
        "shop/__init__.py",
        "shop/orders.py",
        "shop/report.py",
        "shop/util.py",
        "tests/conftest.py",
        "tests/test_orders.py",
        "tests/test_report.py",
        "tests/test_util.py",
    ]
    assert (stats.files, stats.parsed) == (8, 8)


def test_find_answers_where_a_symbol_is_defined_and_used(sample_repo: Path) -> None:
    index = RepoIndex(sample_repo)
    index.refresh()
    defs = index.find("calculate_total", ["definition"])
    assert [(o.path, o.line, o.scope) for o in defs] == [
        ("shop/orders.py", 4, "module"),
        ("shop/orders.py", 10, "class"),
    ]
    every = index.find("calculate_total")
    assert {o.kind for o in every} == {
        "definition",
        "reference",
        "import",
        "attribute",
        "all_entry",
        "doc",  # the docstring's "calculate_total sums items."
    }
    # strings and comments other than __all__ and docstrings are never occurrences
    assert all(o.path != "shop/report.py" or o.line not in (6, 7) for o in every)
    attr = [o for o in every if o.kind == "attribute"]
    assert [(o.path, o.qualifier) for o in attr] == [("shop/report.py", "orders")]
    assert index.find("no_such_name") == []


def test_refresh_parses_only_changed_files_and_forgets_deleted_ones(sample_repo: Path) -> None:
    index = RepoIndex(sample_repo)
    index.refresh()
    again = index.refresh()
    assert (again.parsed, again.cached) == (0, 8)
    (sample_repo / "shop/util.py").write_text("def helper():\n    return 2\n")
    (sample_repo / "tests/test_util.py").unlink()
    third = index.refresh()
    assert (third.parsed, third.removed, third.files) == (1, 1, 7)
    assert index.find("util") == []


def test_unchanged_content_is_never_parsed_twice_across_processes(
    sample_repo: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = RepoIndex(sample_repo, cache_dir=cache).refresh()
    assert first.parsed == 8
    code = (
        "import sys\nfrom pathlib import Path\nfrom swarm.scout import RepoIndex\n"
        "s = RepoIndex(Path(sys.argv[1]), cache_dir=Path(sys.argv[2])).refresh()\n"
        "print(s.parsed, s.cached)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    out = subprocess.run(
        [sys.executable, "-c", code, str(sample_repo), str(cache)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.split() == ["0", "8"]


def test_a_corrupt_cache_entry_is_parsed_again_not_trusted(
    sample_repo: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    RepoIndex(sample_repo, cache_dir=cache).refresh()
    for entry in cache.rglob("*.json"):
        entry.write_text("{not json")
    index = RepoIndex(sample_repo, cache_dir=cache)
    assert index.refresh().parsed == 8
    assert index.find("calculate_total", ["definition"])


def test_update_reindexes_one_file_from_new_source(sample_repo: Path) -> None:
    index = RepoIndex(sample_repo)
    index.refresh()
    fi = index.update("shop/util.py", b"def calculate_total():\n    pass\n")
    assert fi.path == "shop/util.py"
    assert "shop/util.py" in {o.path for o in index.find("calculate_total", ["definition"])}
    assert index.find("helper", ["definition"]) == []


def test_paths_outside_the_repository_are_refused(sample_repo: Path, tmp_path: Path) -> None:
    index = RepoIndex(sample_repo)
    index.refresh()
    (tmp_path / "outside.py").write_text("x = 1\n")
    os.symlink(tmp_path / "outside.py", sample_repo / "shop" / "link.py")
    for bad in ("../outside.py", str(tmp_path / "outside.py"), "shop/link.py", "", "."):
        with pytest.raises(NotInRepository):
            index.update(bad, b"x = 1\n")
    index.refresh()
    assert "shop/link.py" not in index.files()
    with pytest.raises(UnknownFile):
        index.file("shop/nope.py")
    with pytest.raises(UnsupportedLanguage):
        index.update("README.md", b"hi")
    assert issubclass(UnsupportedLanguage, ScoutError)


def test_import_graph_dependents_and_tests_for(sample_repo: Path) -> None:
    index = RepoIndex(sample_repo)
    index.refresh()
    graph = index.import_graph()
    assert graph["shop/report.py"] == {"shop/__init__.py", "shop/orders.py"}
    assert graph["tests/test_util.py"] == {"shop/__init__.py", "shop/util.py"}
    assert index.dependents(["shop/report.py"]) == {"shop/report.py", "tests/test_report.py"}
    assert index.tests_for(["shop/orders.py"]) == {
        "tests/test_orders.py",
        "tests/test_report.py",
        "tests/test_util.py",
    }
    assert index.tests_for(["shop/util.py"]) == {"tests/test_util.py"}
    assert index.tests_for(["tests/conftest.py"]) == {
        "tests/test_orders.py",
        "tests/test_report.py",
        "tests/test_util.py",
    }


def test_src_layout_imports_resolve_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "src/pkg").mkdir(parents=True)
    (tmp_path / "src/pkg/__init__.py").write_text("")
    (tmp_path / "src/pkg/core.py").write_text("def f(): pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_core.py").write_text("from pkg.core import f\n")
    index = RepoIndex(tmp_path)
    index.refresh()
    assert index.tests_for(["src/pkg/core.py"]) == {"tests/test_core.py"}


def test_is_test_file() -> None:
    assert (
        is_test_file("test_x.py")
        and is_test_file("a/x_test.py")
        and is_test_file("tests/helpers.py")
    )
    assert (
        not is_test_file("tests/conftest.py")
        and not is_test_file("src/x.py")
        and not is_test_file("tests/data.txt")
    )


def test_check_syntax_uses_the_real_python_parser() -> None:
    assert check_syntax("a.py", b"x = 1\n") == ()
    (err,) = check_syntax("a.py", b"def f(:\n")
    assert err.startswith("1:")
    assert check_syntax("a.py", b"x = 1\x00\n")
    assert check_syntax("notes.md", b"def f(:") == ()


def test_a_missing_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotInRepository):
        RepoIndex(tmp_path / "nope")
