"""The ordered key-value port the ledger is written against.

Shaped like a FoundationDB transaction so that the ``fdb`` engine is a thin
pass-through and every other engine implements the same contract:

* keys and values are ``bytes``; keys sort in memcmp order;
* ``transact(fn)`` runs ``fn(tr)`` in a serialisable transaction and retries
  it on conflicts, so ``fn`` must be safe to run more than once (no I/O, no
  clock reads, no randomness of its own);
* ``read(fn)`` runs ``fn`` in a read-only snapshot;
* ``set_versionstamped_key``/``_value`` take FoundationDB's format: the
  10-byte placeholder somewhere in the key (or value) and a 4-byte
  little-endian offset of it appended at the end (what
  ``fdb.tuple.pack_with_versionstamp`` produces); the engine writes the
  transaction's commit versionstamp there;
* ``get_versionstamp()`` returns a future that resolves, after a successful
  commit, to that 10-byte versionstamp (8-byte big-endian commit version,
  2-byte batch order);
* ``watch(key)`` returns a watch that fires once, after commit, when the
  key's value differs from the value this transaction saw or wrote;
* FoundationDB's limits hold everywhere: a key ≤ 10,000 bytes, a value ≤
  100,000 bytes, a transaction's writes ≤ 10,000,000 bytes, 5 s of work.

The directory methods give each tenant a short key prefix: the Directory
Layer on FoundationDB, an equivalent allocator on the local engines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")

KEY_LIMIT = 10_000
VALUE_LIMIT = 100_000
TRANSACTION_LIMIT = 10_000_000
TRANSACTION_SECONDS = 5.0
VERSIONSTAMP_BYTES = 10


class Watch(Protocol):
    """A one-shot notification that a key changed after a commit."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the watch fires (True) or ``timeout`` seconds pass (False)."""
        ...

    @property
    def fired(self) -> bool:
        """Whether the watch has fired."""
        ...

    def cancel(self) -> None:
        """Stop watching; a later ``wait`` returns False at once unless it fired."""
        ...


class EventWatch:
    """A ``Watch`` that ``fire`` sets: what every engine's watch shares (the local
    engines fire it from their registry, fdb from the watch future's callback)."""

    __slots__ = ("_cancelled", "_event")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._cancelled = False

    def wait(self, timeout: float | None = None) -> bool:
        if self._cancelled and not self._event.is_set():
            return False
        self._event.wait(timeout)
        return self.fired

    @property
    def fired(self) -> bool:
        return self._event.is_set() and not self._cancelled

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        self._cancelled = True
        self._event.set()

    def fire(self) -> None:
        self._event.set()


class VersionstampFuture(Protocol):
    """The commit versionstamp of a transaction, readable after it committed."""

    def result(self) -> bytes:
        """The 10-byte versionstamp; raises if the transaction did not commit."""
        ...


class Transaction(Protocol):
    """One attempt of a transaction, as passed to ``transact``'s closure."""

    def get(self, key: bytes) -> bytes | None: ...

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        """Values of ``keys``, in order; on FoundationDB the reads run in parallel."""
        ...

    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> list[tuple[bytes, bytes]]:
        """Pairs with ``begin <= key < end`` in key order (or reversed); ``limit`` 0 is none."""
        ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def clear(self, key: bytes) -> None: ...

    def clear_range(self, begin: bytes, end: bytes) -> None: ...

    def add(self, key: bytes, param: bytes) -> None:
        """Atomic little-endian add of ``param`` to the value (absent counts as zero)."""
        ...

    def set_versionstamped_key(self, key: bytes, value: bytes) -> None: ...

    def set_versionstamped_value(self, key: bytes, value: bytes) -> None: ...

    def watch(self, key: bytes) -> Watch: ...

    def get_versionstamp(self) -> VersionstampFuture: ...


class Engine(Protocol):
    """A store that runs transactions over one ordered key space."""

    name: str

    def transact(self, fn: Callable[[Transaction], T]) -> T:
        """Run ``fn`` in a read-write transaction, retrying it on conflict."""
        ...

    def read(self, fn: Callable[[Transaction], T]) -> T:
        """Run ``fn`` in a read-only transaction (writes raise)."""
        ...

    def open_directory(self, path: tuple[str, ...], create: bool) -> bytes | None:
        """The key prefix of directory ``path``; None if absent and not ``create``."""
        ...

    def list_directory(self, path: tuple[str, ...]) -> list[str]:
        """Names of the sub-directories of ``path``, sorted."""
        ...

    def close(self) -> None: ...
