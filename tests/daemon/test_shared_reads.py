"""Tails of one project share a read, and sharing never hides an append (ADR 0015, wire)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import ledger
from swarm.client import stream_records
from swarm.daemon._pool import Pool
from swarm.daemon._shared_reads import SharedReads
from tests.daemon.conftest import TENANT_A, World
from tests.daemon.test_stream_batches import fresh_project, stream
from tests.ledger._events import decision


class HeldReads:
    """A real ledger whose reads each take their snapshot, then wait for ``release``.

    The seam that makes "a read in flight while an append lands" happen on purpose.
    """

    def __init__(self, led: ledger.Ledger) -> None:
        self.led = led
        self.reads = 0
        self.release = threading.Event()

    def read(self, *args: Any, **kwargs: Any) -> list[ledger.RecordedEvent]:
        self.reads += 1
        got = self.led.read(*args, **kwargs)
        self.release.wait(60)
        return got


def test_a_read_joins_one_in_flight_only_if_that_started_after_its_mark(tmp_path: Path) -> None:
    led = ledger.open_ledger(f"sqlite://{tmp_path / 'l.sqlite'}")
    led.create_tenant("t")
    led.create_project("t", "p")
    held = HeldReads(led)
    reads = SharedReads(held, Pool(None))  # type: ignore[arg-type]

    async def scenario() -> tuple[int, int, int]:
        early = reads.mark()
        first = asyncio.ensure_future(reads.read("t", "p", None, 100, early))
        while held.reads == 0:  # the first read has taken its snapshot
            await asyncio.sleep(0.01)
        joined = asyncio.ensure_future(reads.read("t", "p", None, 100, early))
        led.append("t", "p", [decision(eid="late")])  # lands while the first read is out
        fresh = asyncio.ensure_future(reads.read("t", "p", None, 100, reads.mark()))
        await asyncio.sleep(0.05)
        held.release.set()
        pages = await asyncio.gather(first, joined, fresh)
        return tuple(len(page.records) for page in pages)  # type: ignore[return-value]

    first, joined, fresh = asyncio.run(scenario())
    assert held.reads == 2  # the joined read cost nothing; the fresh one read again
    assert (first, joined) == (1, 1)  # PROJECT_CREATED only: their snapshot predates "late"
    assert fresh == 2  # a read marked after the append sees it
    led.close()


def test_many_tails_of_one_project_each_get_every_event_once_in_order(
    world: World, stub: Any
) -> None:
    p, _ = fresh_project(world)
    ids = [f"ev-{p}-{i}" for i in range(200)]
    tails = [stream(stub, world, p, follow=True, batch=(0, 7, 500)[i % 3]) for i in range(12)]
    seen: list[list[str]] = [[] for _ in tails]

    def drain(i: int) -> None:
        for rec in stream_records(tails[i]):
            seen[i].append(rec.event.event_id)
            if rec.event.event_id == ids[-1]:
                tails[i].cancel()
                return

    readers = [threading.Thread(target=drain, args=(i,)) for i in range(len(tails))]
    for r in readers:
        r.start()
    for start in range(0, len(ids), 3):  # appends land while the tails read
        world.led.append(TENANT_A, p, [decision(eid=i) for i in ids[start : start + 3]])
    for r in readers:
        r.join(120)
    for got in seen:
        assert got[1:] == ids  # after PROJECT_CREATED: every event, once, in order
