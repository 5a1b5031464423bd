"""The ``fdb`` engine: a thin pass-through to the FoundationDB bindings.

Every line here is one only a real cluster can test, so it does as little as
possible: it maps the port's calls one-to-one onto ``fdb`` transactions, runs
FoundationDB's own retry loop (``on_error``), turns ``FDBError`` into the
ledger's errors, and opens tenant prefixes through the Directory Layer. The
``fdb`` module (and its C client library) is imported only when an engine is
constructed, so ``import ledger`` works without it.

Every transaction has a timeout and a retry limit (database options
``transaction_timeout`` and ``transaction_retry_limit``): without them a
cluster that is down makes every call wait for ever. A timed-out call is
``EngineUnavailable`` naming the cluster file. FoundationDB applies the
timeout to a transaction's watches too, so a watch may end early; a woken
reader re-reads, as it must for any watch (they may fire spuriously).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ledger._errors import (
    Conflict,
    EngineUnavailable,
    InvalidArgument,
    KeyTooLarge,
    LedgerError,
    StorageError,
    TransactionTooLarge,
    TransactionTooOld,
    UnreadableKey,
    ValueTooLarge,
)
from ledger._port import KEY_LIMIT, TRANSACTION_LIMIT, VALUE_LIMIT, EventWatch, Transaction

T = TypeVar("T")

API_VERSION = 730
TIMEOUT_S = 10.0  # per transaction, retries included: a cluster that is down, said in 10 s
RETRY_LIMIT = 100

# FoundationDB error codes the ledger reports as its own errors.
_TOO_OLD = 1007
_NOT_COMMITTED = 1020
_TIMED_OUT = 1031
_UNREADABLE = 1036
_TOO_LARGE = 2101
_KEY_TOO_LARGE = 2102
_VALUE_TOO_LARGE = 2103


def _convert(fdb: Any, exc: Exception, where: str = "the default cluster file") -> LedgerError:
    code = getattr(exc, "code", None)
    if code == _TIMED_OUT:
        return EngineUnavailable(
            "fdb",
            f"no answer from the cluster of {where} within the transaction timeout "
            "(transaction_timed_out, 1031): is it up, and is that the right cluster file?",
        )
    if code == _NOT_COMMITTED:
        return Conflict(RETRY_LIMIT, "FoundationDB kept reporting conflicts (not_committed)")
    if code == _UNREADABLE:
        return UnreadableKey("a read", b"")
    if code == _TOO_OLD:
        return TransactionTooOld(5.0)
    if code == _TOO_LARGE:
        return TransactionTooLarge("transaction", TRANSACTION_LIMIT + 1, TRANSACTION_LIMIT)
    if code == _KEY_TOO_LARGE:
        return KeyTooLarge("key", KEY_LIMIT + 1, KEY_LIMIT)
    if code == _VALUE_TOO_LARGE:
        return ValueTooLarge("value", VALUE_LIMIT + 1, VALUE_LIMIT)
    if isinstance(exc, fdb.FDBError):
        return StorageError(f"FoundationDB error {exc.code}: {exc.description}")
    return StorageError(f"FoundationDB: {exc}")


class _FdbWatch(EventWatch):
    __slots__ = ("_future",)

    def __init__(self, future: Any) -> None:
        super().__init__()
        self._future = future

    def arm(self) -> None:
        self._future.on_ready(lambda _f: self.fire())

    def cancel(self) -> None:
        self._cancelled = True
        self._future.cancel()
        self.fire()


class _FdbVersionstamp:
    __slots__ = ("_future",)

    def __init__(self, future: Any) -> None:
        self._future = future

    def result(self) -> bytes:
        return bytes(self._future.wait())


class _FdbTransaction:
    """The port's transaction over one ``fdb.Transaction``."""

    __slots__ = ("_tr", "watches", "wrote")

    def __init__(self, tr: Any) -> None:
        self._tr = tr
        self.watches: list[_FdbWatch] = []
        self.wrote = False

    def get(self, key: bytes) -> bytes | None:
        value = self._tr.get(key).wait()
        return bytes(value) if value.present() else None

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        futures = [self._tr.get(key) for key in keys]  # issued together, awaited after
        return [bytes(f.wait()) if f.wait().present() else None for f in futures]

    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> list[tuple[bytes, bytes]]:
        if limit < 0:
            raise InvalidArgument(f"range limit must be >= 0, got {limit}")
        return [
            (bytes(kv.key), bytes(kv.value))
            for kv in self._tr.get_range(begin, end, limit, reverse)
        ]

    def set(self, key: bytes, value: bytes) -> None:
        self.wrote = True
        self._tr.set(key, value)

    def clear(self, key: bytes) -> None:
        self.wrote = True
        self._tr.clear(key)

    def clear_range(self, begin: bytes, end: bytes) -> None:
        self.wrote = True
        self._tr.clear_range(begin, end)

    def add(self, key: bytes, param: bytes) -> None:
        self.wrote = True
        self._tr.add(key, param)

    def set_versionstamped_key(self, key: bytes, value: bytes) -> None:
        self.wrote = True
        self._tr.set_versionstamped_key(key, value)

    def set_versionstamped_value(self, key: bytes, value: bytes) -> None:
        self.wrote = True
        self._tr.set_versionstamped_value(key, value)

    def watch(self, key: bytes) -> _FdbWatch:
        w = _FdbWatch(self._tr.watch(key))
        self.watches.append(w)
        return w

    def get_versionstamp(self) -> _FdbVersionstamp:
        return _FdbVersionstamp(self._tr.get_versionstamp())


class FdbEngine:
    """The ledger's port on a FoundationDB cluster."""

    name = "fdb"

    def __init__(
        self,
        cluster_file: str | None,
        api_version: int = API_VERSION,
        *,
        timeout_s: float = TIMEOUT_S,
        retry_limit: int = RETRY_LIMIT,
    ) -> None:
        self._where = cluster_file or "the default cluster file"
        try:
            import fdb
            import fdb.directory_impl

            if not fdb.is_api_version_selected():
                fdb.api_version(api_version)
            self._fdb = fdb
            self._db = fdb.open(cluster_file)
            self._db.options.set_transaction_timeout(int(timeout_s * 1000))
            self._db.options.set_transaction_retry_limit(retry_limit)
        except Exception as exc:  # the C library missing, a bad cluster file, ...
            raise EngineUnavailable("fdb", f"{type(exc).__name__}: {exc}") from exc
        self._directory = fdb.directory

    def _run(self, fn: Callable[[Transaction], T]) -> T:
        fdb = self._fdb
        tr = self._db.create_transaction()
        for _ in range(RETRY_LIMIT + 1):  # the retry limit ends it first (on_error raises)
            port = _FdbTransaction(tr)
            try:
                result = fn(port)
                tr.commit().wait()  # also what arms watches; a no-op when nothing was written
                for w in port.watches:
                    w.arm()
                return result
            except fdb.FDBError as exc:
                try:
                    tr.on_error(exc).wait()
                except fdb.FDBError as final:
                    raise _convert(fdb, final, self._where) from final
        raise Conflict(RETRY_LIMIT, "FoundationDB kept asking to retry")

    def transact(self, fn: Callable[[Transaction], T]) -> T:
        return self._run(fn)

    def read(self, fn: Callable[[Transaction], T]) -> T:
        def guarded(tr: Transaction) -> T:
            result = fn(tr)
            if isinstance(tr, _FdbTransaction) and tr.wrote:
                raise InvalidArgument("write in a read-only transaction")
            return result

        return self._run(guarded)

    def open_directory(self, path: tuple[str, ...], create: bool) -> bytes | None:
        try:
            if create:
                return bytes(self._directory.create_or_open(self._db, path).key())
            if not self._directory.exists(self._db, path):
                return None
            return bytes(self._directory.open(self._db, path).key())
        except self._fdb.FDBError as exc:
            raise _convert(self._fdb, exc, self._where) from exc

    def list_directory(self, path: tuple[str, ...]) -> list[str]:
        try:
            if not self._directory.exists(self._db, path):
                return []
            return sorted(str(n) for n in self._directory.list(self._db, path))
        except self._fdb.FDBError as exc:
            raise _convert(self._fdb, exc, self._where) from exc

    def close(self) -> None:
        pass
