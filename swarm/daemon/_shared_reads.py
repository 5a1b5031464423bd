"""One ledger read for every stream of a project that asks for the same page at once.

Why: an append wakes every tail of its project together, and each then read
the same page (a pool hop, a range read, a decode per event) and built the
same messages: fifty tails of five projects did ten times the work of five.
Here a read asked for while an equal one is in flight joins it, and the
messages built from one page for one batch size are built once.

A stream only joins a read *scheduled after* its own ``mark()`` (taken just
before it reads, when it clears its wake-up), so the read's snapshot is at
least as new as the append that woke it: joining never hides an append.
Everything here runs on the event loop thread, so it needs no lock.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import ledger
from ledger import Versionstamp
from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._pool import Pool

_Key = tuple[str, str, Versionstamp | None, int]
Messages = list[tuple[api.EventRecord, int]]


class Page:
    """What one read returned, and the messages built from it, by batch size."""

    __slots__ = ("built", "records")

    def __init__(self, records: list[ledger.RecordedEvent]) -> None:
        self.records = records
        self.built: dict[int, Messages] = {}

    def messages(self, batch: int, build: Callable[[], Messages]) -> Messages:
        """The messages for ``batch``, built by the first stream that asks."""
        found = self.built.get(batch)
        if found is None:
            found = self.built[batch] = build()
        return found


class SharedReads:
    """Coalesces equal concurrent ``Ledger.read`` calls of the daemon's streams."""

    def __init__(self, led: ledger.Ledger, pool: Pool) -> None:
        self._led = led
        self._pool = pool
        self._clock = itertools.count()
        self._inflight: dict[_Key, tuple[int, asyncio.Future[Page]]] = {}

    def mark(self) -> int:
        """A point in the loop's order: reads scheduled after it see what was appended before."""
        return next(self._clock)

    async def read(
        self, t: str, p: str, after: Versionstamp | None, limit: int, since: int
    ) -> Page:
        """The page after ``after``, from a read scheduled after ``since`` (``mark()``)."""
        key = (t, p, after, limit)
        found = self._inflight.get(key)
        future: asyncio.Future[Page]
        if found is None or found[0] < since:
            started = self.mark()
            future = asyncio.ensure_future(self._read(t, p, after, limit))
            self._inflight[key] = (started, future)
            future.add_done_callback(lambda f: self._done(key, f))
        else:
            future = found[1]
        # Shielded: a stream that leaves does not cancel the read the others wait for.
        return await asyncio.shield(future)

    async def _read(self, t: str, p: str, after: Versionstamp | None, limit: int) -> Page:
        return Page(await self._pool.run(self._led.read, t, p, after=after, limit=limit))

    def _done(self, key: _Key, future: asyncio.Future[Page]) -> None:
        current = self._inflight.get(key)
        if current is not None and current[1] is future:
            del self._inflight[key]
        if not future.cancelled():
            future.exception()  # retrieved here too, so one no stream awaited is not logged
