"""The ``memory`` engine: the reference implementation of the port, for tests.

One process, one lock: every transaction (read or write) runs under a single
mutex, so there are no conflicts to retry. Writes go straight to a sorted key
list with an undo log, rolled back if the closure raises.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from ledger._errors import TransactionTooOld
from ledger._local import (
    LocalTransaction,
    WatchRegistry,
    list_local_directory,
    open_local_directory,
)
from ledger._port import TRANSACTION_SECONDS, Transaction

T = TypeVar("T")
_ABSENT = object()


class _MemoryStorage:
    """Sorted keys and a dict, with an undo log for the running transaction."""

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.values: dict[bytes, bytes] = {}
        self.undo: list[tuple[bytes, object]] = []

    def get(self, key: bytes) -> bytes | None:
        return self.values.get(key)

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        return [self.values.get(k) for k in keys]

    def range(
        self, begin: bytes, end: bytes, limit: int, reverse: bool
    ) -> list[tuple[bytes, bytes]]:
        lo = bisect.bisect_left(self.keys, begin)
        hi = bisect.bisect_left(self.keys, end)
        picked = self.keys[lo:hi]
        if reverse:
            picked.reverse()
        if limit:
            picked = picked[:limit]
        return [(k, self.values[k]) for k in picked]

    def put(self, key: bytes, value: bytes) -> None:
        old = self.values.get(key, _ABSENT)
        self.undo.append((key, old))
        if old is _ABSENT:
            bisect.insort(self.keys, key)
        self.values[key] = value

    def delete(self, key: bytes) -> None:
        old = self.values.pop(key, _ABSENT)
        if old is not _ABSENT:
            self.undo.append((key, old))
            del self.keys[bisect.bisect_left(self.keys, key)]

    def delete_range(self, begin: bytes, end: bytes) -> None:
        lo = bisect.bisect_left(self.keys, begin)
        hi = bisect.bisect_left(self.keys, end)
        for k in self.keys[lo:hi]:
            self.undo.append((k, self.values.pop(k)))
        del self.keys[lo:hi]

    def rollback(self) -> None:
        for key, old in reversed(self.undo):
            present = key in self.values
            if old is _ABSENT:
                if present:
                    del self.values[key]
                    del self.keys[bisect.bisect_left(self.keys, key)]
            else:
                if not present:
                    bisect.insort(self.keys, key)
                self.values[key] = old  # type: ignore[assignment]
        self.undo.clear()


class MemoryEngine:
    """The reference engine: everything in one process's memory, nothing durable."""

    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._storage = _MemoryStorage()
        self._lock = threading.RLock()
        self._version = 0
        self._watches = WatchRegistry()
        self._clock = clock

    def _run(self, fn: Callable[[Transaction], T], writable: bool) -> T:
        with self._lock:
            tr = LocalTransaction(self._storage, self._version + 1 if writable else None)
            started = self._clock()
            try:
                result = fn(tr)
                elapsed = self._clock() - started
                if elapsed > TRANSACTION_SECONDS:
                    raise TransactionTooOld(elapsed)
                tr.before_commit()
            except BaseException:
                self._storage.rollback()
                raise
            self._storage.undo.clear()
            if tr.wrote:
                self._version += 1
            tr.after_commit(self._watches, self._storage.get)
            self._watches.check(self._storage.get, tr.changed_keys(self._watches.keys()))
            return result

    def transact(self, fn: Callable[[Transaction], T]) -> T:
        return self._run(fn, writable=True)

    def read(self, fn: Callable[[Transaction], T]) -> T:
        return self._run(fn, writable=False)

    def open_directory(self, path: tuple[str, ...], create: bool) -> bytes | None:
        return open_local_directory(self.transact if create else self.read, path, create)

    def list_directory(self, path: tuple[str, ...]) -> list[str]:
        return list_local_directory(self.read, path)

    def close(self) -> None:
        pass
