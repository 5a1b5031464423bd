"""Conformance suite for the Ledger, run on every engine through conftest's ``led``."""

from __future__ import annotations

import hashlib
import random
import threading
from typing import Any

import pytest

import ledger
from ledger import Ledger, Versionstamp
from ledger import _keys as ledger_keys
from proto.swarm.v1 import events_pb2 as pb
from tests.conftest import ManualClock
from tests.ledger._events import change, decision, sha


@pytest.fixture
def proj(led: Ledger, tenant: str) -> tuple[str, str]:
    led.create_tenant(tenant)
    led.create_project(tenant, "web")
    return tenant, "web"


def test_tenants_and_projects(led: Ledger, tenant: str) -> None:
    led.create_tenant(tenant)
    led.create_tenant(tenant)  # idempotent
    assert tenant in led.tenants()
    info = led.create_project(tenant, "api")
    assert info.events == 1 and info.head is not None
    assert led.projects(tenant) == ["api"]
    with pytest.raises(ledger.AlreadyExists):
        led.create_project(tenant, "api")
    assert led.create_project(tenant, "api", exist_ok=True).events == 1
    with pytest.raises(ledger.UnknownProject):
        led.read(tenant, "nope")
    with pytest.raises(ledger.UnknownTenant):
        led.create_project("no-such-tenant-x", "p")


def test_append_reads_back_in_order(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    events = [decision(text=f"step {i}") for i in range(5)]
    appended = led.append(t, p, events)
    assert [a.event_id for a in appended] == [e.event_id for e in events]
    assert not any(a.duplicate for a in appended)
    got = led.read(t, p)[1:]  # the first is PROJECT_CREATED
    assert [r.event.event_id for r in got] == [e.event_id for e in events]
    assert [r.versionstamp for r in got] == [a.versionstamp for a in appended]
    assert all(r.event.tenant == t and r.event.project == p for r in got)
    assert got[0].event.decision.rationale == "step 0"


def test_idempotent_append_returns_the_original_versionstamp(
    led: Ledger, proj: tuple[str, str]
) -> None:
    t, p = proj
    e = decision()
    first = led.append(t, p, [e])[0]
    again = led.append(t, p, [e, e])
    assert [a.duplicate for a in again] == [True, True]
    assert {a.versionstamp for a in again} == {first.versionstamp}
    assert len(led.read(t, p)) == 2
    assert led.find_event(t, e.event_id) == (p, first.versionstamp)


def test_same_id_twice_in_one_batch_lands_once(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    e = decision()
    out = led.append(t, p, [e, e])
    assert [a.duplicate for a in out] == [False, True]
    assert out[0].versionstamp == out[1].versionstamp


def test_an_event_id_is_unique_across_projects_of_a_tenant(
    led: Ledger, proj: tuple[str, str]
) -> None:
    t, p = proj
    led.create_project(t, "other")
    e = decision()
    led.append(t, p, [e])
    with pytest.raises(ledger.InvalidEvent, match="already landed in project 'web'"):
        led.append(t, "other", [e])


def test_times_are_monotonic_even_when_the_clock_goes_back(
    led: Ledger, proj: tuple[str, str], clock: ManualClock
) -> None:
    t, p = proj
    led.append(t, p, [decision()])
    clock.advance(-10)
    led.append(t, p, [decision(), decision()])
    times = [r.time_us for r in led.read(t, p)]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_cursors_forward_backward_and_limits(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    stamps = [a.versionstamp for a in led.append(t, p, [decision() for _ in range(10)])]
    page = led.read(t, p, after=stamps[2], limit=3)
    assert [r.versionstamp for r in page] == stamps[3:6]
    back = led.read(t, p, before=stamps[5], limit=2, reverse=True)
    assert [r.versionstamp for r in back] == [stamps[4], stamps[3]]
    between = led.read(t, p, after=stamps[1], before=stamps[4])
    assert [r.versionstamp for r in between] == stamps[2:4]
    assert [r.versionstamp for r in led.iter_events(t, p, after=stamps[0], page=3)] == stamps[1:]
    with pytest.raises(ledger.InvalidArgument):
        led.read(t, p, limit=0)


def test_time_index_answers_at_or_before(
    led: Ledger, proj: tuple[str, str], clock: ManualClock
) -> None:
    t, p = proj
    created = led.project_info(t, p)
    before_all = created.created_us - 1
    marks = []
    for _ in range(4):
        clock.advance(1)
        batch = led.append(t, p, [decision(), decision()])
        marks.append((clock.now_us, batch))
    assert led.versionstamp_at(t, p, before_all) is None
    for now, batch in marks:
        # two events in one transaction get now and now+1 µs
        assert led.versionstamp_at(t, p, now) == batch[0].versionstamp
        assert led.versionstamp_at(t, p, now + 1) == batch[1].versionstamp
        assert led.versionstamp_at(t, p, now + 500_000) == batch[1].versionstamp
    assert led.versionstamp_at(t, p, marks[-1][0] + 10**9) == marks[-1][1][1].versionstamp


def test_history_by_agent_mission_and_path(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    a = led.append(
        t, p, [decision("scout-1", "m1"), decision("scout-2", "m1"), decision("scout-1", "m2")]
    )
    c1 = change(led, t, "src/app.py", b"v1\n")
    c2 = change(led, t, "src/app.py", b"v2\n", previous=sha(b"v1\n"), agent="coder-2")
    led.append(t, p, [c1])
    led.append(t, p, [decision("scout-1", "m1"), c2])
    assert [r.event.event_id for r in led.history(t, p, agent="scout-1")][:2] == [
        a[0].event_id,
        a[2].event_id,
    ]
    assert len(led.history(t, p, agent="scout-1")) == 3
    assert len(led.history(t, p, mission="m1")) == 3
    path_hist = led.history(t, p, path="src/app.py")
    assert [r.event.event_id for r in path_hist] == [c1.event_id, c2.event_id]
    newest = led.history(t, p, path="src/app.py", reverse=True, limit=1)
    assert newest[0].event.event_id == c2.event_id
    after = led.history(t, p, agent="scout-1", after=a[0].versionstamp)
    assert a[0].event_id not in [r.event.event_id for r in after]
    with pytest.raises(ledger.InvalidArgument):
        led.history(t, p, agent="scout-1", mission="m1")


def test_history_pages_across_folded_and_unfolded_index_rows(
    led: Ledger, proj: tuple[str, str]
) -> None:
    """Index entries land in one row per append and are folded into per-value rows
    later; every query, in both directions and in pages, must not see the seam."""
    t, p = proj
    rng = random.Random(5)
    for _ in range(240):
        led.append(
            t,
            p,
            [
                decision(f"scout-{rng.randrange(4)}", f"m{rng.randrange(3)}")
                for _ in range(rng.randrange(1, 4))
            ],
        )
    # One append touching thousands of values: its unfolded row comes in parts.
    led.append(t, p, [decision(f"agent-{i}", f"wide-{i}") for i in range(2500)])
    led.append(t, p, [decision("scout-1", "m1") for _ in range(3)])
    log = led.read(t, p, limit=10_000)
    pk = led.scope(t, p).keys
    folded = led.engine.read(lambda tr: tr.get_range(pk.index, ledger_keys.strinc(pk.index)))
    unfolded = led.engine.read(lambda tr: tr.get_range(*pk.recent_span()))
    assert folded and unfolded, "the test must cross the fold"
    for kind, value in [("agent", "scout-1"), ("mission", "m2"), ("agent", "agent-2499")]:
        want = [r.versionstamp for r in log if getattr(r.event, f"{kind}_id") == value]
        got = [
            r.versionstamp for r in led.history(t, p, **dict[str, Any]({kind: value}), limit=10_000)
        ]
        assert got == want
        back = [
            r.versionstamp
            for r in led.history(t, p, **dict[str, Any]({kind: value}), limit=10_000, reverse=True)
        ]
        assert back == want[::-1]
        pages: list[Versionstamp] = []
        after = None
        while page := led.history(t, p, **dict[str, Any]({kind: value}), after=after, limit=7):
            pages += [r.versionstamp for r in page]
            after = page[-1].versionstamp
        assert pages == want
        pages, before = [], None
        while page := led.history(
            t, p, **dict[str, Any]({kind: value}), before=before, limit=5, reverse=True
        ):
            pages += [r.versionstamp for r in page]
            before = page[-1].versionstamp
        assert pages == want[::-1]
        if len(want) > 4:
            window = led.history(
                t, p, **dict[str, Any]({kind: value}), after=want[1], before=want[-2], limit=10_000
            )
            assert [r.versionstamp for r in window] == want[2:-2]


def test_file_heads_follow_state_changes(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    led.append(t, p, [change(led, t, "a.py", b"one")])
    led.append(t, p, [change(led, t, "a.py", b"two", previous=sha(b"one"))])
    led.append(t, p, [change(led, t, "b.py", b"bee")])
    state = led.file_state(t, p, "a.py")
    assert state is not None and state.sha256 == sha(b"two") and state.size == 3
    assert [f.path for f in led.files(t, p)] == ["a.py", "b.py"]
    led.append(t, p, [change(led, t, "b.py", None, previous=sha(b"bee"))])
    assert led.file_state(t, p, "b.py") is None
    assert [f.path for f in led.files(t, p)] == ["a.py"]


def test_hash_chain_is_enforced(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    led.append(t, p, [change(led, t, "a.py", b"one")])
    before = led.project_info(t, p).events
    with pytest.raises(ledger.HashChainBroken):
        led.append(t, p, [change(led, t, "a.py", b"two", previous=sha(b"not what is there"))])
    with pytest.raises(ledger.HashChainBroken):
        led.append(t, p, [change(led, t, "a.py", b"again")])  # claims to create an existing file
    assert led.project_info(t, p).events == before


def test_state_change_needs_its_blob(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    missing = hashlib.sha256(b"never stored").digest()
    e = pb.SwarmEvent(
        event_id="no-blob", state_change=pb.StateChange(path="x.py", new_sha256=missing)
    )
    with pytest.raises(ledger.UnknownBlob):
        led.append(t, p, [e])


def test_a_batch_is_all_or_nothing(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    good = decision()
    bad = change(led, t, "a.py", b"x", previous=sha(b"wrong"))
    with pytest.raises(ledger.HashChainBroken):
        led.append(t, p, [good, bad])
    assert led.find_event(t, good.event_id) is None
    assert len(led.read(t, p)) == 1


def test_blobs_chunk_dedupe_and_verify(led: Ledger, tenant: str) -> None:
    led.create_tenant(tenant)
    data = bytes(range(256)) * 4000  # 1 MB: 12 chunks
    ref = led.put_blob(tenant, data)
    assert ref.size == len(data) and ref.sha256 == sha(data)
    assert led.put_blob(tenant, data) == ref
    assert led.get_blob(tenant, ref.sha256) == data
    assert led.get_blob(tenant, led.put_blob(tenant, b"").sha256) == b""
    with pytest.raises(ledger.UnknownBlob):
        led.get_blob(tenant, sha(b"absent"))


def test_large_blob_spans_transactions(led: Ledger, tenant: str) -> None:
    led.create_tenant(tenant)
    data = b"z" * 12_000_000  # over one transaction's 10 MB
    ref = led.put_blob(tenant, data)
    assert led.get_blob(tenant, ref.sha256) == data


def test_put_blobs_stores_each_once_in_order(led: Ledger, proj: tuple[str, str]) -> None:
    t, _ = proj
    known = led.put_blob(t, b"already here")
    big = bytes(range(256)) * 1000  # 256 KB: more than one chunk, through put_blob
    items = [b"a", b"", b"already here", b"a", big, *(b"f%d" % i for i in range(300))]
    refs = led.put_blobs(t, items)
    assert [r.sha256 for r in refs] == [sha(d) for d in items]
    assert [r.size for r in refs] == [len(d) for d in items]
    assert refs[2] == known
    for data, ref in zip(items, refs, strict=True):
        assert led.get_blob(t, ref.sha256) == data


def test_get_blobs_reads_many_checked(led: Ledger, proj: tuple[str, str]) -> None:
    t, _ = proj
    items = [b"one", b"", bytes(range(256)) * 1000, b"one"]
    refs = led.put_blobs(t, items)
    assert led.get_blobs(t, [r.sha256 for r in refs]) == items
    with pytest.raises(ledger.UnknownBlob):
        led.get_blobs(t, [refs[0].sha256, sha(b"absent")])


def test_get_blobs_past_one_read_group_agree_with_the_module_reader(
    led: Ledger, proj: tuple[str, str]
) -> None:
    t, _ = proj
    items = [b"blob %d" % i for i in range(1200)]
    shas = [r.sha256 for r in led.put_blobs(t, items)]
    assert led.get_blobs(t, shas[::-1]) == items[::-1]
    assert ledger.get_blobs(led, t, shas) == dict(zip(shas, items, strict=True))


def test_scopes_name_what_they_resolve_and_refuse_what_is_absent(
    led: Ledger, proj: tuple[str, str]
) -> None:
    t, p = proj
    scope = led.scope(t, p)
    assert (scope.tenant, scope.project) == (t, p)
    assert scope.keys.base.startswith(led.tenant_scope(t).keys.prefix)
    led.engine.read(scope.require)  # exists: no error
    absent = led.scope(t, "not-created")
    with pytest.raises(ledger.UnknownProject):
        led.engine.read(absent.require)
    with pytest.raises(ledger.UnknownTenant):
        led.tenant_scope("no-such-tenant-x")
    with pytest.raises(ledger.InvalidId):
        led.scope(t, "bad/project")


def test_put_blobs_takes_few_write_transactions(
    led: Ledger, proj: tuple[str, str], engine_kind: str
) -> None:
    if engine_kind != "sqlite":
        pytest.skip("only sqlite's commit versions count transactions one by one")
    t, p = proj
    (first,) = led.append(t, p, [decision()])
    led.put_blobs(t, [b"blob %d" % i for i in range(1000)])  # ~8 KB: one transaction
    (second,) = led.append(t, p, [decision()])
    # A transaction version is FDB's: an 8-byte commit version, then a 2-byte batch order.
    gap = int.from_bytes(second.versionstamp.tr_version[:8], "big") - int.from_bytes(
        first.versionstamp.tr_version[:8], "big"
    )
    assert gap == 2  # the blobs' one commit, then the append's


def test_locks_lease_renew_release_and_fence(
    led: Ledger, proj: tuple[str, str], clock: ManualClock
) -> None:
    t, p = proj
    lock = led.acquire_lock(t, p, "a.py", "coder-1", ttl_s=10)
    assert len(lock.token) == 10
    with pytest.raises(ledger.LockHeld) as held:
        led.acquire_lock(t, p, "a.py", "coder-2", ttl_s=10)
    assert held.value.holder == "coder-1"
    again = led.acquire_lock(t, p, "a.py", "coder-1", ttl_s=10)
    assert again.token == lock.token
    led.append(t, p, [change(led, t, "a.py", b"1", token=lock.token)])
    with pytest.raises(ledger.StaleFencingToken):
        led.append(t, p, [change(led, t, "a.py", b"2", previous=sha(b"1"))])
    renewed = led.renew_lock(t, p, "a.py", "coder-1", lock.token, ttl_s=30)
    assert renewed.expires_us > lock.expires_us
    with pytest.raises(ledger.LockNotHeld):
        led.release_lock(t, p, "a.py", "coder-2", lock.token)
    assert [x.path for x in led.locks(t, p)] == ["a.py"]
    led.release_lock(t, p, "a.py", "coder-1", lock.token)
    assert led.get_lock(t, p, "a.py") is None
    with pytest.raises(ledger.StaleFencingToken):
        led.append(t, p, [change(led, t, "a.py", b"2", previous=sha(b"1"), token=lock.token)])


def test_expired_lease_is_taken_over_with_a_larger_token(
    led: Ledger, proj: tuple[str, str], clock: ManualClock
) -> None:
    t, p = proj
    old = led.acquire_lock(t, p, "a.py", "coder-1", ttl_s=1)
    clock.advance(2)
    new = led.acquire_lock(t, p, "a.py", "coder-2", ttl_s=5)
    assert new.token > old.token
    with pytest.raises(ledger.StaleFencingToken):
        led.append(t, p, [change(led, t, "a.py", b"late", token=old.token)])
    led.append(t, p, [change(led, t, "a.py", b"fresh", token=new.token)])
    kinds = [r.event.signal.kind for r in led.history(t, p, path="a.py") if r.kind == "signal"]
    assert kinds == [
        pb.SIGNAL_KIND_LOCK_ACQUIRED,
        pb.SIGNAL_KIND_LOCK_EXPIRED,
        pb.SIGNAL_KIND_LOCK_ACQUIRED,
    ]


def test_wait_for_append_wakes_on_the_next_append(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    head = led.head(t, p)
    assert not led.wait_for_append(t, p, head, timeout=0.05)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(led.wait_for_append(t, p, head, 10)))
    waiter.start()
    led.append(t, p, [decision()])
    waiter.join(10)
    assert result == [True]
    assert led.wait_for_append(t, p, head, timeout=0)  # already past head: no wait


def test_watch_fires_on_append(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    watch = led.watch(t, p)
    if not led.engine.name.startswith("sim+"):  # FoundationDB's may fire with no change
        assert not watch.wait(0.02)
    led.append(t, p, [decision()])
    assert watch.wait(5)


def test_tenants_do_not_see_each_other(led: Ledger, tenant: str) -> None:
    other = tenant + "-b"
    for x in (tenant, other):
        led.create_tenant(x)
        led.create_project(x, "web")
    e = decision()
    led.append(tenant, "web", [e])
    assert led.find_event(other, e.event_id) is None
    assert all(r.event.event_id != e.event_id for r in led.read(other, "web"))
    ref = led.put_blob(tenant, b"secret")
    assert not led.has_blob(other, ref.sha256)
    led.append(other, "web", [e])  # the same id is another tenant's own event
    assert led.find_event(other, e.event_id) is not None


def test_raw_records_form_a_hash_chain(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    led.append(t, p, [decision() for _ in range(3)])
    chain = b"\x00" * 32
    for _, stored_chain, data in led.raw_records(t, p):
        chain = hashlib.sha256(chain + data).digest()
        assert stored_chain == chain
    assert led.read(t, p)[-1].chain == chain


def test_cursors_persist(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    assert led.get_cursor(t, p, "sync-hub") is None
    led.set_cursor(t, p, "sync-hub", b"\x01\x02")
    assert led.get_cursor(t, p, "sync-hub") == b"\x01\x02"


def test_versionstamp_text_form(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    vs = led.append(t, p, [decision()])[0].versionstamp
    assert Versionstamp.parse(str(vs)) == vs
    got = led.get_event(t, p, vs)
    assert got.versionstamp == vs
    with pytest.raises(ledger.UnknownEvent):
        led.get_event(t, p, Versionstamp(b"\x00" * 12))
