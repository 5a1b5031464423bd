"""`verify` on copies of a real sqlite ledger tampered with raw sqlite3."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import ledger
from ops import ALTERED, REMOVED, REORDERED, verify
from tests.conftest import ManualClock
from tests.replay._history import write_story

T, P = "acme", "shop"


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verify") / "ledger.sqlite"
    with ledger.Ledger(ledger.open_engine(f"sqlite://{path}"), clock=ManualClock()) as led:
        write_story(led, T, led._clock, project=P, missions=2)
    return path


def tampered(
    original: Path, dest: Path, change: Callable[[sqlite3.Connection, list[bytes]], None]
) -> Path:
    """A copy of ``original`` with ``change`` applied to its event rows (values in log order)."""
    with ledger.open_ledger(f"sqlite://{original}") as led:
        values = [b"\x01" + chain + data for _, chain, data in led.raw_records(T, P, limit=10_000)]
    src = sqlite3.connect(original)
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    change(dst, values)
    dst.commit()
    dst.close()
    return dest


def key_of(db: sqlite3.Connection, value: bytes) -> bytes:
    (key,) = db.execute("SELECT k FROM kv WHERE v = ?", (value,)).fetchone()
    return bytes(key)


def check(path: Path) -> ledger.Ledger:
    return ledger.open_ledger(f"sqlite://{path}")


def test_an_untouched_copy_verifies(original: Path, tmp_path: Path) -> None:
    copy = tampered(original, tmp_path / "copy.sqlite", lambda db, values: None)
    with check(copy) as led:
        report = verify(led, T, P)
    assert report.ok and report.records == report.expected > 30


def test_a_flipped_byte_is_named(original: Path, tmp_path: Path) -> None:
    def flip(db: sqlite3.Connection, values: list[bytes]) -> None:
        target = values[12]
        altered = bytearray(target)
        altered[-5] ^= 0x01
        db.execute("UPDATE kv SET v = ? WHERE k = ?", (bytes(altered), key_of(db, target)))

    with check(tampered(original, tmp_path / "flip.sqlite", flip)) as led:
        report = verify(led, T, P)
        records = led.raw_records(T, P, limit=10_000)
    assert report.problem is not None
    assert report.problem.kind == ALTERED
    assert report.problem.position == 12
    assert report.problem.versionstamp == records[12][0]


def test_a_deleted_event_is_named(original: Path, tmp_path: Path) -> None:
    def delete(db: sqlite3.Connection, values: list[bytes]) -> None:
        db.execute("DELETE FROM kv WHERE k = ?", (key_of(db, values[20]),))

    with check(tampered(original, tmp_path / "del.sqlite", delete)) as led:
        report = verify(led, T, P)
        records = led.raw_records(T, P, limit=10_000)
    assert report.problem is not None
    assert report.problem.kind == REMOVED
    assert report.problem.position == 20  # the record that now follows the gap
    assert report.problem.versionstamp == records[20][0]
    assert report.records == report.expected - 1


def test_a_deleted_last_event_is_named(original: Path, tmp_path: Path) -> None:
    def delete(db: sqlite3.Connection, values: list[bytes]) -> None:
        db.execute("DELETE FROM kv WHERE k = ?", (key_of(db, values[-1]),))

    with check(tampered(original, tmp_path / "del_last.sqlite", delete)) as led:
        report = verify(led, T, P)
    assert report.problem is not None
    assert report.problem.kind == REMOVED
    assert report.problem.versionstamp is None


def test_a_swapped_pair_is_named(original: Path, tmp_path: Path) -> None:
    def swap(db: sqlite3.Connection, values: list[bytes]) -> None:
        a, b = key_of(db, values[7]), key_of(db, values[8])
        db.execute("UPDATE kv SET v = ? WHERE k = ?", (values[8], a))
        db.execute("UPDATE kv SET v = ? WHERE k = ?", (values[7], b))

    with check(tampered(original, tmp_path / "swap.sqlite", swap)) as led:
        report = verify(led, T, P)
    assert report.problem is not None
    assert report.problem.kind == REORDERED
    assert report.problem.position == 7
    assert "each other's places" in report.problem.detail


def test_unknown_project_is_the_ledgers_error(original: Path, tmp_path: Path) -> None:
    copy = tampered(original, tmp_path / "copy.sqlite", lambda db, values: None)
    with check(copy) as led, pytest.raises(ledger.UnknownProject):
        verify(led, T, "nope")
