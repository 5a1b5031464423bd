"""The ``sqlite`` engine: the embedded default, one file, zero setup.

One ``WITHOUT ROWID`` table of BLOB keys (SQLite compares BLOBs with memcmp,
so key order is FoundationDB's), WAL mode, and write transactions that take
SQLite's write lock up front (``BEGIN IMMEDIATE``), which makes them
serialisable and lets the engine know its commit version before the closure
runs. A commit counter in the same file produces FoundationDB-format
versionstamps. Watches fire in-process at commit and, for commits made by
other processes, from one polling thread per engine that watches SQLite's
``data_version``.

**The seal.** A file ``<ledger>-seal`` beside the database holds the highest
commit version this engine saw committed (16 bytes: ``SWSL``, the version 8
BE, a CRC-32 of both). It is rewritten in place after each commit — one
``pwrite``, no fsync — so the database can never legitimately be behind it. A
file that is (its WAL cut or deleted, an older copy put back) lost committed
transactions that nothing inside it can show: the engine then refuses writes
with ``LostTransactions``, which keeps the evidence, and ``check_storage``
reports it to ``swarm audit verify``. Deleting the seal accepts the loss.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ledger._errors import (
    Conflict,
    CorruptRecord,
    CorruptStore,
    ForeignStore,
    LedgerError,
    LostTransactions,
    NoLedger,
    StorageError,
    TransactionTooOld,
)
from ledger._local import (
    LocalTransaction,
    WatchRegistry,
    list_local_directory,
    open_local_directory,
)
from ledger._port import TRANSACTION_SECONDS, Transaction

T = TypeVar("T")

APPLICATION_ID = 0x53574D31  # "SWM1"
SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SYNC_MODES = ("off", "normal", "full", "extra")
_BUSY_ATTEMPTS = 20
_IN_BATCH = 500  # under SQLite's limit on bound parameters
SEAL_SUFFIX = "-seal"
_SEAL_MAGIC = b"SWSL"
_SEAL = struct.Struct(">4sQI")  # magic, commit version, CRC-32 of the first 12 bytes


def encode_seal(version: int) -> bytes:
    head = _SEAL_MAGIC + version.to_bytes(8, "big")
    return head + zlib.crc32(head).to_bytes(4, "big")


def decode_seal(data: bytes) -> int | None:
    """The commit version a seal holds; None if the bytes are not a whole, intact seal."""
    if len(data) != _SEAL.size:
        return None
    magic, version, crc = _SEAL.unpack(data)
    if magic != _SEAL_MAGIC or zlib.crc32(data[:12]) != crc:
        return None
    return int(version)


def _cell(key: object, value: object) -> bytes:
    """A stored value as the bytes the ledger wrote; a cell whose type a damaged page turned
    into TEXT, an integer or NULL is ``CorruptRecord`` (``bytes(int)`` would allocate)."""
    if type(value) is bytes and type(key) is bytes:
        return value
    where = key.hex() if isinstance(key, bytes) else repr(key)[:80]
    raise CorruptRecord(
        "row",
        where,
        f"holds a {type(value).__name__} where the ledger keeps bytes (a damaged cell)",
    )


def _cells(rows: list[tuple[object, object]]) -> list[tuple[bytes, bytes]]:
    for key, value in rows:
        if type(key) is not bytes or type(value) is not bytes:
            _cell(key, value)
    return rows  # type: ignore[return-value]  # every cell was just checked to be bytes


class _SqliteStorage:
    """The kv table through one connection, inside its open transaction.

    Puts are buffered and written with one ``executemany`` when the
    transaction commits (or before anything that must see them in SQL: a
    range read, a delete); point reads consult the buffer first.
    """

    __slots__ = ("_conn", "_pending", "put")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._pending: dict[bytes, bytes] = {}
        # A put only records the pair: the dict's own method, with no Python frame.
        self.put: Callable[[bytes, bytes], None] = self._pending.__setitem__

    def flush(self) -> None:
        if self._pending:
            self._conn.executemany(
                "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)",
                [(bytearray(k), bytearray(v)) for k, v in self._pending.items()],
            )
            self._pending.clear()

    def get(self, key: bytes) -> bytes | None:
        value = self._pending.get(key)
        if value is not None:
            return value
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return None if row is None else _cell(key, row[0])

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        found: dict[bytes, bytes] = {}
        wanted = [k for k in keys if k not in self._pending]
        for i in range(0, len(wanted), _IN_BATCH):
            part = wanted[i : i + _IN_BATCH]
            marks = ",".join("?" * len(part))
            params = [bytearray(k) for k in part]
            for k, v in self._conn.execute(f"SELECT k, v FROM kv WHERE k IN ({marks})", params):
                found[k] = _cell(k, v)
        return [self._pending.get(k, found.get(k)) for k in keys]

    def range(
        self, begin: bytes, end: bytes, limit: int, reverse: bool
    ) -> list[tuple[bytes, bytes]]:
        self.flush()
        order = "DESC" if reverse else "ASC"
        sql = f"SELECT k, v FROM kv WHERE k >= ? AND k < ? ORDER BY k {order}"
        if limit:
            rows = self._conn.execute(sql + " LIMIT ?", (begin, end, limit)).fetchall()
        else:
            rows = self._conn.execute(sql, (begin, end)).fetchall()
        return _cells(rows)

    def delete(self, key: bytes) -> None:
        self._pending.pop(key, None)
        self._conn.execute("DELETE FROM kv WHERE k = ?", (key,))

    def delete_range(self, begin: bytes, end: bytes) -> None:
        self.flush()
        self._conn.execute("DELETE FROM kv WHERE k >= ? AND k < ?", (begin, end))


def _convert(exc: sqlite3.Error, location: str) -> LedgerError:
    """A driver error as one of the ledger's own."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    ):
        return CorruptStore(location, text)
    return StorageError(f"{location}: sqlite error: {text}")


def _is_busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class SqliteEngine:
    """The embedded engine on one SQLite file."""

    name = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "full",
        poll_interval: float = 0.02,
        busy_timeout: float = 10.0,
        create: bool = True,
    ) -> None:
        if synchronous not in _SYNC_MODES:
            raise StorageError(f"synchronous must be one of {_SYNC_MODES}, got {synchronous!r}")
        self.path = Path(path)
        self._location = str(self.path)
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        self._poll_interval = poll_interval
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._watches = WatchRegistry()
        self._closed = threading.Event()
        self._poller: threading.Thread | None = None
        self._poller_lock = threading.Lock()
        self.seal_path = Path(f"{self._location}{SEAL_SUFFIX}")
        self._seal_lock = threading.Lock()
        self._seal_fd = -1
        self._sealed = 0
        self._lost: LostTransactions | None = None
        if not create and not self._exists():
            raise NoLedger(self._location)
        self._check_header()
        created, version = self._initialise(self._conn())
        self._open_seal(created, version)

    # connections ------------------------------------------------------------
    def _exists(self) -> bool:
        """Whether the file holds a database (an empty file with no WAL holds none)."""
        if self.path.is_dir():
            return True  # _check_header names the problem
        wal = Path(f"{self._location}-wal")
        return self.path.is_file() and (self.path.stat().st_size > 0 or wal.exists())

    def _check_header(self) -> None:
        if self.path.is_dir():
            raise StorageError(f"{self._location}: is a directory, not a ledger file")
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open("rb") as f:
                head = f.read(len(_SQLITE_MAGIC))
            if head != _SQLITE_MAGIC:
                raise CorruptStore(self._location, "the file does not start with SQLite's header")
        elif not self.path.parent.exists():
            raise StorageError(f"{self._location}: folder {self.path.parent} does not exist")

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._location,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except sqlite3.Error as exc:
            raise _convert(exc, self._location) from exc
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed.is_set():
                raise StorageError(f"{self._location}: engine is closed")
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _initialise(self, conn: sqlite3.Connection) -> tuple[bool, int]:
        """Create the schema in an empty file or check an existing one's; returns whether
        it was created and the commit version the file holds."""
        created = False
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                tables = [
                    r[0]
                    for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                ]
                if app_id == 0 and not tables:
                    conn.execute(
                        "CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"
                    )
                    conn.execute(
                        "CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
                    )
                    conn.execute("INSERT INTO meta VALUES ('commit_version', 0)")
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    created = True
                elif app_id != APPLICATION_ID:
                    raise ForeignStore(
                        self._location,
                        f"application_id {app_id:#x}, tables {', '.join(tables) or 'none'}",
                    )
                else:
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    if version != SCHEMA_VERSION:
                        raise ForeignStore(
                            self._location,
                            f"schema version {version}, this build reads {SCHEMA_VERSION}",
                        )
                row = conn.execute(
                    "SELECT value FROM meta WHERE name = 'commit_version'"
                ).fetchone()
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _convert(exc, self._location) from exc
        if row is None or not isinstance(row[0], int):
            raise CorruptStore(self._location, "its commit counter is missing")
        return created, row[0]

    # the seal ---------------------------------------------------------------
    def _open_seal(self, created: bool, version: int) -> None:
        """Compare the seal with the commit version the file holds (a read: the seal file
        is made at the first commit, so a missing one stays visible to check_storage)."""
        try:
            sealed = decode_seal(self.seal_path.read_bytes()[: _SEAL.size + 1])
        except OSError:
            sealed = None
        self._sealed = version
        if created:  # a new file has nothing to be behind: start its seal now
            self._sealed = -1
            self._seal(version)
        elif sealed is not None and sealed > version:
            self._sealed = sealed
            self._lost = LostTransactions(self._location, sealed, version)

    def _seal(self, version: int) -> None:
        # After COMMIT: the seal is never ahead of what the file durably holds, and
        # threads that commit out of order never move it back.
        with self._seal_lock:
            if version <= self._sealed:
                return
            if self._seal_fd < 0:
                try:
                    self._seal_fd = os.open(self.seal_path, os.O_RDWR | os.O_CREAT, 0o644)
                except OSError:
                    return  # a read-only folder: check_storage says the seal is missing
            os.pwrite(self._seal_fd, encode_seal(version), 0)
            self._sealed = version

    def check_storage(self) -> tuple[list[str], list[str]]:
        """What is wrong with the file itself, and notes: lost commits (the seal), damaged
        pages (``PRAGMA quick_check``). An absent seal is a note (files made before it)."""
        problems: list[str] = []
        notes: list[str] = []
        conn = self._conn()
        try:
            found = conn.execute("SELECT value FROM meta WHERE name = 'commit_version'").fetchone()
            checks = [r[0] for r in conn.execute("PRAGMA quick_check(20)").fetchall()]
        except sqlite3.Error as exc:
            return [str(_convert(exc, self._location))], notes
        if checks != ["ok"]:
            problems.append(f"{self._location}: sqlite quick_check: " + "; ".join(checks))
        try:
            sealed = decode_seal(self.seal_path.read_bytes()[: _SEAL.size + 1])
        except OSError:
            notes.append(f"{self.seal_path} is missing: lost commits cannot be detected")
            return problems, notes
        if sealed is None:
            problems.append(f"{self.seal_path}: the seal is damaged (not SWSL, version, CRC-32)")
        elif found is not None and sealed > found[0]:
            problems.append(str(LostTransactions(self._location, sealed, found[0])))
        return problems, notes

    # transactions -------------------------------------------------------------
    def _run(self, fn: Callable[[Transaction], T], writable: bool) -> T:
        conn = self._conn()
        for attempt in range(1, _BUSY_ATTEMPTS + 1):
            try:
                return self._attempt(conn, fn, writable)
            except sqlite3.Error as exc:
                if not _is_busy(exc):
                    raise _convert(exc, self._location) from exc
                if attempt == _BUSY_ATTEMPTS:
                    raise Conflict(attempt, f"{self._location} stayed locked: {exc}") from exc
                time.sleep(min(0.001 * 2**attempt, 0.1))
        raise AssertionError("unreachable")

    def _attempt(
        self, conn: sqlite3.Connection, fn: Callable[[Transaction], T], writable: bool
    ) -> T:
        if writable:
            if self._lost is not None:
                raise self._lost
            conn.execute("BEGIN IMMEDIATE")
            # Claim the next commit version in the statement that reads it; a
            # transaction that writes nothing rolls the claim back.
            version = conn.execute(
                "UPDATE meta SET value = value + 1 WHERE name = 'commit_version' RETURNING value"
            ).fetchone()[0]
        else:
            conn.execute("BEGIN")
            version = None
        storage = _SqliteStorage(conn)
        tr = LocalTransaction(storage, version)
        started = time.monotonic()
        try:
            result = fn(tr)
            elapsed = time.monotonic() - started
            if elapsed > TRANSACTION_SECONDS:
                raise TransactionTooOld(elapsed)
            tr.before_commit()
            storage.flush()
            conn.execute("COMMIT" if tr.wrote or not writable else "ROLLBACK")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if tr.wrote:
            assert version is not None
            self._seal(version)
        if tr.watches:
            self._ensure_poller()
        tr.after_commit(self._watches, storage.get)
        if tr.wrote and len(self._watches):
            self._watches.check(storage.get, tr.changed_keys(self._watches.keys()))
        return result

    def transact(self, fn: Callable[[Transaction], T]) -> T:
        return self._run(fn, writable=True)

    def read(self, fn: Callable[[Transaction], T]) -> T:
        return self._run(fn, writable=False)

    # watches across processes ---------------------------------------------------
    def _ensure_poller(self) -> None:
        with self._poller_lock:
            if self._poller is None:
                self._poller = threading.Thread(
                    target=self._poll, name=f"swarm-sqlite-watch:{self.path.name}", daemon=True
                )
                self._poller.start()

    def _poll(self) -> None:
        """Fire watches on commits made through other connections or processes."""
        try:
            conn = self._connect()
        except LedgerError:
            return
        storage = _SqliteStorage(conn)
        last = None
        while not self._closed.wait(self._poll_interval):
            if not len(self._watches):
                continue
            try:
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != last:
                    last = version
                    self._watches.check(storage.get, self._watches.keys())
            except sqlite3.Error:
                continue  # a busy checkpoint; the next tick retries

    # directories ------------------------------------------------------------------
    def open_directory(self, path: tuple[str, ...], create: bool) -> bytes | None:
        found = open_local_directory(self.read, path, False)
        if found is not None or not create:
            return found
        return open_local_directory(self.transact, path, True)

    def list_directory(self, path: tuple[str, ...]) -> list[str]:
        return list_local_directory(self.read, path)

    def close(self) -> None:
        self._closed.set()
        if self._poller is not None:
            self._poller.join(timeout=1)
        with self._conns_lock:
            for conn in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()
        with self._seal_lock:
            if self._seal_fd >= 0:
                os.close(self._seal_fd)
                self._seal_fd = -1
        self._local = threading.local()
