"""The pieces under the daemon's streams and edge, on a real sqlite ledger: shared watches, clipping, slots."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

import ledger
from swarm.daemon import StreamSlots
from swarm.daemon._logging import _clip_values, clip, clip_message
from swarm.daemon._watchers import ProjectWatchers
from tests.ledger._events import decision

T, P = "acme", "app"


@pytest.fixture
def led(tmp_path: Path) -> Iterator[ledger.Ledger]:
    with ledger.open_ledger(f"sqlite://{tmp_path / 'w.sqlite'}") as opened:
        opened.create_tenant(T)
        opened.create_project(T, P)
        yield opened


def _thread_named(name: str) -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == name), None)


def test_many_subscribers_share_one_thread_and_each_is_woken(led: ledger.Ledger) -> None:
    watchers = ProjectWatchers(led)
    woken = [threading.Event() for _ in range(100)]
    drops = [watchers.subscribe(T, P, ev.set) for ev in woken]
    assert watchers.watched() == 1
    led.append(T, P, [decision()])
    for ev in woken:
        assert ev.wait(10)
    thread = _thread_named(f"swarm-watch:{T}/{P}")
    assert thread is not None
    for drop in drops:
        drop()
    assert watchers.watched() == 0
    thread.join(10)
    assert not thread.is_alive()  # the last subscriber took the thread with it


def test_every_append_after_a_read_wakes_the_subscriber(led: ledger.Ledger) -> None:
    """Subscribe, read, and an append racing the read: seen by the read or woken for."""
    watchers = ProjectWatchers(led)
    seen_head = led.head(T, P)
    for _ in range(50):
        woken = threading.Event()
        drop = watchers.subscribe(T, P, woken.set)
        writer = threading.Thread(target=led.append, args=(T, P, [decision()]))
        writer.start()
        head = led.head(T, P)
        writer.join()
        if head == seen_head:  # the read missed the append: the subscriber must be woken
            assert woken.wait(10)
        seen_head = led.head(T, P)
        drop()
    watchers.close()


def test_a_second_append_after_a_wake_wakes_again(led: ledger.Ledger) -> None:
    watchers = ProjectWatchers(led)
    count = threading.Semaphore(0)
    drop = watchers.subscribe(T, P, count.release)
    for _ in range(5):
        led.append(T, P, [decision()])
        assert count.acquire(timeout=10)
    drop()
    watchers.close()


def test_an_unknown_project_is_refused(led: ledger.Ledger) -> None:
    with pytest.raises(ledger.NotFound):
        ProjectWatchers(led).subscribe(T, "nope", lambda: None)


def test_clip_keeps_the_head_and_says_how_much_was_cut() -> None:
    assert clip("short") == "short"
    assert clip("é" * 300) == "é" * 200 + "…(600 bytes)"
    message = clip_message(f"no file {'x' * 10_000!r} in 'app'")
    assert message.startswith("no file 'xxx") and message.endswith("…(10002 bytes) in 'app'")
    assert len(clip_message("word " * 100_000)) < 1100
    line = _clip_values(None, "warning", {"error": "y" * 1_000_000, "ms": 1.5})
    assert len(line["error"]) < 2100 and line["ms"] == 1.5


def test_stream_slots_cap_each_tenant_alone() -> None:
    slots = StreamSlots(per_tenant=2)
    slots.take("a")
    slots.take("a")
    slots.take("b")
    with pytest.raises(Exception) as err:
        slots.take("a")
    assert getattr(err.value, "code", None) == grpc.StatusCode.RESOURCE_EXHAUSTED
    slots.give("a")
    slots.take("a")
