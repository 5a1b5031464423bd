"""The project's bytecode cache: compiled once by a compile-only pass, used only when it matches.

Every project here carries a fresh token in its sources, so its cache entries
are new to the session's shared cache whatever ran before.
"""

from __future__ import annotations

import _imp
import hashlib
import importlib.util
import os
import secrets
import textwrap
from pathlib import Path

import sandbox
from sandbox import Sandbox, TestOutcome
from sandbox._bytecode import _admit, _entry, _valid_pyc, mounted_bytecode, project_sources


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _names_under(folder: Path) -> set[str]:
    """File names anywhere under ``folder``. The store is the user's shared cache: other
    sandbox runs (another test process) make and remove ``run-*`` folders in it meanwhile,
    so a folder that vanishes mid-walk is skipped (``os.walk`` ignores it), not an error."""
    return {name for _, _, files in os.walk(folder) for name in files}


def _store(box: Sandbox) -> Path:
    return box.cache_dir / "bytecode" / box.runtime.sha256.lower()[:16]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _project(tmp_path: Path, token: str) -> Path:
    return _write(
        tmp_path / "proj",
        {
            "pkg/__init__.py": f"TOKEN = {token!r}\n",
            "pkg/mod.py": f"VALUE = 1  # {token}\n",
            "tests/__init__.py": "",
            "tests/test_cache.py": f"""
                import importlib, importlib.machinery, os, unittest
                import pkg, pkg.mod

                class CacheTest(unittest.TestCase):
                    def test_imported_from_the_hosts_bytecode(self):
                        # {token}
                        self.assertTrue(os.path.isfile('/.sandbox-pyc/work/pkg/mod.pyc'))
                        loader = type(pkg.mod.__spec__.loader)
                        self.assertIsNot(loader, importlib.machinery.SourceFileLoader)
                        self.assertEqual(pkg.mod.__file__, '/work/pkg/mod.py')

                    def test_a_rewritten_source_is_recompiled_not_stale(self):
                        with open('/work/pkg/mod.py', 'w') as f:
                            f.write('VALUE = 2\\n')
                        self.assertEqual(importlib.reload(pkg.mod).VALUE, 2)

                    def test_the_bytecode_cannot_be_written(self):
                        with self.assertRaises(OSError):
                            open('/.sandbox-pyc/work/pkg/mod.pyc', 'wb')
                        with self.assertRaises(OSError):
                            open('/.sandbox-pyc/work/pkg/planted.pyc', 'wb')
            """,
        },
    )


def test_sources_are_compiled_once_and_imported_from_the_cache(
    box: Sandbox, tmp_path: Path
) -> None:
    root = _project(tmp_path, secrets.token_hex(8))
    # Taken before the run: one test rewrites pkg/mod.py in the (writable) folder.
    before = {rel: _sha(path) for rel, path in project_sources(root)}
    report = box.run_tests(root)
    assert report.complete, report.problem
    assert report.failed == 0 and report.passed == 3, report.items
    store = _store(box)
    assert len(before) == 4
    for rel, sha in before.items():
        assert _entry(store, sha, ".pyc").is_file(), rel
    # Nothing the tests tried to write reached the store or the project's copy.
    assert "planted.pyc" not in _names_under(store) and not list(root.rglob("*.pyc"))


def test_a_source_that_does_not_compile_is_marked_and_reported(
    box: Sandbox, tmp_path: Path
) -> None:
    token = secrets.token_hex(8)
    root = _write(
        tmp_path / "broken",
        {
            "tests/__init__.py": "",
            "tests/test_broken.py": f"def test_x(:  # {token}\n",
        },
    )
    report = box.run_tests(root)
    assert report.complete, report.problem
    assert report.names(TestOutcome.ERROR) == ("tests/test_broken.py",)
    marker = _entry(_store(box), _sha(root / "tests/test_broken.py"), ".none")
    assert marker.is_file() and marker.read_bytes() == b""


def test_the_run_folder_mirrors_the_project_and_is_removed(box: Sandbox, tmp_path: Path) -> None:
    root = _project(tmp_path, secrets.token_hex(8))
    with mounted_bytecode(box, root) as folder:
        assert folder is not None
        laid_out = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.pyc"))
    assert laid_out == [
        "work/pkg/__init__.pyc",
        "work/pkg/mod.pyc",
        "work/tests/__init__.pyc",
        "work/tests/test_cache.pyc",
    ]
    assert not folder.exists()


def test_only_checked_pycs_of_the_staged_sources_are_admitted(tmp_path: Path) -> None:
    # The pass's output is checked on the host: a pyc for another source, for a
    # source that was not staged, or with a foreign magic never enters the store.
    magic = importlib.util.MAGIC_NUMBER
    key = int.from_bytes(magic, "little")
    good_src, other_src = b"x = 1\n", b"x = 2\n"
    good_sha = hashlib.sha256(good_src).hexdigest()
    forged_sha = hashlib.sha256(other_src).hexdigest()
    stray_sha = "0" * 64

    def pyc(source: bytes, head: bytes = magic) -> bytes:
        body = b"\xe3" + b"\0" * 8
        return head + (3).to_bytes(4, "little") + _imp.source_hash(key, source) + body

    out = tmp_path / "out"
    out.mkdir()
    (out / f"{good_sha}.pyc").write_bytes(pyc(good_src))
    (out / f"{forged_sha}.pyc").write_bytes(pyc(good_src))  # claims other_src, hashes good_src
    (out / f"{stray_sha}.pyc").write_bytes(pyc(good_src))  # never staged
    store = tmp_path / "store"
    _admit(store, out, {good_sha: good_src, forged_sha: other_src}, magic)
    assert _entry(store, good_sha, ".pyc").is_file()
    assert not _entry(store, forged_sha, ".pyc").exists()
    assert not _entry(store, stray_sha, ".pyc").exists()
    assert not _valid_pyc(pyc(good_src, head=b"\0\0\r\n"), good_src, magic, key)
    assert not _valid_pyc(pyc(good_src)[:16], good_src, magic, key)


_HOOKED_IMPORT = """
import sys
sys.path.insert(0, '/work')
use_bytecode('/.sandbox-pyc')
import pkg.mod
print(pkg.mod.VALUE)
"""


def test_the_guest_loads_a_matching_pyc_and_skips_a_stale_one(box: Sandbox, tmp_path: Path) -> None:
    # A pyc compiled from other code but stamped with the real source's hash
    # proves which one the guest ran: 99 from the pyc, 1 from the source.
    token = secrets.token_hex(8)
    root = _write(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/mod.py": "VALUE = 1\n"})
    other = _write(tmp_path / "other", {"pkg/mod.py": f"VALUE = 99  # {token}\n"})
    with mounted_bytecode(box, other):  # compiles `other` into the store
        pass
    compiled = _entry(_store(box), _sha(other / "pkg/mod.py"), ".pyc").read_bytes()
    key = int.from_bytes(compiled[:4], "little")
    runner = Path(sandbox.__file__).with_name("_guest_runner.py").read_text()
    runner = runner.replace('if __name__ == "__main__":\n    main()\n', "")
    outputs: list[str] = []
    for stamp in ((root / "pkg/mod.py").read_bytes(), b"stale source\n"):
        mount = tmp_path / f"pyc-{len(outputs)}"
        (mount / "work/pkg").mkdir(parents=True)
        forged = compiled[:8] + _imp.source_hash(key, stamp) + compiled[16:]
        (mount / "work/pkg/mod.pyc").write_bytes(forged)
        result = box.run(
            runner + _HOOKED_IMPORT, folder=root, readonly_dirs={"/.sandbox-pyc": mount}
        )
        assert result.ok, result.stderr.decode()
        outputs.append(result.stdout.decode().strip())
    assert outputs == ["99", "1"]


_MEMO = """
import os, sys
memoise_stats(['/ro'])
first, again = os.stat('/ro/f.txt'), os.stat('/ro/f.txt')
assert os.stat('/ro') is os.stat('/ro')
with open('/work/w.txt', 'w') as f:
    f.write('x')
small = os.stat('/work/w.txt').st_size
with open('/work/w.txt', 'w') as f:
    f.write('xyz')
missing = 0
for _ in range(2):
    try:
        os.stat('/ro/missing')
    except FileNotFoundError:
        missing += 1
print(first is again, first.st_size, small, os.stat('/work/w.txt').st_size, missing,
      os.stat('/ro/f.txt', follow_symlinks=False) is first)
"""


def test_stats_are_memoised_only_under_the_read_only_folders(box: Sandbox, tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "f.txt").write_text("12345")
    work = tmp_path / "work"
    work.mkdir()
    runner = Path(sandbox.__file__).with_name("_guest_runner.py").read_text()
    runner = runner.replace('if __name__ == "__main__":\n    main()\n', "")
    result = box.run(runner + _MEMO, folder=work, writable=True, readonly_dirs={"/ro": ro})
    assert result.ok, result.stderr.decode()
    # Memoised under /ro; a writable folder's changes and a missing file are seen every time.
    assert result.stdout.decode().split() == ["True", "5", "1", "3", "2", "False"]
