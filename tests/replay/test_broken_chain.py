"""Replay refuses a tampered sqlite ledger, names where, and writes nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import ledger
from swarm.cli import main
from tests.conftest import ManualClock
from tests.replay._history import Story, write_story

T, P = "acme", "shop"


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, Story]:
    path = tmp_path / "ledger.sqlite"
    clock = ManualClock(ledger.wall_clock_us() - 3600 * 1_000_000)
    with ledger.Ledger(ledger.open_engine(f"sqlite://{path}"), clock=clock) as led:
        story = write_story(led, T, clock, project=P, missions=1)
    return path, story


def replay_into(path: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(
        [
            "replay",
            "--ledger",
            f"sqlite://{path}",
            "--tenant",
            T,
            "--project",
            P,
            "--out",
            str(out),
            "--no-snapshot",
        ]
    )
    return code, capsys.readouterr().err


def test_a_rewritten_previous_hash_is_refused(
    store: tuple[Path, Story], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = store
    with ledger.open_ledger(f"sqlite://{path}") as led:
        rec = led.history(T, P, path="src/mod_0.py")[-1]
        prev = rec.event.state_change.previous_sha256
        raw = next(
            b"\x01" + c + d
            for vs, c, d in led.raw_records(T, P, limit=10_000)
            if vs == rec.versionstamp
        )
    db = sqlite3.connect(path)
    db.execute(
        "UPDATE kv SET v = ? WHERE v = ?",
        (raw.replace(prev, hashlib.sha256(b"forged").digest()), raw),
    )
    db.commit()
    db.close()
    out = tmp_path / "out"
    code, err = replay_into(path, out, capsys)
    assert code == 2
    assert "hash chain broken" in err and "src/mod_0.py" in err and str(rec.versionstamp) in err
    assert not out.exists()


def test_altered_content_is_refused(
    store: tuple[Path, Story], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, story = store
    content = story.files["README.md"]
    db = sqlite3.connect(path)
    n = db.execute(
        "UPDATE kv SET v = ? WHERE v = ?", (content.replace(b"VALUE", b"EVIL!"), content)
    ).rowcount
    db.commit()
    db.close()
    assert n == 1
    out = tmp_path / "out"
    code, err = replay_into(path, out, capsys)
    assert code == 2
    assert "README.md" in err and "does not match the hash" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
