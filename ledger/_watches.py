"""Watches on a project's head: agents wake on an append, not on a sleep.

Every append bumps ``('head',)`` with a versionstamped value, so a watch on it
fires on the next append of the project.
"""

from __future__ import annotations

import time

from ledger._port import Engine, Transaction, Watch
from ledger._scope import ProjectScope
from ledger._types import Versionstamp


def watch(engine: Engine, scope: ProjectScope) -> Watch:
    """A watch that fires on the project's next append."""

    def fn(tr: Transaction) -> Watch:
        scope.require(tr)
        return tr.watch(scope.keys.head)

    return engine.read(fn)


def wait_for_append(
    engine: Engine, scope: ProjectScope, after: Versionstamp | None, timeout: float | None
) -> bool:
    """Block until the project holds an event after ``after`` (True) or ``timeout`` passes.

    Race-free: the head is read and the watch set in one transaction, so an
    append that lands in between is seen rather than missed. A watch that fires
    with the head unchanged (FoundationDB allows it) sets the next one.
    """
    head_key = scope.keys.head

    def fn(tr: Transaction) -> Watch | None:
        scope.require(tr)
        head = tr.get(head_key)
        if head is not None and (after is None or head > after.tr_version):
            return None
        return tr.watch(head_key)

    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pending = engine.read(fn)
        if pending is None:
            return True
        left = None if deadline is None else deadline - time.monotonic()
        try:
            if (left is not None and left <= 0) or not pending.wait(left):
                return False
        finally:
            pending.cancel()
