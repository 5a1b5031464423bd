"""RepoIndex: the repository-wide index over per-language indexers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath

import replay
from swarm.scout._errors import NotInRepository, UnknownFile, UnsupportedLanguage
from swarm.scout._python import RECENT, PythonIndexer, Scan, materialise, module_name
from swarm.scout._symbols import Symbols
from swarm.scout._types import FileIndex, IndexStats, Occurrence

# Directories never worth indexing: VCS data, caches, virtual environments, vendored JS.
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env"})


def is_test_file(path: str) -> bool:
    """True for ``test_*.py``, ``*_test.py`` and Python files under a ``tests/`` folder
    (``conftest.py`` and ``__init__.py`` are support files, not tests)."""
    parts = path.split("/")
    name = parts[-1]
    if not name.endswith(".py") or name in ("conftest.py", "__init__.py"):
        return False
    if name.startswith("test_") or name.endswith("_test.py"):
        return True
    return "tests" in parts[:-1] or "test" in parts[:-1]


def check_syntax(path: str, source: bytes) -> tuple[str, ...]:
    """The syntax errors of one file (``"line:col message"``), empty when it parses cleanly.

    For Python the authority is CPython's own parser (what will run the code),
    not tree-sitter, which accepts some invalid programs and may lag new syntax.
    Files of languages the scout does not check return no errors.
    """
    if not path.endswith((".py", ".pyi")):
        return ()
    try:
        # compile, not ast.parse: building Python AST objects from several threads at
        # once trips CPython 3.11's shared recursion counter (SystemError "AST constructor
        # recursion depth mismatch"); compiling to bytecode never builds them, and also
        # refuses what only the compiler catches ('return' outside a function).
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return (f"{exc.lineno or 0}:{max((exc.offset or 1) - 1, 0)} {exc.msg}",)
    except ValueError as exc:  # e.g. null bytes in the source
        return (f"0:0 {exc}",)
    except RecursionError:
        return ("0:0 nested too deeply for the parser",)
    return ()


class RepoIndex:
    """An index of every source file under ``root``.

    Parsing is cached by (indexer version, content sha256): in memory for this
    instance and, when ``cache_dir`` is given, on disk as one JSON file per
    entry written atomically, so processes sharing the directory never parse an
    unchanged file twice. ``only`` restricts the index to the files it accepts
    (a quick look-up that needs a few files, not the repository). ``parses`` is a
    dict shared with other indexes built one after another (a file with bytes one of
    them parsed is not parsed again). Not thread-safe: one agent owns one index.

    With ``cache_root`` (a workspace holding ``cache_dir``), every cache read and
    write goes through the path guard ``replay.GuardedTree(cache_root)``, so a
    symlink on the way to the cache (a planted ``.swarm``) is refused, never followed.

    With ``lazy=True``, :meth:`refresh` reads and hashes every file but parses none:
    a file is parsed when a query needs it (:meth:`find` parses the files whose bytes
    hold the name, :meth:`file` its one file, :meth:`symbols` the modules a resolution
    walks through, :meth:`import_graph` all of them). Every answer is the one the
    eager index gives (an occurrence's name is always spelled in its file's bytes);
    a rename of a rare name in a big repository just parses far fewer files. A lazy
    index may be read from several threads at once (parsing takes a lock).
    """

    def __init__(
        self,
        root: Path,
        *,
        cache_dir: Path | None = None,
        cache_root: Path | None = None,
        only: Callable[[str, bytes], bool] | None = None,
        parses: dict[bytes, Scan] | None = None,
        lazy: bool = False,
    ) -> None:
        self.root = Path(root).resolve()
        self._only = only  # index just the files this accepts (path, bytes); None = all
        if not self.root.is_dir():
            raise NotInRepository(str(root), "(not a directory)")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._guard: tuple[replay.GuardedTree, str] | None = None
        if cache_root is not None and self.cache_dir is not None:
            rel = self.cache_dir.relative_to(cache_root).as_posix()
            self._guard = (replay.GuardedTree(cache_root), rel)
        self._indexers = [PythonIndexer()]
        self._files: dict[str, FileIndex] = {}
        self._lazy = lazy
        self._pending: dict[str, bytes] = {}  # lazy: path -> bytes read, not parsed yet
        self._lock = threading.RLock()  # parsing on demand may happen in several threads
        self._stat: dict[str, tuple[int, int]] = {}
        # Parses by (indexer version, content hash): a pure function of the bytes, so
        # indexes of one process may share them (``parses``), as processes share the cache.
        self._scans: dict[bytes, Scan] = parses if parses is not None else {}
        self._by_name: dict[str, dict[str, list[Occurrence]]] = {}
        self._graph: dict[str, set[str]] | None = None
        self._symbols: Symbols | None = None
        self._parsed = 0
        self._cached = 0

    # -- building ---------------------------------------------------------

    def refresh(self) -> IndexStats:
        """Walk the repository and (re)index new or changed files; forget deleted ones.

        Skips ``.git`` and every hidden directory, ``__pycache__``, virtual
        environments (any directory holding ``pyvenv.cfg``) and ``node_modules``.
        A file whose size and mtime are unchanged is not even re-read.
        """
        started = time.perf_counter()
        self._parsed = self._cached = 0
        seen: set[str] = set()
        for path, full in self._walk():
            seen.add(path)
            try:
                st = full.stat()
            except OSError:
                continue
            fingerprint = (st.st_size, st.st_mtime_ns)
            if self._stat.get(path) == fingerprint and self._known(path):
                self._cached += 1
                continue
            source = full.read_bytes()
            if self._only is not None and not self._only(path, source):
                seen.discard(path)
                continue
            if self._lazy:
                self._defer(path, source)
            else:
                self._index_bytes(path, source)
            self._stat[path] = fingerprint
        gone = [p for p in self._paths() if p not in seen]
        for path in gone:
            self.remove(path)
        return IndexStats(
            files=len(self._paths()),
            parsed=self._parsed,
            cached=self._cached,
            seconds=time.perf_counter() - started,
            removed=len(gone),
        )

    def update(self, path: str, source: bytes) -> FileIndex:
        """Re-index one file from ``source`` (after an edit); the file on disk is not read."""
        path = self.normalise(path)
        self._indexer_for(path)
        with self._lock:
            self._stat.pop(path, None)
            self._pending.pop(path, None)
            return self._index_bytes(path, source)

    def remove(self, path: str) -> None:
        """Forget one file (after a deletion); unknown paths are ignored."""
        path = self.normalise(path)
        with self._lock:
            old = self._files.pop(path, None)
            self._stat.pop(path, None)
            if self._pending.pop(path, None) is not None:
                self._changed()
            if old is not None:
                self._unlink_names(old)
                self._changed()

    def normalise(self, path: str) -> str:
        """The repo-relative POSIX form of ``path``; refuses anything outside the repository."""
        if not path or "\x00" in path:
            raise NotInRepository(path, str(self.root))
        candidate = Path(path)
        full = candidate if candidate.is_absolute() else self.root / candidate
        resolved = Path(os.path.normpath(full))
        try:
            rel = resolved.relative_to(self.root)
        except ValueError:
            raise NotInRepository(path, str(self.root)) from None
        if not rel.parts:
            raise NotInRepository(path, str(self.root))
        # A symlink inside the tree may still point out of it.
        real = Path(os.path.realpath(resolved))
        if real != resolved:
            try:
                real.relative_to(self.root)
            except ValueError:
                raise NotInRepository(path, str(self.root)) from None
        return PurePosixPath(*rel.parts).as_posix()

    # -- queries ----------------------------------------------------------

    def files(self) -> list[str]:
        """Every indexed repo path, sorted."""
        with self._lock:
            return sorted(self._paths())

    def file(self, path: str) -> FileIndex:
        """The index of one file."""
        key = self.normalise(path)
        with self._lock:
            if key in self._pending:
                self._load(key)
            try:
                return self._files[key]
            except KeyError:
                raise UnknownFile(key) from None

    def find(self, name: str, kinds: Iterable[str] | None = None) -> list[Occurrence]:
        """Every occurrence of identifier ``name`` (optionally only ``kinds``), in path order."""
        wanted = set(kinds) if kinds is not None else None
        out: list[Occurrence] = []
        with self._lock:
            if self._pending:
                for path in self.mentioning(name):
                    self._load(path)
            per_file = self._by_name.get(name, {})
            for path in sorted(per_file):
                for occ in per_file[path]:
                    if wanted is None or occ.kind in wanted:
                        out.append(occ)
        return out

    def _parsed_file(self, path: str) -> FileIndex:
        """The index of repo path ``path`` (already normalised), parsing it if deferred."""
        with self._lock:
            self._load(path)
            return self._files[path]

    def mentioning(self, name: str) -> list[str]:
        """The paths whose occurrences may include ``name``: the parsed files that hold it
        and the unparsed ones whose bytes spell it (a superset, never parsed here)."""
        needle = name.encode()
        # A name read from invalid UTF-8 holds U+FFFD, which the bytes do not spell.
        unsure = "\ufffd" in name
        with self._lock:
            found = set(self._by_name.get(name, {}))
            found.update(p for p, src in self._pending.items() if unsure or needle in src)
            return sorted(found)

    def defines(self, name: str) -> list[Occurrence]:
        """The definitions of ``name`` at module level or in a class body (not locals)."""
        return [o for o in self.find(name, ("definition",)) if o.scope in ("module", "class")]

    def symbols(self) -> Symbols:
        """Symbol resolution over the index as it stands (rebuilt after any change)."""
        with self._lock:
            if self._symbols is None:
                if self._lazy:
                    self._symbols = Symbols(_LazyFiles(self), mentioning=self.mentioning)
                else:
                    self._symbols = Symbols(dict(self._files))
            return self._symbols

    def module_path(self, dotted: str) -> str | None:
        """The repo path of module ``dotted`` (see :meth:`import_graph` for how it resolves)."""
        with self._lock:
            hits = self._modules().get(dotted)
        return hits[0] if hits else None

    def import_graph(self) -> dict[str, set[str]]:
        """path -> the repo paths it imports.

        A dotted name resolves to the file whose module name (from the repo
        root) equals it, else to the files whose module name ends with it at
        the fewest extra leading packages (so ``src/`` layouts and test roots
        work). Importing ``a.b.c`` also ties the file to ``a/__init__.py`` and
        ``a/b/__init__.py``, which Python runs first. Ambiguity over-approximates:
        more edges, so more tests run, never fewer.
        """
        with self._lock:
            return self._import_graph()

    def _import_graph(self) -> dict[str, set[str]]:
        if self._graph is None:
            for path in list(self._pending):
                self._load(path)
            table = self._modules()
            graph: dict[str, set[str]] = {}
            for path, fi in self._files.items():
                targets: set[str] = set()
                for dotted in fi.imports:
                    parts = dotted.split(".")
                    for k in range(1, len(parts) + 1):
                        targets.update(table.get(".".join(parts[:k]), ()))
                targets.discard(path)
                graph[path] = targets
            self._graph = graph
        return {p: set(t) for p, t in self._graph.items()}

    def dependents(self, paths: Iterable[str]) -> set[str]:
        """The paths that import these, transitively, including themselves."""
        graph = self.import_graph()
        reverse: dict[str, set[str]] = {}
        for src, targets in graph.items():
            for dst in targets:
                reverse.setdefault(dst, set()).add(src)
        start = {self.normalise(p) for p in paths}
        seen = set(start)
        stack = list(start)
        while stack:
            for src in reverse.get(stack.pop(), ()):
                if src not in seen:
                    seen.add(src)
                    stack.append(src)
        return seen

    def tests_for(self, changed: Iterable[str]) -> set[str]:
        """The test files the import graph ties to the changed files.

        A changed ``conftest.py`` ties every test under its directory.
        """
        changed = [self.normalise(p) for p in changed]
        tied = {p for p in self.dependents(changed) if is_test_file(p)}
        for path in changed:
            if path.rsplit("/", 1)[-1] == "conftest.py":
                folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
                tied.update(p for p in self.files() if p.startswith(folder) and is_test_file(p))
        return tied

    # -- internals --------------------------------------------------------

    def _walk(self) -> Iterable[tuple[str, Path]]:
        suffixes = tuple(s for ix in self._indexers for s in ix.suffixes)
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".")
                and d not in _SKIP_DIRS
                and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
            )
            rel_dir = Path(dirpath).relative_to(self.root)
            for name in sorted(filenames):
                if name.endswith(suffixes) and not name.startswith("."):
                    full = Path(dirpath, name)
                    if full.is_symlink():
                        continue  # may point outside the tree; never follow
                    yield PurePosixPath(*rel_dir.parts, name).as_posix(), full

    def _indexer_for(self, path: str) -> PythonIndexer:
        for ix in self._indexers:
            if path.endswith(ix.suffixes):
                return ix
        raise UnsupportedLanguage(path)

    def _paths(self) -> set[str]:
        return self._files.keys() | self._pending.keys()

    def _known(self, path: str) -> bool:
        return path in self._files or path in self._pending

    def _changed(self) -> None:
        """Forget what was derived from the set of files or their contents."""
        self._graph = None
        self._symbols = None
        self._modules_cache = None

    def _defer(self, path: str, source: bytes) -> None:
        """Lazy refresh: keep the bytes of a new or changed file, parse it when asked."""
        old = self._files.get(path)
        if old is not None:
            if old.sha256 == hashlib.sha256(source).digest():
                self._cached += 1
                return
            del self._files[path]
            self._unlink_names(old)
        self._pending[path] = source
        self._changed()

    def _load(self, path: str) -> None:
        """Parse one deferred file: the index's content does not change, only what is known
        of it, so nothing derived is forgotten (a Symbols in use stays valid)."""
        source = self._pending.pop(path, None)
        if source is not None:
            self._add(path, hashlib.sha256(source).digest(), source)

    def _index_bytes(self, path: str, source: bytes) -> FileIndex:
        sha = hashlib.sha256(source).digest()
        old = self._files.get(path)
        if old is not None and old.sha256 == sha:
            self._cached += 1
            return old
        if old is not None:
            self._unlink_names(old)
        fi = self._add(path, sha, source)
        self._changed()
        return fi

    def _add(self, path: str, sha: bytes, source: bytes) -> FileIndex:
        indexer = self._indexer_for(path)
        scan = self._scan(indexer, sha, source)
        if isinstance(indexer, PythonIndexer):
            RECENT.put(sha, scan)  # an edit of this file parses it no more (PythonIndexer.index)
        fi = materialise(path, sha, scan)
        self._files[path] = fi
        for occ in fi.occurrences:
            self._by_name.setdefault(occ.name, {}).setdefault(path, []).append(occ)
        return fi

    def _scan(self, indexer: PythonIndexer, sha: bytes, source: bytes) -> Scan:
        key = hashlib.sha256(indexer.version.encode() + b"\0" + sha).digest()
        scan = self._scans.get(key)
        if scan is not None:
            self._cached += 1
            return scan
        raw = self._cache_read(key)
        if raw is not None:
            try:
                scan = Scan.from_json(json.loads(raw))
            except (ValueError, KeyError, TypeError, IndexError):
                scan = None  # a torn or foreign entry: parse again and overwrite it
            if scan is not None:
                self._scans[key] = scan
                self._cached += 1
                return scan
        scan = indexer.scan(source)
        self._parsed += 1
        self._scans[key] = scan
        self._cache_write(key, json.dumps(scan.to_json(), separators=(",", ":")))
        return scan

    def _cache_read(self, key: bytes) -> bytes | None:
        if self._guard is not None:
            tree, rel = self._guard
            hexkey = key.hex()
            try:
                return tree.read(f"{rel}/{hexkey[:2]}/{hexkey}.json")
            except replay.UnsafePath:
                return None  # a planted link in the cache: never followed, parse instead
        entry = self._cache_entry(key)
        if entry is None or not entry.exists():
            return None
        try:
            return entry.read_bytes()
        except OSError:
            return None

    def _cache_write(self, key: bytes, text: str) -> None:
        if self._guard is not None:
            tree, rel = self._guard
            hexkey = key.hex()
            # The cache only saves time: an entry the guard refuses is simply not kept.
            with contextlib.suppress(replay.UnsafePath):
                tree.write(f"{rel}/{hexkey[:2]}/{hexkey}.json", text.encode(), metadata_ok=True)
            return
        entry = self._cache_entry(key)
        if entry is not None:
            _write_atomic(entry, text)

    def _cache_entry(self, key: bytes) -> Path | None:
        if self.cache_dir is None:
            return None
        hexkey = key.hex()
        return self.cache_dir / hexkey[:2] / f"{hexkey}.json"

    def _unlink_names(self, fi: FileIndex) -> None:
        for name in {o.name for o in fi.occurrences}:
            per_file = self._by_name.get(name)
            if per_file is not None:
                per_file.pop(fi.path, None)
                if not per_file:
                    del self._by_name[name]
        self._modules_cache = None

    _modules_cache: dict[str, list[str]] | None = None

    def _modules(self) -> dict[str, list[str]]:
        if self._modules_cache is None:
            ranked: dict[str, list[tuple[int, str]]] = {}
            for path in self._paths():
                if not path.endswith(".py"):
                    continue
                parts = module_name(path).split(".")
                for k in range(len(parts)):
                    ranked.setdefault(".".join(parts[k:]), []).append((k, path))
            table: dict[str, list[str]] = {}
            for dotted, hits in ranked.items():
                best = min(k for k, _ in hits)
                table[dotted] = sorted(p for k, p in hits if k == best)
            self._modules_cache = table
        return self._modules_cache


class _LazyFiles(Mapping[str, FileIndex]):
    """A lazy index's files as :class:`Symbols` reads them: every path, each parsed on
    first access (through the index, so under its lock)."""

    def __init__(self, index: RepoIndex) -> None:
        self._index = index
        self._keys = sorted(index._paths())

    def __getitem__(self, path: str) -> FileIndex:
        return self._index._parsed_file(path)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
