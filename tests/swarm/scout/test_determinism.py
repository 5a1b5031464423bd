"""The index is a pure function of the bytes: same file, same scan, every time, in any process.

The bug this guards against: ``__all__`` names and lists were paired from two
tree-sitter capture lists with ``zip()``, whose orders do not match, so the same
file gave 0, 2, 3 or all 120 of its entries from one run to the next.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarm.scout import PythonIndexer

ROOT = Path(__file__).resolve().parents[3]
STDLIB = Path(sysconfig.get_paths()["stdlib"])
REAL_MODULES = ("json/__init__.py", "argparse.py", "collections/__init__.py", "typing.py")

_names = st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda s: (
        s not in {"if", "in", "is", "or", "as", "def", "for", "and", "not", "del", "try"}
        and not __import__("keyword").iskeyword(s)
    )
)


@st.composite
def python_files(draw: st.DrawFn) -> bytes:
    """Modules with a long ``__all__``, imports, classes, methods, strings and docstrings."""
    names = draw(st.lists(_names, min_size=1, max_size=40, unique=True))
    lines = [f'"""A module mentioning `{names[0]}` and pkg.mod.{names[-1]}()."""']
    lines.append("__all__ = [" + ", ".join(f'"{n}"' for n in names) + "]")
    lines.append("__all__ += [" + ", ".join(f"'{n}'" for n in names[::2]) + "]")
    for n in draw(st.lists(st.sampled_from(names), max_size=5)):
        lines.append(f"from .m_{n} import {n} as alias_{n}")
    lines.append("from .star import *")
    lines.append("import pkg.sub as ps")
    for i, n in enumerate(names):
        shape = draw(st.integers(0, 3))
        if shape == 0:
            lines += [
                f"def {n}(a, b=1):",
                f'    """Call ``{n}`` or :func:`{n}`."""',
                f"    return ps.{n}(a)",
            ]
        elif shape == 1:
            lines += [f"class C{i}(Base):", f"    def {n}(self):", f"        return self.{n}()"]
        elif shape == 2:
            lines += [f'{n} = mock.patch("pkg.mod.{n}")', f'getattr(ps, "{n}")']
        else:
            lines += [f"x{i} = C{i}()", f"x{i}.{n}", f"[{n} for {n} in range(3)]"]
    return ("\n".join(lines) + "\n").encode()


def _digest(scan_json: object) -> str:
    return hashlib.sha256(json.dumps(scan_json, sort_keys=True).encode()).hexdigest()


def _scan_in_subprocess(paths: list[Path], seed: str) -> list[str]:
    code = (
        "import hashlib, json, sys\n"
        "from swarm.scout import PythonIndexer\n"
        "ix = PythonIndexer()\n"
        "for p in sys.argv[1:]:\n"
        "    s = ix.scan(open(p, 'rb').read()).to_json()\n"
        "    print(hashlib.sha256(json.dumps(s, sort_keys=True).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return out.stdout.split()


@settings(max_examples=40, deadline=None)
@given(python_files())
def test_the_same_bytes_scan_the_same_every_time_in_one_process(source: bytes) -> None:
    first = PythonIndexer().scan(source)
    for _ in range(5):
        assert PythonIndexer().scan(source) == first
    all_names = [r[3] for r in first.rows if r[4] == "all_entry"]
    line2 = source.split(b"\n")[1].decode()
    assert (
        len([r for r in first.rows if r[4] == "all_entry" and r[0] == 2]) == line2.count('"') // 2
    )
    assert all_names  # every entry of both statements is found, every time


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(python_files(), min_size=1, max_size=4))
def test_the_same_bytes_scan_the_same_in_other_processes(
    tmp_path: Path, sources: list[bytes]
) -> None:
    paths = []
    for i, source in enumerate(sources):
        path = tmp_path / f"gen_{i}.py"
        path.write_bytes(source)
        paths.append(path)
    here = [_digest(PythonIndexer().scan(s).to_json()) for s in sources]
    for seed in ("1", "2"):
        assert _scan_in_subprocess(paths, seed) == here


def test_real_standard_library_modules_scan_the_same_everywhere() -> None:
    paths = [STDLIB / rel for rel in REAL_MODULES]
    here: list[str] = []
    for path in paths:
        source = path.read_bytes()
        scans = {_digest(PythonIndexer().scan(source).to_json()) for _ in range(5)}
        assert len(scans) == 1, path
        here.extend(scans)
    for seed in ("0", "42"):
        assert _scan_in_subprocess(paths, seed) == here


def test_a_long_dunder_all_is_found_whole_on_every_run() -> None:
    names = [f"name_{i:03d}" for i in range(120)]
    source = ("__all__ = [\n" + "".join(f'    "{n}",\n' for n in names) + "]\n").encode()
    for _ in range(40):
        found = [r[3] for r in PythonIndexer().scan(source).rows if r[4] == "all_entry"]
        assert found == names
