"""The sqlite engine's seal: written after each commit, so a file behind it lost commits."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

import ledger
from ledger._sqlite import SEAL_SUFFIX, decode_seal
from proto.swarm.v1 import events_pb2 as pb

T, P = "acme", "shop"


def _decision(text: str) -> pb.SwarmEvent:
    return pb.SwarmEvent(
        event_id=ledger.new_event_id(), agent_id="coder-1", decision=pb.Decision(rationale=text)
    )


def _commit_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    (value,) = conn.execute("SELECT value FROM meta WHERE name = 'commit_version'").fetchone()
    conn.close()
    return int(value)


def _seal(path: Path) -> int | None:
    return decode_seal(Path(f"{path}{SEAL_SUFFIX}").read_bytes())


def test_the_seal_follows_every_commit(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with ledger.open_ledger(f"sqlite://{path}") as led:
        led.create_tenant(T)
        led.create_project(T, P)
        for i in range(3):
            led.append(T, P, [_decision(f"step {i}")])
            assert _seal(path) == _commit_version(path)
        assert ledger.check_storage(led) == ([], [])


def test_a_file_behind_its_seal_refuses_writes_and_reads_on(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with ledger.open_ledger(f"sqlite://{path}") as led:
        led.create_tenant(T)
        led.create_project(T, P)
        led.append(T, P, [_decision("kept")])
    older = tmp_path / "older.sqlite"
    shutil.copyfile(path, older)  # an older copy of the file, put back later
    with ledger.open_ledger(f"sqlite://{path}") as led:
        led.append(T, P, [_decision("lost 1")])
        led.append(T, P, [_decision("lost 2")])
    sealed = _seal(path)
    shutil.copyfile(older, path)
    with ledger.open_ledger(f"sqlite://{path}") as led:
        assert [e.event.decision.rationale for e in led.read(T, P)][-1] == "kept"  # reads work
        with pytest.raises(ledger.LostTransactions) as refused:
            led.append(T, P, [_decision("built on a truncated history")])
        assert refused.value.sealed == sealed and refused.value.found == _commit_version(path)
        assert "2 committed transaction(s) are lost" in str(refused.value)
        problems, _ = ledger.check_storage(led)
        assert len(problems) == 1 and "seal says commit" in problems[0]
    assert _seal(path) == sealed  # the evidence stays
    Path(f"{path}{SEAL_SUFFIX}").unlink()  # accepting the loss
    with ledger.open_ledger(f"sqlite://{path}") as led:
        assert ledger.check_storage(led)[1]  # a note: no seal yet
        led.append(T, P, [_decision("after the loss was accepted")])
        assert ledger.check_storage(led) == ([], [])


def test_a_damaged_seal_is_reported_until_the_next_commit(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with ledger.open_ledger(f"sqlite://{path}") as led:
        led.create_tenant(T)
        led.create_project(T, P)
    Path(f"{path}{SEAL_SUFFIX}").write_bytes(b"SWSL garbage....")
    with ledger.open_ledger(f"sqlite://{path}") as led:
        problems, _ = ledger.check_storage(led)
        assert problems and "damaged" in problems[0]
        led.append(T, P, [_decision("x")])
        assert ledger.check_storage(led) == ([], [])


def test_damaged_event_bytes_are_a_corrupt_record_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with ledger.open_ledger(f"sqlite://{path}") as led:
        led.create_tenant(T)
        led.create_project(T, P)
        (landed,) = led.append(T, P, [_decision("a rationale")])
        pk = led.scope(T, P).keys
    conn = sqlite3.connect(path)
    (value,) = conn.execute("SELECT v FROM kv WHERE k = ?", (pk.event(landed.versionstamp),))
    value = bytes(value[0]).replace(b"rationale", b"rati\xffnale")
    conn.execute("UPDATE kv SET v = ? WHERE k = ?", (value, pk.event(landed.versionstamp)))
    conn.commit()
    conn.close()
    with ledger.open_ledger(f"sqlite://{path}") as led:
        for read in (
            lambda: led.read(T, P),
            lambda: led.get_event(T, P, landed.versionstamp),
            lambda: led.history(T, P, agent="coder-1"),
        ):
            with pytest.raises(ledger.CorruptRecord) as refused:
                read()
            err = refused.value
            assert (err.record, err.ref, err.tenant, err.project) == (
                "event",
                str(landed.versionstamp),
                T,
                P,
            )
            assert isinstance(err, ledger.ChainMismatch)  # checked before it is parsed
        with pytest.raises(ledger.ChainMismatch):
            ledger.verify_chain(led, T, P)
