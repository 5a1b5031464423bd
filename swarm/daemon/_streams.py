"""Event streams: the log after a cursor, then live, until the client leaves.

Streams are async generators on the event loop: an idle stream holds no
thread. They tail the ledger through one shared watch per project
(``ProjectWatchers``): subscribe first, then read, so an append in between
wakes the stream and nothing is missed. A stream re-checks its token on each
wake and every few seconds, so a revoked or expired token ends it with
UNAUTHENTICATED; the daemon's shutdown ends every stream with UNAVAILABLE
naming the cursor to resume after.

Batches (ADR 0015, wire): a request with ``batch`` > 0 gets the records of
each page read packed into few messages (``EventRecord.batch``), at most
``batch`` records and about ``BATCH_BYTES`` each, every record with its own
cursor. What is read is sent at once: a batch never waits to fill, so a live
tail's latency is the same as one record per message. Why: one message per
event made the event loop's per-message work (framing, a write, a wake) the
stream's cost and the daemon's bottleneck under many tails.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass

import grpc

import ledger
from ledger import Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._call import Abort, Call
from swarm.daemon._metrics import Metrics
from swarm.daemon._points import cursor
from swarm.daemon._pool import Pool
from swarm.daemon._shared_reads import Messages, Page, SharedReads
from swarm.daemon._tokens import SYSTEM_TENANT, TOKENS_PROJECT, TokenInfo, TokenStore
from swarm.daemon._watchers import ProjectWatchers

STREAM_PAGE = 256
MAX_BATCH = 1000  # records per message, whatever a request asks
# Bytes of records per message: a record that would take a batch past it starts the
# next one, so a message stays far under a client's default 4 MB receive limit.
BATCH_BYTES = 1_000_000
TOKEN_RECHECK_S = 3.0  # longest an idle stream goes without re-checking its token
TOKEN_MEMO_S = 1.0  # streams of one token share a check this fresh


@dataclass(frozen=True, slots=True)
class Tail:
    """What one stream sends: project ``t``/``p`` after ``after``, maybe one mission's events."""

    t: str
    p: str
    after: str = ""
    follow: bool = False
    mission_id: str = ""
    limit: int = 0  # 0: no limit
    until_finished: bool = False  # end at the mission's MISSION_FINISHED
    batch: int = 0  # records per message, in EventRecord.batch; 0: one record per message


class _Wake:
    """An open stream's wake-up: set from watcher threads, awaited on the loop."""

    __slots__ = ("event", "loop", "tokens_changed")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event = asyncio.Event()
        self.tokens_changed = False

    def wake(self) -> None:
        """Thread-safe: wake the stream (its project grew, or the daemon stops)."""
        self.loop.call_soon_threadsafe(self.event.set)

    def wake_tokens(self) -> None:
        self.tokens_changed = True
        self.wake()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)


class Streams:
    """Every open stream of one daemon: tail them, count them, end them at shutdown."""

    def __init__(self, led: ledger.Ledger, tokens: TokenStore, metrics: Metrics, pool: Pool):
        self._led = led
        self._tokens = tokens
        self._metrics = metrics
        self._pool = pool
        self._watchers = ProjectWatchers(led)
        self._reads = SharedReads(led, pool)
        self._open: set[_Wake] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._memo: dict[str, tuple[float, TokenInfo]] = {}

    def stop(self) -> int:
        """End every open stream (daemon shutdown); returns how many were open."""
        self._stopping.set()
        with self._lock:
            states = list(self._open)
        for state in states:
            state.wake()
        self._watchers.close()
        return len(states)

    def count(self) -> int:
        with self._lock:
            return len(self._open)

    async def tail(self, call: Call, tail: Tail) -> AsyncGenerator[api.EventRecord, None]:
        """The log after the cursor, then live: subscribed before each read, so nothing is missed.

        Yields one message per record, or, when ``tail.batch`` is set, messages of
        up to that many records (``EventRecord.batch``). A client that leaves or a
        deadline cancels the task at its ``await``; the ``finally`` then drops the
        subscriptions, so an idle stream costs no thread.
        """
        after = await self._pool.run(cursor, self._led, tail.t, tail.p, tail.after)
        wake = _Wake(asyncio.get_running_loop())
        unsubscribe = await self._pool.run(self._subscribe, tail, wake) if tail.follow else []
        with self._lock:
            self._open.add(wake)
        self._metrics.active_streams.inc()
        sent = 0
        batch = min(tail.batch, MAX_BATCH)
        try:
            async with contextlib.aclosing(self._pages(call, tail, after, wake)) as pages:
                async for records, page in pages:
                    if tail.limit and len(records) > tail.limit - sent:
                        records, page = records[: tail.limit - sent], None
                    for message, n in _built(records, page, batch):
                        sent += n
                        self._metrics.events_streamed.inc(n)
                        yield message
                    if tail.limit and sent >= tail.limit:
                        return
        finally:
            for drop in unsubscribe:
                drop()
            with self._lock:
                self._open.discard(wake)
            self._metrics.active_streams.dec()
            call.facts["sent"] = str(sent)

    async def _pages(
        self, call: Call, tail: Tail, after: Versionstamp | None, wake: _Wake
    ) -> AsyncGenerator[tuple[list[ledger.RecordedEvent], Page | None], None]:
        """Page after page of the log: the records the tail wants (never none), with the
        page read when they are all of it (its messages are shared); once the log is
        read, wait for the next append (if following)."""
        checked = time.monotonic()
        size = max(STREAM_PAGE, min(tail.batch, MAX_BATCH))
        while True:
            if self._stopping.is_set():
                raise Abort(
                    grpc.StatusCode.UNAVAILABLE,
                    f"daemon is shutting down; resume after cursor {after or ''}",
                )
            if wake.tokens_changed or time.monotonic() - checked >= TOKEN_RECHECK_S:
                await self._recheck(call, fresh=wake.tokens_changed)
                wake.tokens_changed = False
                checked = time.monotonic()
            wake.event.clear()  # before the read: an append after it sets it again
            since = self._reads.mark()  # so a read shared with other tails starts after it
            page = await self._reads.read(tail.t, tail.p, after, size, since)
            read = page.records
            if read:
                after = read[-1].versionstamp
                wanted, finished = _wanted(read, tail)
                if wanted:
                    yield wanted, (page if wanted is read else None)
                if finished:
                    return
                continue
            if not tail.follow:
                return
            # Jittered, so a thousand streams opened together do not re-check together.
            await wake.wait(TOKEN_RECHECK_S * random.uniform(0.5, 1.0))

    def _subscribe(self, tail: Tail, wake: _Wake) -> list[Callable[[], None]]:
        """Wake on the project's appends and on any token change (a revocation, blocking)."""
        drops = [self._watchers.subscribe(SYSTEM_TENANT, TOKENS_PROJECT, wake.wake_tokens)]
        try:
            drops.append(self._watchers.subscribe(tail.t, tail.p, wake.wake))
        except BaseException:
            drops[0]()
            raise
        return drops

    async def _recheck(self, call: Call, *, fresh: bool) -> None:
        """Raise Unauthenticated if the stream's token was revoked or has expired.

        Streams of one token share a check for ``TOKEN_MEMO_S``, so a thousand idle
        streams do not each read the ledger every few seconds; a token change
        (``fresh``) skips the memo.
        """
        now = time.monotonic()
        memo = self._memo.get(call.bearer)
        if fresh or memo is None or now - memo[0] > TOKEN_MEMO_S:
            info = await self._pool.run(self._tokens.check, call.bearer)
            if len(self._memo) > 4096:
                self._memo.clear()
            self._memo[call.bearer] = (time.monotonic(), info)
        else:
            self._tokens.check_expiry(memo[1])


def _wanted(
    read: list[ledger.RecordedEvent], tail: Tail
) -> tuple[list[ledger.RecordedEvent], bool]:
    """The records of ``read`` the tail sends, and whether the tail ends after them."""
    if not tail.mission_id:
        return read, False
    page = []
    for rec in read:
        if rec.event.mission_id != tail.mission_id:
            continue
        page.append(rec)
        if tail.until_finished and _finishes(rec, tail.mission_id):
            return page, True
    return page, False


def _record(rec: ledger.RecordedEvent, into: api.EventRecord) -> api.EventRecord:
    into.cursor = str(rec.versionstamp)
    into.event.CopyFrom(rec.event)
    into.chain = rec.chain
    return into


def _built(
    records: list[ledger.RecordedEvent], page: Page | None, batch: int
) -> Iterator[tuple[api.EventRecord, int]] | Messages:
    """The messages for ``records``: built once per page and batch size when they are a
    whole page (tails at one cursor share them), else built for this tail alone."""
    if page is None:
        return _messages(records, batch)
    return page.messages(batch, lambda: list(_messages(records, batch)))


def _messages(
    page: list[ledger.RecordedEvent], batch: int
) -> Iterator[tuple[api.EventRecord, int]]:
    """The messages that carry ``page``, each with how many records it holds: one per
    record when ``batch`` is 0, else up to ``batch`` records and about ``BATCH_BYTES``."""
    if batch <= 0:
        for rec in page:
            yield _record(rec, api.EventRecord()), 1
        return
    message, n, size = api.EventRecord(), 0, 0
    for rec in page:
        cost = rec.event.ByteSize() + 64  # its cursor, chain and framing
        if n and (n >= batch or size + cost > BATCH_BYTES):
            yield message, n
            message, n, size = api.EventRecord(), 0, 0
        _record(rec, message.batch.add())
        n += 1
        size += cost
    if n:
        yield message, n


def _finishes(rec: ledger.RecordedEvent, mission_id: str) -> bool:
    return (
        rec.kind == "signal"
        and rec.event.mission_id == mission_id
        and rec.event.signal.kind == pb.SIGNAL_KIND_MISSION_FINISHED
    )
