"""Retrying transient ledger errors with capped exponential backoff and full jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import ledger
from sync._errors import HubUnavailable, InvalidSyncArgument

T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same operation may succeed.

    A transaction that kept conflicting, an unreachable engine and a plain
    storage failure are transient; a damaged or foreign store, and every
    refusal of the input (hash chain, limits, ids), are not.
    """
    if isinstance(exc, ledger.CorruptStore | ledger.ForeignStore):
        return False
    return isinstance(exc, ledger.Conflict | ledger.StorageError | ledger.TransactionTooOld)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep retrying: ``attempts`` tries, sleeping up to base*2^n (≤ cap) between.

    ``sleep`` and ``rng`` are seams for tests; the defaults are the real ones.
    """

    attempts: int = 8
    base_s: float = 0.05
    cap_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InvalidSyncArgument(f"retry attempts must be at least 1, got {self.attempts}")
        if self.base_s < 0 or self.cap_s < 0:
            raise InvalidSyncArgument("retry delays must not be negative")

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return self.rng.uniform(0.0, min(self.cap_s, self.base_s * (2**attempt)))

    def run(self, operation: str, fn: Callable[[], T]) -> T:
        """``fn()``, retried on transient errors; permanent errors pass through at once."""
        for attempt in range(self.attempts):
            try:
                return fn()
            except ledger.LedgerError as exc:
                if not is_transient(exc):
                    raise
                if attempt + 1 == self.attempts:
                    raise HubUnavailable(operation, self.attempts, str(exc)) from exc
                self.sleep(self.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover
