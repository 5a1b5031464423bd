"""The ``sim+`` engines: FoundationDB's documented semantics, strictly, over a local engine.

The local engines are kinder than FoundationDB: they never re-run a closure,
never say ``commit_unknown_result``, let a transaction read its own
versionstamped writes and hand out dense versions with batch order 0. Code
that leans on any of that works in every test and breaks on a cluster. This
wrapper takes the kindness away (FoundationDB's API docs and error codes are
what it follows, not its implementation):

* **every closure runs at least twice**: the first attempt is always
  aborted, as ``not_committed`` (1020) for a write and a retryable read error
  for a read, at its commit or at one of its reads; later attempts are
  aborted again now and then;
* **some commits land and report** ``commit_unknown_result`` (1021): the
  writes are in the store, and the closure runs again on top of them, as
  FoundationDB's retry loop (``on_error``) does;
* **a versionstamped key or value is unreadable** in the transaction that
  wrote it: a read that reaches it raises ``UnreadableKey``
  (``accessed_unreadable``, 1036, not retryable). A versionstamped key makes
  its whole range of possible stamps unreadable, as FoundationDB does;
* **commit versions are sparse and batch orders non-zero**: the stamp is
  derived from the inner engine's commit counter (so it stays monotonic
  across processes sharing a sqlite file), about a million versions apart,
  four commits to a version with rising batch orders;
* **the 5 s and 10 MB limits** are enforced by the injectable ``clock`` (an
  attempt older than 5 s at a read or its commit is ``transaction_too_old``,
  1007, retried like FoundationDB until the retry limit) and by the bytes the
  transaction writes;
* **watches fire late, or spuriously** (FoundationDB promises only that a
  watch fires some time after a change, and may fire without one).

Every fault comes from one seed: ``SWARM_SIM_SEED`` (or the URL's ``seed=``),
else a random one, which ``seed`` reports so a failure can be replayed. Each
engine draws from its own generator (seed and the engine's number in the
process), so single-threaded runs replay exactly; with threads, which
transaction meets which fault also depends on the scheduler.
"""

from __future__ import annotations

import os
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import count
from typing import TypeVar

from ledger._errors import (
    InvalidArgument,
    TransactionTooLarge,
    TransactionTooOld,
    UnreadableKey,
)
from ledger._local import (
    LocalVersionstamp,
    list_local_directory,
    open_local_directory,
    place_versionstamp,
)
from ledger._port import (
    TRANSACTION_LIMIT,
    TRANSACTION_SECONDS,
    VERSIONSTAMP_BYTES,
    Engine,
    Transaction,
    Watch,
)

T = TypeVar("T")

SEED_ENV = "SWARM_SIM_SEED"
NOT_COMMITTED = 1020
COMMIT_UNKNOWN_RESULT = 1021
TRANSACTION_TOO_OLD = 1007
PROCESS_BEHIND = 1037  # what an aborted read-only attempt reports
VERSION_STRIDE = 1_000_000  # FoundationDB's versions advance about a million a second
_ENGINES = count()
_SEED_LOCK = threading.Lock()
_process_seed: int | None = None


def process_seed() -> int:
    """The seed of this process's sim engines: ``SWARM_SIM_SEED``, else one drawn once."""
    global _process_seed
    with _SEED_LOCK:
        if _process_seed is None:
            raw = os.environ.get(SEED_ENV, "").strip()
            _process_seed = int(raw) if raw else random.SystemRandom().randrange(1 << 32)
        return _process_seed


@dataclass(frozen=True)
class SimFaults:
    """How unkind the engine is; the defaults are what CI runs with."""

    unknown_result: float = 0.15  # a later attempt commits and reports 1021
    conflict: float = 0.1  # a later attempt is aborted again
    mid_closure: float = 0.5  # an abort is raised at a read rather than at commit
    faulty_attempts: int = 4  # attempts after this one commit cleanly
    retry_limit: int = 8  # too-old attempts before TransactionTooOld
    spurious_watch: float = 0.1  # a watch fires with nothing changed
    watch_delay_s: float = 0.05  # a watch fires up to this late
    watch_delay_min_s: float = 0.0  # and at least this late


class _Fate(Enum):
    COMMIT = "commit"
    ABORT = "abort"
    UNKNOWN = "unknown"


class _Retry(Exception):
    """A retryable FoundationDB error of one attempt (never leaves the engine)."""

    def __init__(self, code: int, seconds: float = 0.0) -> None:
        super().__init__(f"simulated FoundationDB error {code}")
        self.code = code
        self.seconds = seconds


def sim_stamp(inner: bytes, attempt: int) -> bytes:
    """The sparse versionstamp of the inner engine's commit ``inner`` (8-byte BE version,
    2 bytes): four inner commits share one version, batch orders rise within it and are
    never 0, and an aborted attempt's stamp differs from the one that commits."""
    n = int.from_bytes(inner[:8], "big")
    group, order = divmod(n, 4)
    jitter = zlib.crc32(group.to_bytes(8, "big")) % (VERSION_STRIDE // 2)
    version = (group + 1) * VERSION_STRIDE + jitter
    salt = zlib.crc32(n.to_bytes(8, "big") + attempt.to_bytes(2, "big")) % 4095
    batch = 1 + order * 4096 + salt
    return version.to_bytes(8, "big") + batch.to_bytes(2, "big")


def _place(data: bytes, stamp: bytes, what: str) -> tuple[bytes, int]:
    """``data`` with ``stamp`` at its 4-byte offset suffix, and the offset."""
    placed = place_versionstamp(data, stamp, what)
    return placed, int.from_bytes(data[-4:], "little")


class SimWatch:
    """A watch that fires ``delay`` after its inner one was first seen fired, or at
    ``spurious`` seconds after it was set with nothing changed."""

    __slots__ = ("_cancel", "_delay", "_fired", "_inner", "_seen_at", "_spurious_at")

    def __init__(self, inner: Watch, delay: float, spurious: float | None) -> None:
        self._inner = inner
        self._delay = delay
        self._spurious_at = None if spurious is None else time.monotonic() + spurious
        self._seen_at: float | None = None
        self._fired = False
        self._cancel = threading.Event()

    def _fire(self) -> bool:
        self._fired = not self._cancel.is_set()
        return self._fired

    def wait(self, timeout: float | None = None) -> bool:
        if self._fired or self._cancel.is_set():
            return self._fired
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout
        spurious = self._spurious_at
        if spurious is not None and (deadline is None or spurious <= deadline):
            if not self._inner.wait(max(0.0, spurious - now)):
                return self._fire()  # nothing changed, and it fires all the same
        elif not self._inner.wait(timeout):
            return False
        now = time.monotonic()  # the key changed: say so late
        if self._seen_at is None:
            self._seen_at = now
        due = self._seen_at + self._delay
        if deadline is not None and deadline < due:
            self._cancel.wait(max(0.0, deadline - now))
            return False
        if due > now and self._cancel.wait(due - now):
            return False
        return self._fire()

    @property
    def fired(self) -> bool:
        return self._fired

    def cancel(self) -> None:
        self._cancel.set()
        self._inner.cancel()


class SimTransaction:
    """One attempt: the inner engine's transaction, with FoundationDB's refusals added."""

    def __init__(self, inner: Transaction, engine: SimEngine, attempt: int, abort_at: int) -> None:
        self._inner = inner
        self._engine = engine
        self._started = engine.clock()
        raw = getattr(inner, "stamp", None)
        self._stamp = sim_stamp(raw, attempt) if raw is not None else None
        self._abort_at = abort_at  # the read that raises this attempt's abort; -1 none
        self._reads = 0
        self._size = 0
        self._unreadable_keys: set[bytes] = set()
        self._unreadable_ranges: list[tuple[bytes, bytes]] = []  # inclusive bounds
        self.wrote = False
        self.futures: list[LocalVersionstamp] = []
        self.watches: list[SimWatch] = []

    # faults and limits ------------------------------------------------------
    def check_age(self) -> None:
        elapsed = self._engine.clock() - self._started
        if elapsed > TRANSACTION_SECONDS:
            raise _Retry(TRANSACTION_TOO_OLD, elapsed)

    def _read(self) -> None:
        self.check_age()
        if self._reads == self._abort_at:
            raise _Retry(NOT_COMMITTED if self._stamp is not None else PROCESS_BEHIND)
        self._reads += 1

    def _unreadable(self, key: bytes) -> bool:
        if key in self._unreadable_keys:
            return True
        return any(lo <= key <= hi for lo, hi in self._unreadable_ranges)

    def _wrote(self, nbytes: int) -> None:
        self._size += nbytes
        if self._size > TRANSACTION_LIMIT:
            raise TransactionTooLarge("transaction", self._size, TRANSACTION_LIMIT)
        self.wrote = True

    # reads ------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        self._read()
        if self._unreadable(key):
            raise UnreadableKey("get of key", key)
        return self._inner.get(key)

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        self._read()
        for key in keys:
            if self._unreadable(key):
                raise UnreadableKey("get of key", key)
        return self._inner.get_many(keys)

    def get_range(
        self, begin: bytes, end: bytes, limit: int = 0, reverse: bool = False
    ) -> list[tuple[bytes, bytes]]:
        self._read()
        if any(begin <= k < end for k in self._unreadable_keys) or any(
            lo < end and hi >= begin for lo, hi in self._unreadable_ranges
        ):
            raise UnreadableKey("range read from", begin)
        return self._inner.get_range(begin, end, limit, reverse)

    # writes -----------------------------------------------------------------
    def set(self, key: bytes, value: bytes) -> None:
        self._inner.set(key, value)
        self._wrote(len(key) + len(value))
        self._unreadable_keys.discard(key)  # its value is known again

    def clear(self, key: bytes) -> None:
        self._inner.clear(key)
        self._wrote(len(key))
        self._unreadable_keys.discard(key)

    def clear_range(self, begin: bytes, end: bytes) -> None:
        self._inner.clear_range(begin, end)
        self._wrote(len(begin) + len(end))
        self._unreadable_keys = {k for k in self._unreadable_keys if not begin <= k < end}

    def add(self, key: bytes, param: bytes) -> None:
        self._inner.add(key, param)
        self._wrote(len(key) + len(param))

    def _stamp_or_refuse(self) -> bytes:
        if self._stamp is None:
            raise InvalidArgument("write in a read-only transaction")
        return self._stamp

    def set_versionstamped_key(self, key: bytes, value: bytes) -> None:
        stamp = self._stamp_or_refuse()
        placed, offset = _place(key, stamp, "key")
        self._inner.set(placed, value)
        self._wrote(len(key) + len(value))
        end = offset + VERSIONSTAMP_BYTES
        self._unreadable_ranges.append(
            (
                placed[:offset] + b"\x00" * VERSIONSTAMP_BYTES + placed[end:],
                placed[:offset] + b"\xff" * VERSIONSTAMP_BYTES + placed[end:],
            )
        )

    def set_versionstamped_value(self, key: bytes, value: bytes) -> None:
        stamp = self._stamp_or_refuse()
        placed, _ = _place(value, stamp, "value")
        self._inner.set(key, placed)
        self._wrote(len(key) + len(value))
        self._unreadable_keys.add(key)

    # after commit -----------------------------------------------------------
    def watch(self, key: bytes) -> SimWatch:
        w = self._engine.make_watch(self._inner.watch(key))
        self.watches.append(w)
        return w

    def get_versionstamp(self) -> LocalVersionstamp:
        f = LocalVersionstamp()
        self.futures.append(f)
        return f

    def committed(self) -> None:
        if self.wrote and self._stamp is not None:
            for f in self.futures:
                f.resolve(self._stamp)

    def abandon(self) -> None:
        """A committed attempt whose result was 'unknown': its watches go with it."""
        for w in self.watches:
            w.cancel()


class SimEngine:
    """FoundationDB's semantics over ``inner`` (a memory or sqlite engine)."""

    def __init__(
        self,
        inner: Engine,
        *,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        faults: SimFaults | None = None,
        number: int | None = None,
    ) -> None:
        """``number`` names the fault stream (default: engines opened so far in this
        process, so a replayed run gives its n-th engine the same stream)."""
        self.inner = inner
        self.name = f"sim+{inner.name}"
        self.seed = process_seed() if seed is None else seed
        self.number = next(_ENGINES) if number is None else number
        self.clock = clock
        self.faults = faults or SimFaults()
        self._rng = random.Random(f"{self.seed}/{self.number}")
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {"attempts": 0, "aborted": 0, "unknown": 0, "too_old": 0}

    # fault decisions ----------------------------------------------------------
    def _fates(self) -> Iterator[tuple[_Fate, int]]:
        """Each attempt's fate and the read that raises its abort (-1: at commit)."""
        f = self.faults
        for attempt in count(1):
            with self._lock:
                if attempt == 1:
                    fate = _Fate.ABORT
                elif attempt > f.faulty_attempts:
                    fate = _Fate.COMMIT
                else:
                    r = self._rng.random()
                    fate = (
                        _Fate.UNKNOWN
                        if r < f.unknown_result
                        else _Fate.ABORT
                        if r < f.unknown_result + f.conflict
                        else _Fate.COMMIT
                    )
                mid = fate is _Fate.ABORT and self._rng.random() < f.mid_closure
                abort_at = self._rng.randrange(4) if mid else -1
            yield fate, abort_at

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def make_watch(self, inner: Watch) -> SimWatch:
        f = self.faults
        with self._lock:
            delay = self._rng.uniform(f.watch_delay_min_s, f.watch_delay_s)
            spurious = self._rng.uniform(0, 0.02) if self._rng.random() < f.spurious_watch else None
        return SimWatch(inner, delay, spurious)

    # transactions ---------------------------------------------------------------
    def _run(self, fn: Callable[[Transaction], T], writable: bool) -> T:
        too_old = 0
        for attempt, (fate, abort_at) in enumerate(self._fates(), 1):
            self._count("attempts")
            try:
                return self._attempt(fn, writable, fate, attempt, abort_at)
            except _Retry as exc:
                if exc.code == TRANSACTION_TOO_OLD:
                    self._count("too_old")
                    too_old += 1
                    if too_old >= self.faults.retry_limit:
                        raise TransactionTooOld(exc.seconds) from None
                else:
                    self._count("unknown" if exc.code == COMMIT_UNKNOWN_RESULT else "aborted")
        raise AssertionError("unreachable")

    def _attempt(
        self,
        fn: Callable[[Transaction], T],
        writable: bool,
        fate: _Fate,
        attempt: int,
        abort_at: int,
    ) -> T:
        box: list[SimTransaction] = []

        def body(itr: Transaction) -> T:
            tr = SimTransaction(itr, self, attempt, abort_at)
            box.append(tr)
            result = fn(tr)
            tr.check_age()
            if fate is _Fate.ABORT:
                raise _Retry(NOT_COMMITTED if writable else PROCESS_BEHIND)
            return result

        result = (self.inner.transact if writable else self.inner.read)(body)
        tr = box[-1]
        if fate is _Fate.UNKNOWN and tr.wrote:
            tr.abandon()
            raise _Retry(COMMIT_UNKNOWN_RESULT)  # it landed; the closure runs again on top
        tr.committed()
        return result

    def transact(self, fn: Callable[[Transaction], T]) -> T:
        return self._run(fn, writable=True)

    def read(self, fn: Callable[[Transaction], T]) -> T:
        return self._run(fn, writable=False)

    def open_directory(self, path: tuple[str, ...], create: bool) -> bytes | None:
        found = open_local_directory(self.read, path, False)
        if found is not None or not create:
            return found
        return open_local_directory(self.transact, path, True)

    def list_directory(self, path: tuple[str, ...]) -> list[str]:
        return list_local_directory(self.read, path)

    def check_storage(self) -> tuple[list[str], list[str]]:
        """The inner engine's storage check (sqlite's seal and pages), if it has one."""
        check: Callable[[], tuple[list[str], list[str]]] | None = getattr(
            self.inner, "check_storage", None
        )
        return check() if check is not None else ([], [])

    def close(self) -> None:
        self.inner.close()
