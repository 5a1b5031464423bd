"""Conformance suite for the KV port: every engine, one factory hook (conftest.engine)."""

from __future__ import annotations

import struct
import threading
import uuid

import pytest

import ledger
from ledger import Engine, Transaction

pytestmark = pytest.mark.usefixtures("engine")


def k(space: bytes, name: str) -> bytes:
    return space + name.encode()


def test_set_get_clear(engine: Engine, space: bytes) -> None:
    engine.transact(lambda tr: tr.set(k(space, "a"), b"1"))
    assert engine.read(lambda tr: tr.get(k(space, "a"))) == b"1"
    engine.transact(lambda tr: tr.clear(k(space, "a")))
    assert engine.read(lambda tr: tr.get(k(space, "a"))) is None


def test_reads_see_own_writes(engine: Engine, space: bytes) -> None:
    def fn(tr: Transaction) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
        tr.set(k(space, "x"), b"v")
        return tr.get(k(space, "x")), tr.get_range(k(space, ""), k(space, "z"))

    value, rows = engine.transact(fn)
    assert value == b"v"
    assert rows == [(k(space, "x"), b"v")]


def test_range_is_memcmp_ordered_with_limit_and_reverse(engine: Engine, space: bytes) -> None:
    keys = [space + bytes([b]) for b in (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)] + [
        space + b"\x01\x00"
    ]

    def fill(tr: Transaction) -> None:
        for i, key in enumerate(keys):
            tr.set(key, bytes([i]))

    engine.transact(fill)
    end = space + b"\xff\xff"
    got = [key for key, _ in engine.read(lambda tr: tr.get_range(space, end))]
    assert got == sorted(keys)
    assert [key for key, _ in engine.read(lambda tr: tr.get_range(space, end, limit=2))] == sorted(
        keys
    )[:2]
    rev = [
        key for key, _ in engine.read(lambda tr: tr.get_range(space, end, limit=3, reverse=True))
    ]
    assert rev == sorted(keys, reverse=True)[:3]
    assert engine.read(lambda tr: tr.get_range(end, space)) == []


def test_clear_range_is_half_open(engine: Engine, space: bytes) -> None:
    def fill(tr: Transaction) -> None:
        for c in "abcd":
            tr.set(k(space, c), b"")

    engine.transact(fill)
    engine.transact(lambda tr: tr.clear_range(k(space, "b"), k(space, "d")))
    rows = engine.read(lambda tr: tr.get_range(k(space, "a"), k(space, "z")))
    assert [key for key, _ in rows] == [k(space, "a"), k(space, "d")]


def _add_once(engine: Engine, space: bytes, key: bytes, param: bytes) -> None:
    """An atomic add that a re-run closure does not repeat: an add is not idempotent, so
    (as FoundationDB advises for commit_unknown_result) the transaction writes a marker
    of its own and a re-run that finds it adds nothing."""
    marker = k(space, "added-" + uuid.uuid4().hex)

    def fn(tr: Transaction) -> None:
        if tr.get(marker) is None:
            tr.add(key, param)
            tr.set(marker, b"")

    engine.transact(fn)


def test_atomic_add_is_little_endian_and_wraps(engine: Engine, space: bytes) -> None:
    key = k(space, "n")
    _add_once(engine, space, key, struct.pack("<q", 5))
    _add_once(engine, space, key, struct.pack("<q", 7))
    assert struct.unpack("<q", engine.read(lambda tr: tr.get(key)) or b"")[0] == 12
    _add_once(engine, space, key, struct.pack("<q", -13))
    assert struct.unpack("<q", engine.read(lambda tr: tr.get(key)) or b"")[0] == -1


def test_versionstamped_key_and_value_get_the_commit_versionstamp(
    engine: Engine, space: bytes
) -> None:
    placeholder = b"\xff" * 10

    def fn(tr: Transaction) -> ledger.VersionstampFuture | None:
        # A versionstamped key is a new key each commit: a closure re-run after
        # commit_unknown_result must look for its own marker first, as on FoundationDB.
        if tr.get(space + b"done") is not None:
            return None  # an earlier attempt committed
        tr.set(space + b"done", b"")
        key = space + b"vs/" + placeholder + b"\x00\x07" + struct.pack("<I", len(space) + 3)
        tr.set_versionstamped_key(key, b"")
        tr.set_versionstamped_value(space + b"val", b"ab" + placeholder + struct.pack("<I", 2))
        return tr.get_versionstamp()

    future = engine.transact(fn)
    value = engine.read(lambda tr: tr.get(space + b"val")) or b""
    stamp = value[2:]
    assert len(stamp) == 10 and value[:2] == b"ab"
    if future is not None:
        assert future.result() == stamp
    rows = engine.read(lambda tr: tr.get_range(space + b"vs/", space + b"vs0"))
    assert [key for key, _ in rows] == [space + b"vs/" + stamp + b"\x00\x07"]


def test_versionstamps_strictly_increase_across_commits(engine: Engine, space: bytes) -> None:
    stamps = []
    for i in range(5):

        def fn(tr: Transaction, i: int = i) -> ledger.VersionstampFuture:
            tr.set(k(space, f"c{i}"), b"")
            return tr.get_versionstamp()

        stamps.append(engine.transact(fn).result())
    assert stamps == sorted(stamps) and len(set(stamps)) == 5


def test_a_failing_closure_changes_nothing(engine: Engine, space: bytes) -> None:
    engine.transact(lambda tr: tr.set(k(space, "keep"), b"1"))

    def boom(tr: Transaction) -> None:
        tr.set(k(space, "keep"), b"2")
        tr.set(k(space, "new"), b"x")
        tr.clear(k(space, "keep"))
        raise RuntimeError("closure failed")

    with pytest.raises(RuntimeError):
        engine.transact(boom)
    assert engine.read(lambda tr: tr.get(k(space, "keep"))) == b"1"
    assert engine.read(lambda tr: tr.get(k(space, "new"))) is None


def test_limits_are_foundationdb_s(engine: Engine, space: bytes) -> None:
    with pytest.raises(ledger.ValueTooLarge):
        engine.transact(lambda tr: tr.set(k(space, "big"), b"x" * (ledger.VALUE_LIMIT + 1)))
    with pytest.raises(ledger.KeyTooLarge):
        engine.transact(lambda tr: tr.set(space + b"k" * ledger.KEY_LIMIT, b""))

    def too_much(tr: Transaction) -> None:
        for i in range(110):
            tr.set(k(space, f"chunk{i:04d}"), b"x" * 99_000)

    with pytest.raises(ledger.TransactionTooLarge):
        engine.transact(too_much)
    assert engine.read(lambda tr: tr.get(k(space, "chunk0000"))) is None
    engine.transact(lambda tr: tr.set(k(space, "ok"), b"x" * ledger.VALUE_LIMIT))


def test_read_only_transactions_refuse_writes(engine: Engine, space: bytes) -> None:
    with pytest.raises(ledger.InvalidArgument):
        engine.read(lambda tr: tr.set(k(space, "w"), b""))


def test_watch_fires_after_a_change_and_not_before(engine: Engine, space: bytes) -> None:
    key = k(space, "watched")
    engine.transact(lambda tr: tr.set(key, b"0"))
    watch = engine.read(lambda tr: tr.watch(key))
    if not engine.name.startswith("sim+"):  # FoundationDB's may fire with no change
        assert not watch.wait(0.05)
        engine.transact(lambda tr: tr.set(key, b"0"))  # same value: no change
        assert not watch.wait(0.05)
    engine.transact(lambda tr: tr.set(key, b"1"))
    assert watch.wait(5)


def test_watch_wakes_a_blocked_thread(engine: Engine, space: bytes) -> None:
    key = k(space, "wake")
    watch = engine.read(lambda tr: tr.watch(key))
    woke = threading.Event()

    def waiter() -> None:
        if watch.wait(10):
            woke.set()

    t = threading.Thread(target=waiter)
    t.start()
    engine.transact(lambda tr: tr.set(key, b"now"))
    t.join(10)
    assert woke.is_set()


def test_cancelled_watch_does_not_fire(engine: Engine, space: bytes) -> None:
    key = k(space, "cancel")
    watch = engine.read(lambda tr: tr.watch(key))
    watch.cancel()
    engine.transact(lambda tr: tr.set(key, b"x"))
    assert not watch.wait(0.1)
    assert not watch.fired


def test_directories_are_disjoint_stable_and_listed(engine: Engine) -> None:
    import uuid

    root = ("swarm-test", uuid.uuid4().hex)
    a = engine.open_directory((*root, "a"), create=True)
    b = engine.open_directory((*root, "b"), create=True)
    assert a is not None and b is not None
    assert not a.startswith(b) and not b.startswith(a)
    assert engine.open_directory((*root, "a"), create=True) == a
    assert engine.open_directory((*root, "a"), create=False) == a
    assert engine.open_directory((*root, "zzz"), create=False) is None
    assert engine.list_directory(root) == ["a", "b"]
