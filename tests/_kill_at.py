"""Crash children's seam: SIGKILL this process at a named write transaction.

``$SWARM_TEST_KILL_AT`` names the point: ``in-tx-N`` kills inside the Nth write
transaction counted from :func:`arm_transactions` on, after its writes were made
and before it commits; ``after-tx-N`` right after the Nth committed. The count is
taken on the real engine's ``transact``, so everything above it runs unchanged.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any


def die() -> None:
    """SIGKILL this process, with what it printed so far flushed."""
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm_transactions(engine: Any, point: str) -> None:
    """Count ``engine``'s write transactions from here on; kill at ``point``."""
    where, _, nth = point.rpartition("-")
    target = int(nth)
    real: Callable[..., Any] = engine.transact
    count = 0

    def transact(fn: Callable[[Any], Any]) -> Any:
        nonlocal count
        count += 1
        this = count

        def inside(tr: Any) -> Any:
            out = fn(tr)
            if where == "in-tx" and this == target:
                die()  # the transaction is open and uncommitted
            return out

        result = real(inside)
        if where == "after-tx" and this == target:
            die()
        return result

    engine.transact = transact
