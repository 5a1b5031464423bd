"""The sim engines: FoundationDB's documented semantics, each one shown, and what they found.

The fault rates are set per test (``SimFaults``) so that each property is
shown every run, not by luck: ``ALWAYS_UNKNOWN`` makes every transaction
commit on its second attempt and hear ``commit_unknown_result``, so its
closure runs a third time on top of its own commit.
"""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import pytest

import ledger
from ledger import Ledger, Transaction
from ledger._memory import MemoryEngine
from ledger._sim import SimEngine, SimFaults, sim_stamp
from tests.conftest import ManualClock
from tests.ledger._events import change, decision

# Attempt 1 aborted (always), attempt 2 commits and is reported unknown, attempt 3 commits.
ALWAYS_UNKNOWN = SimFaults(unknown_result=1.0, conflict=0.0, faulty_attempts=2)
NO_WATCH_FAULTS = SimFaults(spurious_watch=0.0, watch_delay_s=0.0)


def _sim(faults: SimFaults = ALWAYS_UNKNOWN, **kw: object) -> SimEngine:
    return SimEngine(MemoryEngine(), seed=1, faults=faults, **kw)  # type: ignore[arg-type]


def _project(led: Ledger) -> tuple[str, str]:
    led.create_tenant("t")
    led.create_project("t", "p")
    return "t", "p"


def _unkind() -> tuple[Ledger, tuple[str, str]]:
    """A project made with no commit reported unknown, then a ledger where every commit is
    (so each test fails, on code that mistakes its own commit, at its own assertion)."""
    eng = _sim(SimFaults(unknown_result=0.0, conflict=0.0))
    led = Ledger(eng, clock=ManualClock())
    proj = _project(led)
    eng.faults = ALWAYS_UNKNOWN
    return led, proj


# -- the semantics ----------------------------------------------------------------


def test_every_closure_runs_at_least_twice_reads_too() -> None:
    eng = _sim(SimFaults(unknown_result=0.0, conflict=0.0))
    runs: list[str] = []

    def write(tr: Transaction) -> None:
        runs.append("write")
        tr.set(b"k", b"v")

    def read(tr: Transaction) -> bytes | None:
        runs.append("read")
        return tr.get(b"k")

    eng.transact(write)
    eng.read(read)
    assert runs == ["write", "write", "read", "read"]
    assert eng.counts["aborted"] == 2


def test_a_commit_reported_unknown_landed_and_the_closure_runs_again_on_top() -> None:
    eng = _sim()

    def bump(tr: Transaction) -> None:  # not idempotent, on purpose
        n = int(tr.get(b"n") or b"0")
        tr.set(b"n", str(n + 1).encode())

    eng.transact(bump)
    assert eng.read(lambda tr: tr.get(b"n")) == b"2"  # the unknown commit had landed
    assert eng.counts["unknown"] == 1


def test_reading_a_versionstamped_value_or_key_in_its_own_transaction_is_refused() -> None:
    eng = _sim(SimFaults(unknown_result=0.0, conflict=0.0))
    stamped_key = b"ev/" + b"\xff" * 10 + struct.pack("<I", 3)

    def value_then_read(tr: Transaction) -> None:
        tr.set_versionstamped_value(b"head", b"\xff" * 10 + struct.pack("<I", 0))
        tr.get(b"head")

    def key_then_range(tr: Transaction) -> None:
        tr.set_versionstamped_key(stamped_key, b"")
        tr.get_range(b"ev/", b"ev0")

    for fn in (value_then_read, key_then_range):
        with pytest.raises(ledger.UnreadableKey, match="accessed_unreadable"):
            eng.transact(fn)

    def overwritten(tr: Transaction) -> bytes | None:
        tr.set_versionstamped_value(b"head", b"\xff" * 10 + struct.pack("<I", 0))
        tr.set(b"head", b"plain")  # a later plain write makes the value known again
        return tr.get(b"head")

    assert eng.transact(overwritten) == b"plain"
    eng.transact(lambda tr: tr.set_versionstamped_key(stamped_key, b""))
    assert len(eng.read(lambda tr: tr.get_range(b"ev/", b"ev0"))) == 1  # readable once committed


def test_commit_versions_are_sparse_and_batch_orders_never_zero() -> None:
    eng = _sim(SimFaults(unknown_result=0.0, conflict=0.0))
    stamps = []
    for i in range(12):

        def fn(tr: Transaction, i: int = i) -> ledger.VersionstampFuture:
            tr.set(b"c%d" % i, b"")
            return tr.get_versionstamp()

        stamps.append(eng.transact(fn).result())
    assert stamps == sorted(stamps) and len(set(stamps)) == 12
    versions = [int.from_bytes(s[:8], "big") for s in stamps]
    assert all(s[8:] != b"\x00\x00" for s in stamps)
    assert any(a == b for a, b in itertools.pairwise(versions))  # shared version
    assert any(b - a > 1000 for a, b in itertools.pairwise(versions))  # sparse
    # An aborted attempt's stamp is not the committed one's.
    assert sim_stamp(b"\x00" * 7 + b"\x05", 1) != sim_stamp(b"\x00" * 7 + b"\x05", 2)


def test_the_five_second_limit_runs_on_the_injected_clock() -> None:
    now = [0.0]
    eng = _sim(SimFaults(unknown_result=0.0, conflict=0.0), clock=lambda: now[0])

    def slow(tr: Transaction) -> None:
        now[0] += 6.0
        tr.set(b"k", b"v")

    with pytest.raises(ledger.TransactionTooOld):
        eng.transact(slow)
    assert eng.read(lambda tr: tr.get(b"k")) is None
    calls = [0]

    def slow_once(tr: Transaction) -> None:  # too old once: retried, as FoundationDB does
        calls[0] += 1
        if calls[0] == 2:
            now[0] += 6.0
        tr.set(b"k", b"v")

    eng.transact(slow_once)
    assert eng.read(lambda tr: tr.get(b"k")) == b"v"


def test_the_ten_megabyte_limit_counts_bytes_written() -> None:
    eng = _sim(SimFaults(unknown_result=0.0, conflict=0.0))

    def big(tr: Transaction) -> None:
        for i in range(101):
            tr.set_versionstamped_value(b"v%03d" % i, b"x" * 99_000 + b"\xff" * 10 + b"\0" * 4)

    with pytest.raises(ledger.TransactionTooLarge):
        eng.transact(big)
    assert eng.read(lambda tr: tr.get_range(b"v", b"w")) == []


def test_watches_fire_late_or_with_nothing_changed() -> None:
    spurious = _sim(SimFaults(spurious_watch=1.0))
    w = spurious.read(lambda tr: tr.watch(b"quiet"))
    assert w.wait(5)  # nothing changed, and it fired
    late = _sim(SimFaults(spurious_watch=0.0, watch_delay_min_s=0.3, watch_delay_s=0.3))
    w = late.read(lambda tr: tr.watch(b"k"))
    late.transact(lambda tr: tr.set(b"k", b"changed"))
    assert not w.wait(0.01)  # changed, but it has not said so yet
    assert w.wait(10)


def test_one_seed_replays_the_same_faults() -> None:
    def run(eng: SimEngine) -> dict[str, int]:
        for i in range(40):
            key = b"k%d" % i
            eng.transact(lambda tr, key=key: tr.set(key, b""))  # type: ignore[misc]
        return dict(eng.counts)

    faults = SimFaults(unknown_result=0.3, conflict=0.3)
    a = run(SimEngine(MemoryEngine(), seed=7, number=0, faults=faults))
    b = run(SimEngine(MemoryEngine(), seed=7, number=0, faults=faults))
    c = run(SimEngine(MemoryEngine(), seed=8, number=0, faults=faults))
    assert a == b
    assert a != c


def test_sim_urls_and_what_they_refuse(tmp_path: Path) -> None:
    assert ledger.open_engine("sim+memory:?seed=42").seed == 42  # type: ignore[attr-defined]
    eng = ledger.open_engine(f"sim+sqlite://{tmp_path / 'x.sqlite'}?sync=normal&seed=3")
    assert eng.name == "sim+sqlite"
    eng.close()
    for url, why in [
        ("sim+memory:?seed=x", "seed must be a non-negative integer"),
        ("sim+fdb:", "sim[+] wraps memory or sqlite"),
        ("sim+memory:?sync=full", "unknown option sync"),
        ("sim+sqlite:/one/slash.db", "one slash is ambiguous"),
    ]:
        with pytest.raises(ledger.InvalidLedgerUrl, match=why):
            ledger.open_engine(url)
    assert not (tmp_path / "one").exists()


# -- what they found: a closure re-run after its commit landed --------------------


def test_an_append_whose_commit_was_reported_unknown_is_the_writers_own_not_a_duplicate() -> None:
    led, (t, p) = _unkind()
    e = decision(text="once")
    (landed,) = led.append(t, p, [e])
    assert not landed.duplicate  # main's ledger said True: its own retried commit
    assert [r.event.event_id for r in led.read(t, p)][1:] == [e.event_id]
    assert led.find_event(t, e.event_id) == (p, landed.versionstamp)
    (again,) = led.append(t, p, [e])  # a later call with the same id: a duplicate
    assert again.duplicate and again.versionstamp == landed.versionstamp


def test_a_batch_reported_unknown_keeps_its_in_batch_duplicates() -> None:
    led, (t, p) = _unkind()
    e = decision()
    out = led.append(t, p, [e, e, decision()])
    assert [a.duplicate for a in out] == [False, True, False]
    assert out[0].versionstamp == out[1].versionstamp


def test_a_project_created_and_reported_unknown_is_created_not_already_there() -> None:
    led = Ledger(_sim(), clock=ManualClock())
    led.create_tenant("t")
    info = led.create_project("t", "p")  # main's ledger raised AlreadyExists
    assert info.events == 1
    with pytest.raises(ledger.AlreadyExists):
        led.create_project("t", "p")


def test_a_lock_release_reported_unknown_released_it() -> None:
    led, (t, p) = _unkind()
    lock = led.acquire_lock(t, p, "src/a.py", "coder-1", 30)
    assert led.acquire_lock(t, p, "src/a.py", "coder-1", 30).token == lock.token
    led.release_lock(t, p, "src/a.py", "coder-1", lock.token)  # main's: LockNotHeld
    assert led.get_lock(t, p, "src/a.py") is None
    with pytest.raises(ledger.LockNotHeld):
        led.release_lock(t, p, "src/a.py", "coder-1", lock.token)


def test_a_locked_change_and_its_release_never_read_what_they_versionstamped() -> None:
    """The paths that write versionstamps and read in one transaction (lock grant, a
    StateChange under it, the release), on the strict engine with every fault on."""
    led = Ledger(_sim(SimFaults(unknown_result=0.5, conflict=0.3)), clock=ManualClock())
    t, p = _project(led)
    lock = led.acquire_lock(t, p, "a.py", "coder-1", 30)
    led.append(t, p, [decision(), change(led, t, "a.py", b"content\n", token=lock.token)])
    led.release_lock(t, p, "a.py", "coder-1", lock.token)
    head = led.file_state(t, p, "a.py")
    assert head is not None and head.size == 8
