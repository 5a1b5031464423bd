"""What the in-process engines (memory, sqlite) share.

A local engine serialises write transactions, so it knows the commit version
when a write transaction starts and can place versionstamps as it goes. This
module holds the transaction that enforces FoundationDB's limits and
semantics over a local engine's storage, the watch registry, and the
directory allocator that stands in for FoundationDB's Directory Layer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from ledger._errors import (
    InvalidArgument,
    KeyTooLarge,
    LedgerError,
    TransactionTooLarge,
    ValueTooLarge,
)
from ledger._keys import pack, strinc, unpack
from ledger._port import (
    KEY_LIMIT,
    TRANSACTION_LIMIT,
    VALUE_LIMIT,
    VERSIONSTAMP_BYTES,
    EventWatch,
    Transaction,
)

# Directory nodes live under 0xFE, outside every tenant prefix, as FoundationDB's do.
_DIR_NODES = b"\xfe"
_DIR_COUNTER = _DIR_NODES + pack(("counter",))
_DIR_TREE = ("dir",)


class Storage(Protocol):
    """The raw ordered storage one local transaction works on."""

    def get(self, key: bytes) -> bytes | None: ...

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]: ...

    def range(
        self, begin: bytes, end: bytes, limit: int, reverse: bool
    ) -> list[tuple[bytes, bytes]]: ...

    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def delete_range(self, begin: bytes, end: bytes) -> None: ...


def versionstamp_bytes(commit_version: int) -> bytes:
    """FoundationDB's 10-byte versionstamp for a commit version (batch order 0)."""
    return commit_version.to_bytes(8, "big") + b"\x00\x00"


def place_versionstamp(data: bytes, stamp: bytes, what: str) -> bytes:
    """Replace the placeholder that ``data``'s 4-byte offset suffix points at."""
    end = len(data) - 4
    offset = int.from_bytes(data[end:], "little")
    if end < 0 or offset + VERSIONSTAMP_BYTES > end:
        if end < 0:
            raise InvalidArgument(f"versionstamped {what} has no 4-byte offset suffix")
        raise InvalidArgument(f"versionstamp offset {offset} does not fit a {end}-byte {what}")
    return data[:offset] + stamp + data[offset + VERSIONSTAMP_BYTES : end]


def _check_sizes(key: bytes, value: bytes | None) -> None:
    if len(key) > KEY_LIMIT:
        raise KeyTooLarge("key", len(key), KEY_LIMIT)
    if value is not None and len(value) > VALUE_LIMIT:
        raise ValueTooLarge("value", len(value), VALUE_LIMIT)


def _add_le(existing: bytes | None, param: bytes) -> bytes:
    n = len(param)
    current = int.from_bytes((existing or b"")[:n].ljust(n, b"\x00"), "little")
    total = (current + int.from_bytes(param, "little")) % (1 << (8 * n)) if n else 0
    return total.to_bytes(n, "little")


class LocalWatch(EventWatch):
    """A watch of a local engine: a one-shot event set by the registry."""

    __slots__ = ("baseline", "key")

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self.key = key
        self.baseline: bytes | None = None


class WatchRegistry:
    """The live watches of one engine, fired when their key's value changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[bytes, list[LocalWatch]] = {}

    def add(self, watch: LocalWatch) -> None:
        with self._lock:
            self._watches.setdefault(watch.key, []).append(watch)

    def keys(self) -> list[bytes]:
        with self._lock:
            return list(self._watches)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(ws) for ws in self._watches.values())

    def check(self, current: Callable[[bytes], bytes | None], keys: Iterable[bytes]) -> None:
        """Fire every watch on ``keys`` whose baseline differs from ``current(key)``."""
        for key in keys:
            with self._lock:
                watches = self._watches.get(key)
                if not watches:
                    continue
            value = current(key)
            with self._lock:
                kept = []
                for w in self._watches.get(key, []):
                    if w.fired or w.cancelled:
                        continue
                    if w.baseline != value:
                        w.fire()
                    else:
                        kept.append(w)
                if kept:
                    self._watches[key] = kept
                else:
                    self._watches.pop(key, None)


class LocalVersionstamp:
    """The versionstamp future of a local transaction."""

    __slots__ = ("_stamp",)

    def __init__(self) -> None:
        self._stamp: bytes | None = None

    def resolve(self, stamp: bytes) -> None:
        self._stamp = stamp

    def result(self) -> bytes:
        if self._stamp is None:
            raise LedgerError("the transaction has not committed (or wrote nothing)")
        return self._stamp


class LocalTransaction:
    """FoundationDB's transaction semantics over a local engine's ``Storage``."""

    def __init__(self, storage: Storage, commit_version: int | None) -> None:
        self._storage = storage
        self._store = storage.put
        self._stamp = versionstamp_bytes(commit_version) if commit_version is not None else None
        self._size = 0
        self.wrote = False
        self.touched: set[bytes] = set()
        self.cleared: list[tuple[bytes, bytes]] = []
        self.watches: list[LocalWatch] = []
        self.futures: list[LocalVersionstamp] = []

    @property
    def stamp(self) -> bytes | None:
        """The versionstamp this transaction commits at (None when read-only): the sim
        engine derives its own, sparser ones from it."""
        return self._stamp

    # reads ---------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        return self._storage.get(key)

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        return self._storage.get_many(keys)

    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> list[tuple[bytes, bytes]]:
        if limit < 0:
            raise InvalidArgument(f"range limit must be >= 0, got {limit}")
        if begin >= end:
            return []
        return self._storage.range(begin, end, limit, reverse)

    # writes --------------------------------------------------------------
    def _writable(self) -> bytes:
        if self._stamp is None:
            raise InvalidArgument("write in a read-only transaction")
        self.wrote = True
        return self._stamp

    def _account(self, nbytes: int) -> None:
        self._size += nbytes
        if self._size > TRANSACTION_LIMIT:
            raise TransactionTooLarge("transaction", self._size, TRANSACTION_LIMIT)

    def _put(self, key: bytes, value: bytes) -> None:
        # The hot path of every append: a few calls and checks per key.
        nk, nv = len(key), len(value)
        if nk > KEY_LIMIT:
            raise KeyTooLarge("key", nk, KEY_LIMIT)
        if nv > VALUE_LIMIT:
            raise ValueTooLarge("value", nv, VALUE_LIMIT)
        self._size += nk + nv
        if self._size > TRANSACTION_LIMIT:
            raise TransactionTooLarge("transaction", self._size, TRANSACTION_LIMIT)
        self._store(key, value)
        self.touched.add(key)

    def set(self, key: bytes, value: bytes) -> None:
        self._writable()
        self._put(key, value)

    def clear(self, key: bytes) -> None:
        self._writable()
        _check_sizes(key, None)
        self._account(len(key))
        self._storage.delete(key)
        self.touched.add(key)

    def clear_range(self, begin: bytes, end: bytes) -> None:
        self._writable()
        _check_sizes(begin, None)
        _check_sizes(end, None)
        self._account(len(begin) + len(end))
        if begin < end:
            self._storage.delete_range(begin, end)
            self.cleared.append((begin, end))

    def add(self, key: bytes, param: bytes) -> None:
        self._writable()
        _check_sizes(key, param)
        self._put(key, _add_le(self._storage.get(key), param))

    def set_versionstamped_key(self, key: bytes, value: bytes) -> None:
        stamp = self._stamp
        if stamp is None:
            raise InvalidArgument("write in a read-only transaction")
        self.wrote = True
        self._put(place_versionstamp(key, stamp, "key"), value)

    def set_versionstamped_value(self, key: bytes, value: bytes) -> None:
        stamp = self._stamp
        if stamp is None:
            raise InvalidArgument("write in a read-only transaction")
        self.wrote = True
        self._put(key, place_versionstamp(value, stamp, "value"))

    # after commit ----------------------------------------------------------
    def watch(self, key: bytes) -> LocalWatch:
        _check_sizes(key, None)
        w = LocalWatch(key)
        self.watches.append(w)
        return w

    def get_versionstamp(self) -> LocalVersionstamp:
        f = LocalVersionstamp()
        self.futures.append(f)
        return f

    def changed_keys(self, watched: Iterable[bytes]) -> list[bytes]:
        """Which of ``watched`` this transaction may have changed."""
        out = []
        for key in watched:
            if key in self.touched or any(b <= key < e for b, e in self.cleared):
                out.append(key)
        return out

    def before_commit(self) -> None:
        """Take each watch's baseline: the value as this transaction leaves it."""
        for w in self.watches:
            w.baseline = self._storage.get(w.key)

    def after_commit(
        self, registry: WatchRegistry, current: Callable[[bytes], bytes | None]
    ) -> None:
        """Resolve versionstamp futures and arm this transaction's watches."""
        if self.wrote and self._stamp is not None:
            for f in self.futures:
                f.resolve(self._stamp)
        for w in self.watches:
            registry.add(w)
        # A commit may have landed between ours and the registration.
        registry.check(current, {w.key for w in self.watches})


def _node_key(path: tuple[str, ...]) -> bytes:
    return _DIR_NODES + pack(_DIR_TREE + path)


def open_local_directory(
    run: Callable[[Callable[[Transaction], bytes | None]], bytes | None],
    path: tuple[str, ...],
    create: bool,
) -> bytes | None:
    """Allocate (or find) the short prefix of ``path``, in the transaction ``run`` gives.

    Prefixes are tuple-encoded integers from a counter, so none is a prefix of
    another and none collides with the 0xFE directory nodes.
    """
    node = _node_key(path)

    def fn(tr: Transaction) -> bytes | None:
        found = tr.get(node)
        if found is not None or not create:
            return found
        raw = tr.get(_DIR_COUNTER)
        n = (int.from_bytes(raw, "little") if raw else 0) + 1
        tr.set(_DIR_COUNTER, n.to_bytes(8, "little"))
        prefix = pack((n,))
        tr.set(node, prefix)
        return prefix

    return run(fn)


def list_local_directory(
    run: Callable[[Callable[[Transaction], list[str]]], list[str]], path: tuple[str, ...]
) -> list[str]:
    """Names of the direct children of ``path``."""
    parent = _node_key(path)
    begin, end = parent + b"\x00", strinc(parent)

    def fn(tr: Transaction) -> list[str]:
        names = []
        for key, _ in tr.get_range(begin, end):
            parts = unpack(key, len(_DIR_NODES))
            if len(parts) == len(_DIR_TREE) + len(path) + 1:
                names.append(str(parts[-1]))
        return names

    return run(fn)
