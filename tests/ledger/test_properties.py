"""Property tests (hypothesis): key encoding, append/read-back, versionstamps, idempotency."""

from __future__ import annotations

import uuid

import fdb.tuple as fdbtuple
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import Ledger, Versionstamp, open_ledger
from ledger._keys import ProjectKeys, pack, vs_element
from proto.swarm.v1 import events_pb2 as pb

elements = st.one_of(
    st.text(max_size=12),
    st.binary(max_size=12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
tuples = st.tuples(elements, elements)
stamps = st.binary(min_size=12, max_size=12).map(Versionstamp)


def _same_kind(a: object, b: object) -> bool:
    return type(a) is type(b)


@given(tuples)
def test_tuple_keys_round_trip(t: tuple[object, object]) -> None:
    assert fdbtuple.unpack(pack(t)) == t


@given(st.text(max_size=8), st.text(max_size=8))
def test_string_keys_keep_order(a: str, b: str) -> None:
    assert (pack((a,)) < pack((b,))) == (a.encode() < b.encode())


@given(st.integers(-(2**40), 2**40), st.integers(-(2**40), 2**40))
def test_integer_keys_keep_order(a: int, b: int) -> None:
    assert (pack((a,)) < pack((b,))) == (a < b)


@given(stamps, stamps)
def test_event_keys_keep_versionstamp_order(a: Versionstamp, b: Versionstamp) -> None:
    keys = ProjectKeys.of(b"\x15\x07", "web")
    assert (keys.event(a) < keys.event(b)) == (a < b)
    assert keys.event(a).endswith(vs_element(a))


@given(stamps)
def test_versionstamp_text_round_trips(vs: Versionstamp) -> None:
    assert Versionstamp.parse(str(vs)) == vs


batches = st.lists(
    st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=3), min_size=1, max_size=6),
    min_size=1,
    max_size=6,
)


def _fresh() -> tuple[Ledger, str, str]:
    led = open_ledger("memory:")
    led.create_tenant("t")
    led.create_project("t", "p")
    return led, "t", "p"


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(batches)
def test_read_back_equals_what_was_appended_and_versionstamps_increase(
    batches: list[list[str]],
) -> None:
    """Ids are drawn from a small alphabet, so batches repeat ids: idempotency is exercised."""
    led, t, p = _fresh()
    expected: list[str] = []
    stamps: dict[str, Versionstamp] = {}
    for batch in batches:
        events = [
            pb.SwarmEvent(event_id=eid, agent_id="a", decision=pb.Decision(rationale=eid))
            for eid in batch
        ]
        for a in led.append(t, p, events):
            if a.event_id in stamps:
                assert a.duplicate and a.versionstamp == stamps[a.event_id]
            else:
                assert not a.duplicate
                stamps[a.event_id] = a.versionstamp
                expected.append(a.event_id)
    got = led.read(t, p)[1:]
    assert [r.event.event_id for r in got] == expected
    vss = [r.versionstamp for r in got]
    assert vss == sorted(vss) and len(set(vss)) == len(vss)
    times = [r.time_us for r in got]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert [r.event.decision.rationale for r in got] == expected


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["a.py", "b.py", "c/d.py"]), min_size=1, max_size=12))
def test_file_heads_equal_the_fold_of_state_changes(paths: list[str]) -> None:
    import hashlib

    led, t, p = _fresh()
    heads: dict[str, bytes] = {}
    for i, path in enumerate(paths):
        content = f"{path} v{i}".encode()
        ref = led.put_blob(t, content)
        ev = pb.SwarmEvent(
            event_id=str(uuid.uuid4()),
            state_change=pb.StateChange(
                path=path, previous_sha256=heads.get(path, b""), new_sha256=ref.sha256
            ),
        )
        led.append(t, p, [ev])
        heads[path] = hashlib.sha256(content).digest()
    assert {f.path: f.sha256 for f in led.files(t, p)} == heads
