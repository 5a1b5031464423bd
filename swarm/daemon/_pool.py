"""The bounded thread pool every blocking (ledger) call of the daemon runs on."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")


class Pool:
    """Runs blocking functions off the event loop, in the caller's context (its log facts)."""

    def __init__(self, executor: Executor | None) -> None:
        self.executor = executor  # None: the loop's default executor (tests)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the pool: the event loop never blocks.

        The context is copied, so what the call bound for its log lines (trace id,
        tenant) is on every line ``fn`` logs.
        """
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        job = functools.partial(context.run, fn, *args, **kwargs)
        return await loop.run_in_executor(self.executor, job)
