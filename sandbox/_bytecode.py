"""Bytecode for the project's own files, compiled once per content and guest interpreter.

A test run imports the project's modules from source: the copy the critic
hands over has no ``__pycache__``, and the guest may not write one that a
later run would trust. Compiling in the guest costs real time (idna 3.10's
357 KB of tables took ~0.3-0.6 s of a ~1.5-2 s suite, ADR 0010), and a
mission runs the same files three times (baseline, tied tests, full suite).

So before a test run, the host looks up each ``.py`` file of the project by
the SHA-256 of its bytes in ``<cache>/bytecode/<guest>/``, keyed by the guest
interpreter's SHA-256. Files not there yet are compiled by a **compile-only
pass**: a separate sandbox run that sees only staged copies of those sources
(never the project folder) and runs only the script below, which calls
``compile()`` and never executes the project's code. Its output is checked on
the host (one guest magic number, checked-hash flags, the source hash of the
very bytes staged) before it enters the cache, so code under test can never
plant bytecode for a later run: it runs in another store, after the pass.

A test run then gets a fresh read-only folder at ``PYC_DIR`` mirroring the
project's paths (``/work/pkg/mod.py`` -> ``PYC_DIR/work/pkg/mod.pyc``); the
guest runner's import hook loads a ``.pyc`` from there only when its source
hash matches the source as it is at import time (a test that rewrites a
module gets it recompiled, as CPython's checked-hash mode does). Everything
here is an optimisation: on any failure the run imports from source.
"""

from __future__ import annotations

import _imp
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ._guest_runner import ROOT, SKIP_DIRS
from ._types import MIB, Limits

if TYPE_CHECKING:
    from ._runner import Sandbox

PYC_DIR = "/.sandbox-pyc"  # where a test run sees the project's bytecode (read-only)
MAX_FILE = 8 << 20  # a larger source is left to the guest
MAX_FILES = 20_000  # files cached per run; past this, the rest compile in the guest
MAX_STAGED = 16 << 20  # source bytes one compile pass takes (~1 MB/s in the guest)
_FLAGS_CHECKED_HASH = 0b11
_META = "guest.json"

# Runs in the guest with /work holding src/<sha>.py and an empty out/. It only
# compiles; nothing of the project runs. A source that does not compile gets a
# <sha>.none marker, so it is not staged again (the test run reports the error).
# The magic number comes first, so a pass stopped at its deadline still
# contributes what it finished.
_COMPILE_PASS = """\
import importlib._bootstrap_external as ext, importlib.util, json, os, sys
print(json.dumps({'magic': importlib.util.MAGIC_NUMBER.hex()}), flush=True)
for name in sorted(os.listdir('/work/src')):
    sha = name[:-3]
    with open('/work/src/' + name, 'rb') as f:
        data = f.read()
    try:
        code = compile(data, name, 'exec', dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        open('/work/out/' + sha + '.none', 'wb').close()
        continue
    pyc = ext._code_to_hash_pyc(code, importlib.util.source_hash(data), True)
    with open('/work/out/' + sha + '.pyc', 'wb') as f:
        f.write(pyc)
"""


def project_sources(root: Path) -> list[tuple[str, Path]]:
    """(path relative to ``root``, file) of the project's ``.py`` files the guest may import."""
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.endswith(".py") and not path.is_symlink() and path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
            if len(found) >= MAX_FILES:
                return found
    return found


@contextmanager
def mounted_bytecode(box: Sandbox, root: Path) -> Iterator[Path | None]:
    """A read-only folder to mount at ``PYC_DIR`` for a test run of ``root``, or None.

    Compiles what the cache lacks first (one compile-only pass); the folder is
    removed when the block ends.
    """
    store = box.cache_dir / "bytecode" / box.runtime.sha256.lower()[:16]
    try:
        sources = _hashed(project_sources(root))
        _fill(box, store, sources)
        run_dir = Path(tempfile.mkdtemp(dir=store, prefix="run-"))
    except OSError:
        yield None
        return
    try:
        linked = _link_run(store, run_dir, sources)
        yield run_dir if linked else None
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _hashed(sources: list[tuple[str, Path]]) -> dict[str, tuple[str, bytes]]:
    """relative path -> (SHA-256 of the bytes, the bytes), for files within MAX_FILE."""
    out: dict[str, tuple[str, bytes]] = {}
    for rel, path in sources:
        if path.stat().st_size > MAX_FILE:
            continue
        data = path.read_bytes()
        out[rel] = (hashlib.sha256(data).hexdigest(), data)
    return out


def _entry(store: Path, sha: str, suffix: str) -> Path:
    return store / sha[:2] / f"{sha}{suffix}"


def _fill(box: Sandbox, store: Path, sources: dict[str, tuple[str, bytes]]) -> None:
    """Compile, in one guest pass, every source the cache has neither bytecode nor a marker for."""
    missing: dict[str, bytes] = {}
    staged = 0
    for sha, data in sources.values():
        if sha in missing or any(_entry(store, sha, s).exists() for s in (".pyc", ".none")):
            continue
        if staged + len(data) > MAX_STAGED:
            break
        missing[sha] = data
        staged += len(data)
    if not missing:
        return
    store.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store, prefix="pass-") as tmp:
        work = Path(tmp)
        (work / "src").mkdir()
        (work / "out").mkdir()
        for sha, data in missing.items():
            (work / "src" / f"{sha}.py").write_bytes(data)
        result = box.run(
            _COMPILE_PASS,
            folder=work,
            writable=True,
            limits=Limits(
                timeout=120.0, max_files=2 * len(missing) + 16, max_write_bytes=4 * staged + MIB
            ),
        )
        # Even a pass that ran out of time leaves checked entries for what it
        # finished; whatever is missing compiles from source in the test run.
        magic = _guest_magic(store, result.stdout)
        if magic is not None:
            _admit(store, work / "out", missing, magic)


def _guest_magic(store: Path, stdout: bytes) -> bytes | None:
    """The guest's magic number, as the pass printed it and as the store first recorded it."""
    try:
        magic = bytes.fromhex(json.loads(stdout.decode().splitlines()[0])["magic"])
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    meta = store / _META
    if not meta.exists():
        _write_atomic(meta, json.dumps({"magic": magic.hex()}).encode())
    recorded = bytes.fromhex(json.loads(meta.read_text())["magic"])
    return magic if len(magic) == 4 and magic == recorded else None


def _admit(store: Path, out: Path, staged: dict[str, bytes], magic: bytes) -> None:
    """Move the pass's output into the store: only files for staged sources, each checked."""
    key = int.from_bytes(magic, "little")
    for item in out.iterdir():
        sha, _, suffix = item.name.partition(".")
        if sha not in staged or suffix not in ("pyc", "none") or not item.is_file():
            continue
        data = item.read_bytes()
        if suffix == "pyc" and not _valid_pyc(data, staged[sha], magic, key):
            continue
        if suffix == "none" and data:
            continue
        _write_atomic(_entry(store, sha, "." + suffix), data)


def _valid_pyc(pyc: bytes, source: bytes, magic: bytes, key: int) -> bool:
    """A checked-hash .pyc of this guest for exactly ``source``."""
    return (
        len(pyc) > 16
        and pyc[:4] == magic
        and int.from_bytes(pyc[4:8], "little") == _FLAGS_CHECKED_HASH
        and pyc[8:16] == _imp.source_hash(key, source)
    )


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _link_run(store: Path, run_dir: Path, sources: dict[str, tuple[str, bytes]]) -> int:
    """Lay out ``run_dir/work/<rel>c`` for every cached source; how many were laid out."""
    count = 0
    for rel, (sha, _) in sources.items():
        entry = _entry(store, sha, ".pyc")
        if not entry.is_file():
            continue
        target = run_dir / ROOT.lstrip("/") / (rel + "c")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(entry, target)
        except OSError:
            shutil.copyfile(entry, target)
        count += 1
    return count
