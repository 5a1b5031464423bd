from __future__ import annotations

from pathlib import Path

from swarm.scout import PythonIndexer


def kinds_of(src: str, name: str, path: str = "m.py") -> list[tuple[int, str]]:
    fi = PythonIndexer().index(path, src.encode())
    return [(o.line, o.kind) for o in fi.occurrences if o.name == name]


def test_definitions_references_attributes_and_keywords_are_told_apart() -> None:
    src = "def f(a):\n    return a\n\nx = f(a=1)\nobj.f()\n"
    assert kinds_of(src, "f") == [(1, "definition"), (4, "reference"), (5, "attribute")]
    assert kinds_of(src, "a") == [(1, "definition"), (2, "reference"), (4, "keyword")]


def test_imports_keep_module_paths_apart_from_imported_names() -> None:
    src = "import a.f as g\nfrom a.f import f as h\n"
    assert kinds_of(src, "f") == [(1, "module"), (2, "module"), (2, "import")]
    fi = PythonIndexer().index("m.py", src.encode())
    assert fi.imports == ("a.f", "a.f.f")


def test_relative_imports_resolve_against_the_files_package() -> None:
    fi = PythonIndexer().index("pkg/sub/m.py", b"from . import x\nfrom ..y import z\n")
    assert fi.imports == ("pkg.sub", "pkg.sub.x", "pkg.y", "pkg.y.z")
    imported = [o for o in fi.occurrences if o.name == "z"]
    assert imported[0].qualifier == "pkg.y"


def test_relative_import_above_the_root_is_dropped_not_invented() -> None:
    fi = PythonIndexer().index("m.py", b"from ... import x\n")
    assert fi.imports == ()


def test_all_entries_are_found_only_in_module_level_dunder_all() -> None:
    src = '__all__ = ["f", "g"]\nother = ["f"]\ndef h():\n    __all__ = ["f"]\n'
    assert [k for _, k in kinds_of(src, "f")] == ["all_entry"]


def test_scope_of_definitions() -> None:
    src = "x = 1\nclass C:\n    y = 2\n    def m(self, p):\n        z = 3\n        def inner(): pass\nif True:\n    w = 4\n"
    fi = PythonIndexer().index("m.py", src.encode())
    scopes = {o.name: o.scope for o in fi.occurrences if o.kind == "definition"}
    assert scopes == {
        "x": "module",
        "C": "module",
        "y": "class",
        "m": "class",
        "self": "local",
        "p": "local",
        "z": "local",
        "inner": "local",
        "w": "module",
    }


def test_columns_count_characters_not_bytes() -> None:
    src = 's = "héllo"; f(s)\n'
    occ = [o for o in PythonIndexer().index("m.py", src.encode()).occurrences if o.name == "f"]
    assert (occ[0].column, occ[0].end_column) == (13, 14)
    assert occ[0].context == src.strip()


def test_syntax_errors_are_listed_with_positions() -> None:
    fi = PythonIndexer().index("m.py", b"def broken(:\n    pass\n")
    assert fi.syntax_errors
    assert fi.syntax_errors[0].startswith("1:")
    assert PythonIndexer().index("m.py", b"x = 1\n").syntax_errors == ()


def test_strings_and_comments_are_not_identifiers() -> None:
    src = '# f here\ns = "f"\n'
    assert kinds_of(src, "f") == []


def test_index_of_bytes_an_index_already_parsed_is_the_fresh_parse(tmp_path: Path) -> None:
    import hashlib

    from swarm.scout import RepoIndex
    from swarm.scout._python import materialise

    src = b"import os\n\n\nclass K:\n    def f(self):\n        return os.sep\n"
    (tmp_path / "m.py").write_bytes(src)
    index = RepoIndex(tmp_path)
    index.refresh()
    again = PythonIndexer().index("other/m.py", src)
    fresh = materialise("other/m.py", hashlib.sha256(src).digest(), PythonIndexer().scan(src))
    assert again == fresh
    assert [o.name for o in index.file("m.py").occurrences] == [o.name for o in again.occurrences]


def test_recent_scans_forget_the_least_recently_used_first() -> None:
    from swarm.scout._python import _RecentScans

    recent = _RecentScans(2)
    scans = {k: PythonIndexer().scan(f"x{k} = 1\n".encode()) for k in range(3)}
    recent.put(b"0", scans[0])
    recent.put(b"1", scans[1])
    assert recent.get(b"0") is scans[0]  # now 1 is the least recently used
    recent.put(b"2", scans[2])
    assert (recent.get(b"0"), recent.get(b"1"), recent.get(b"2")) == (scans[0], None, scans[2])
