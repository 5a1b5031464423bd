"""Hypothesis: replay equals the fold of the log, with or without snapshots, at any time."""

from __future__ import annotations

import hashlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger
from ledger import Ledger, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from replay import Entry, Replayer, format_time
from tests.conftest import ManualClock

PATHS = ("a.py", "b.py", "pkg/c.py", "pkg/sub/d.txt")
# One step: (path index, content or None to delete, seconds to wait before it)
steps = st.lists(
    st.tuples(
        st.integers(0, len(PATHS) - 1),
        st.one_of(st.none(), st.binary(max_size=40)),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=30,
)


def build(
    ops: list[tuple[int, bytes | None, int]],
) -> tuple[Ledger, ManualClock, list[tuple[Versionstamp, int, dict[str, Entry]]]]:
    """Append the changes that make sense (no deleting an absent file) and record the fold."""
    clock = ManualClock()
    led = Ledger(ledger.open_engine("memory:"), clock=clock)
    led.create_tenant("t")
    led.create_project("t", "p")
    files: dict[str, Entry] = {}
    seen: list[tuple[Versionstamp, int, dict[str, Entry]]] = []
    for n, (i, content, wait) in enumerate(ops):
        path = PATHS[i]
        if content is None and path not in files:
            continue
        clock.advance(wait)
        prev = files[path].sha256 if path in files else b""
        change = pb.StateChange(path=path, previous_sha256=prev)
        if content is not None:
            ref = led.put_blob("t", content)
            change.new_sha256, change.new_size = ref.sha256, ref.size
            files[path] = Entry(ref.sha256, ref.size)
        else:
            del files[path]
        (done,) = led.append("t", "p", [pb.SwarmEvent(event_id=f"e{n}", state_change=change)])
        seen.append(
            (done.versionstamp, led.get_event("t", "p", done.versionstamp).time_us, dict(files))
        )
    return led, clock, seen


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_state_at_every_versionstamp_is_the_fold(ops: list[tuple[int, bytes | None, int]]) -> None:
    led, clock, seen = build(ops)
    r = Replayer(led, "t", "p", clock=clock)
    for vs, _, files in seen:
        assert dict(r.state_at(vs).files) == files
    for _, _, files in seen[-1:]:
        for path, entry in files.items():
            assert (
                hashlib.sha256(led.get_blob("t", entry.sha256)).digest()
                == entry.sha256
                == files[path].sha256
            )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(1, 7))
def test_snapshot_plus_tail_is_the_full_fold(
    ops: list[tuple[int, bytes | None, int]], every: int
) -> None:
    led, clock, seen = build(ops)
    plain = Replayer(led, "t", "p", clock=clock)
    snapped = Replayer(led, "t", "p", clock=clock, snapshot_every=every)
    snapped.take_snapshots()
    for vs, _, files in seen:
        state = snapped.state_at(vs)
        assert dict(state.files) == files == dict(plain.state_at(vs).files)
        assert state.events_folded <= every


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.floats(0.01, 0.99))
def test_a_time_between_two_events_replays_as_the_earlier(
    ops: list[tuple[int, bytes | None, int]], frac: float
) -> None:
    led, clock, seen = build(ops)
    r = Replayer(led, "t", "p", clock=clock)
    for (vs, t0, files), (_, t1, _) in itertools.pairwise(seen):
        between = t0 + int((t1 - t0) * frac)
        if between in (t0, t1) or t1 - t0 < 2:
            continue
        at = r.at_time(format_time(between))
        assert at == vs
        assert dict(r.state_at(at).files) == files
