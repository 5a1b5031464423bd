"""Batched event streams (ADR 0015, wire): many records per message, each with its own cursor.

A request with ``batch`` set gets ``EventRecord.batch`` messages; one without
it gets the original one-record-per-message form, so older clients read on.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from proto.swarm.v1 import service_pb2 as api
from swarm.client import stream_records
from swarm.daemon._streams import BATCH_BYTES, MAX_BATCH
from tests.daemon.conftest import TENANT_A, World, ref
from tests.ledger._events import decision


def fresh_project(world: World, events: int = 0, text: str = "looked") -> tuple[str, list[str]]:
    name = f"b{uuid.uuid4().hex[:10]}"
    world.led.create_project(TENANT_A, name)
    ids = [f"ev-{name}-{i}" for i in range(events)]
    for start in range(0, events, 500):
        world.led.append(
            TENANT_A, name, [decision(eid=i, text=text) for i in ids[start : start + 500]]
        )
    return name, ids


def stream(stub: Any, world: World, project: str, **kw: Any) -> Any:
    timeout = kw.pop("timeout", 30)
    req = api.StreamEventsRequest(project=ref(project=project), **kw)
    return stub.StreamEvents(req, metadata=world.md("a-ops"), timeout=timeout)


def test_a_batched_stream_sends_the_same_records_as_the_one_per_message_form(
    world: World, stub: Any
) -> None:
    p, _ = fresh_project(world, 1200)
    single = list(stream(stub, world, p))
    messages = list(stream(stub, world, p, batch=500))
    assert all(not m.batch for m in single)  # no batch asked: the original form
    assert all(m.batch and not m.cursor and not m.HasField("event") for m in messages)
    assert all(len(m.batch) <= 500 for m in messages)
    assert 3 <= len(messages) < len(single) == 1201  # PROJECT_CREATED, then 1,200
    records = [r for m in messages for r in m.batch]
    assert records == single  # each with its own cursor, event and chain, in order
    assert len({r.cursor for r in records}) == len(records)
    assert list(stream_records(messages)) == list(stream_records(single)) == single


def test_a_stream_resumed_mid_batch_gives_every_event_exactly_once(world: World, stub: Any) -> None:
    p, ids = fresh_project(world, 400)
    more = [f"ev-{p}-live-{i}" for i in range(150)]
    writer = threading.Thread(
        target=lambda: [world.led.append(TENANT_A, p, [decision(eid=i)]) for i in more]
    )
    first = stream(stub, world, p, follow=True, batch=300)
    message = next(first)
    assert len(message.batch) > 100  # the log so far comes in a few full messages
    kept = list(message.batch[:100])  # the client handled 100 records of this batch, then broke
    first.cancel()
    writer.start()  # appends land while the client is away
    seen = [r.event.event_id for r in kept]
    second = stream(stub, world, p, follow=True, batch=300, after=kept[-1].cursor)
    for rec in stream_records(second):
        seen.append(rec.event.event_id)
        if rec.event.event_id == more[-1]:
            second.cancel()
            break
    writer.join()
    assert [s for s in seen if s.startswith("ev-")] == ids + more  # in order, no gap
    assert len(seen) == len(set(seen))  # no duplicate


def test_a_live_batched_tail_sends_what_it_has_without_waiting_to_fill_a_batch(
    world: World, stub: Any
) -> None:
    p, _ = fresh_project(world)
    it = stream(stub, world, p, follow=True, batch=MAX_BATCH)
    assert len(next(it).batch) == 1  # PROJECT_CREATED alone: nothing more to wait for
    threading.Timer(0.2, lambda: world.led.append(TENANT_A, p, [decision(eid=f"live-{p}")])).start()
    live = next(it)
    assert [r.event.event_id for r in live.batch] == [f"live-{p}"]
    it.cancel()


def test_a_batch_stays_under_its_byte_cap_and_a_huge_batch_ask_is_capped(
    world: World, stub: Any
) -> None:
    p, ids = fresh_project(world, 120, text="x" * 30_000)  # ~3.6 MB of records
    messages = list(stream(stub, world, p, batch=10**6))
    assert len(messages) >= 4
    assert all(m.ByteSize() <= BATCH_BYTES + 40_000 for m in messages)  # one record's slack
    assert [r.event.event_id for r in stream_records(messages)][1:] == ids
    q, _ = fresh_project(world, 2500)
    capped = list(stream(stub, world, q, batch=10**6))
    assert max(len(m.batch) for m in capped) == MAX_BATCH


@pytest.mark.parametrize(("batch", "limit"), [(5, 7), (500, 3), (2, 2)])
def test_limit_and_mission_filter_hold_in_batches(
    world: World, stub: Any, batch: int, limit: int
) -> None:
    p, _ = fresh_project(world)
    world.led.append(TENANT_A, p, [decision(mission=f"m{i % 2}") for i in range(20)])
    limited = list(stream(stub, world, p, batch=batch, limit=limit))
    assert sum(len(m.batch) for m in limited) == limit
    assert all(0 < len(m.batch) <= batch for m in limited)
    only = list(stream_records(stream(stub, world, p, batch=batch, mission_id="m1")))
    assert [r.event.mission_id for r in only] == ["m1"] * 10
