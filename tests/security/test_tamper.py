"""Tampering with a real ledger file is detected, and damage is an error, never a traceback.

The ledger is made by two real missions (``swarm mission rename`` in a child
process) on a real repository; each test edits a copy of the sqlite file with
raw sqlite3 (or cuts its WAL) and runs the real CLI on it. ``audit verify``
must report every tampering with a non-zero exit naming what is wrong; every
read command on a damaged file must end with ``swarm: error: ...`` naming the
record, and no command may print a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import ledger
from ledger._keys import TenantKeys, vs_element
from replay import ChainBroken, Replayer
from swarm.cli import main
from tests.security._outside import Outside

T = "local"  # the tenant a local mission writes under
P = "repo"  # the project: the repository folder's name
WORKTREE = Path(__file__).resolve().parents[2]
SEAL = "-seal"

SHOP = "def calculate_total(items):\n    return sum(items)\n"
USE = "from shop import calculate_total\n\n\ndef order(items):\n    return calculate_total(items) * 2\n"
TEST = "from shop import calculate_total\n\n\ndef test_total():\n    assert calculate_total([1, 2]) == 3\n"


@dataclass(frozen=True)
class Made:
    """The ledger two missions made: whole (checkpointed), and as live files mid-run."""

    repo: Path
    whole: Path  # ledger.sqlite + its seal, every commit in the main file
    live: Path  # a copy of ledger.sqlite, -wal and -seal taken while the WAL held mission 2
    events: int


def swarm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m swarm ARGS`` in a child process running this worktree's code."""
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    return subprocess.run(
        [sys.executable, "-m", "swarm", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_ledger(src: Path, dest_dir: Path) -> Path:
    """``src`` and whichever of its -wal and -seal exist, into ``dest_dir``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / "ledger.sqlite"
    for suffix in ("", "-wal", SEAL):
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dest}{suffix}")
    return dest


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    root = tmp_path_factory.mktemp("tamper")
    repo = root / P
    (repo / "tests").mkdir(parents=True)
    (repo / "shop.py").write_text(SHOP)
    (repo / "use.py").write_text(USE)
    (repo / "tests" / "test_shop.py").write_text(TEST)
    first = swarm("mission", "rename", "--repo", str(repo), "calculate_total", "compute", cwd=root)
    assert first.returncode == 0, first.stderr
    db = repo / ".swarm" / "ledger.sqlite"
    # A second connection keeps the second mission's commits in the WAL: the last
    # connection to close is the one that checkpoints it into the main file.
    holder = sqlite3.connect(db)
    holder.execute("SELECT count(*) FROM kv").fetchone()
    second = swarm("mission", "rename", "--repo", str(repo), "compute", "order_total", cwd=root)
    assert second.returncode == 0, second.stderr
    assert Path(f"{db}-wal").stat().st_size > 32
    live = copy_ledger(db, root / "live")
    holder.close()
    whole = copy_ledger(db, root / "whole")
    with ledger.open_ledger(f"sqlite://{whole}") as led:
        events = led.project_info(T, P).events
        assert len(ledger.snapshots(led, T, P)) >= 2  # one at each mission's end
    return Made(repo, whole, live, events)


def verify(db: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return swarm(
        "audit", "verify", "--ledger", f"sqlite://{db}", "--tenant", T, "--project", P, cwd=cwd
    )


def keys(db: Path) -> tuple[TenantKeys, ledger.Ledger]:
    led = ledger.open_ledger(f"sqlite://{db}")
    tk = led.tenant_scope(T).keys
    return tk, led


def set_value(db: Path, key: bytes, value: bytes) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("UPDATE kv SET v = ? WHERE k = ?", (value, key)).rowcount == 1
    conn.commit()
    conn.close()


def get_value(db: Path, key: bytes) -> bytes:
    conn = sqlite3.connect(db)
    (value,) = conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
    conn.close()
    return bytes(value)


def flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x01
    return bytes(out)


def test_an_untouched_copy_verifies(made: Made, tmp_path: Path, outside: Outside) -> None:
    db = copy_ledger(made.whole, tmp_path / "copy")
    done = verify(db, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "hash chain intact" in done.stdout and "Traceback" not in done.stderr
    outside.assert_untouched()


def test_a_file_head_repointed_to_other_content_is_named(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        pk = tk.project(P)
        shop, use = led.file_state(T, P, "shop.py"), led.file_state(T, P, "use.py")
    assert shop is not None and use is not None and shop.sha256 != use.sha256
    # use.py's head now names shop.py's content (and its size), the event left as it was.
    value = get_value(db, pk.file("use.py"))
    set_value(db, pk.file("use.py"), value[:12] + shop.sha256 + shop.size.to_bytes(8, "big"))
    done = verify(db, tmp_path)
    assert done.returncode == 1
    assert "TAMPERED" in done.stdout and "head" in done.stdout and "'use.py'" in done.stdout
    assert shop.sha256.hex()[:16] in done.stdout  # what it says now, beside what the log says
    assert "Traceback" not in done.stderr
    outside.assert_untouched()


def test_a_flipped_byte_in_a_blob_chunk_is_named(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        head = led.file_state(T, P, "shop.py")
    assert head is not None
    chunk = tk.blob_chunk(head.sha256, 0)
    set_value(db, chunk, flip(get_value(db, chunk), 3))
    done = verify(db, tmp_path)
    assert done.returncode == 1
    assert f"blob {head.sha256.hex()}" in done.stdout
    assert "does not match its hash" in done.stdout and "'shop.py'" in done.stdout
    assert "Traceback" not in done.stderr
    outside.assert_untouched()


def test_a_flipped_byte_in_a_snapshot_manifest_is_named(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        snap = ledger.find_snapshot(led, T, P)
    assert snap is not None
    chunk = tk.blob_chunk(snap.manifest_sha256, 0)
    set_value(db, chunk, flip(get_value(db, chunk), 40))
    done = verify(db, tmp_path)
    assert done.returncode == 1
    assert f"snapshot {snap.versionstamp}" in done.stdout and "damaged" in done.stdout
    assert "Traceback" not in done.stderr
    # Replay, which would start from that snapshot, refuses and writes nothing.
    out = tmp_path / "out"
    replayed = swarm(
        "replay", "--ledger", f"sqlite://{db}", "--tenant", T, "--project", P, "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert replayed.returncode == 2 and "Traceback" not in replayed.stderr
    assert f"snapshot {snap.versionstamp}" in replayed.stderr and not out.exists()
    outside.assert_untouched()


def test_a_snapshot_repointed_to_another_manifest_is_named(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        pk = tk.project(P)
        first, last = ledger.snapshots(led, T, P)[0], ledger.snapshots(led, T, P)[-1]
        older = ledger.find_snapshot(led, T, P, first)
    assert older is not None and first != last
    key = pk.snapshot_prefix() + vs_element(last)
    # The newest snapshot now names the older state's manifest, keeping its own anchor.
    set_value(db, key, older.manifest_sha256 + get_value(db, key)[32:])
    done = verify(db, tmp_path)
    assert done.returncode == 1
    assert f"snapshot {last}'s manifest is not the state the log's changes give" in done.stdout
    assert "Traceback" not in done.stderr
    outside.assert_untouched()


def test_an_event_moved_to_another_versionstamp_is_named(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    """The last event's key rewritten to a later versionstamp: the chain (over bytes, in
    order) and the clock still agree; its id record does not."""
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        pk = tk.project(P)
        vs, _, _ = led.raw_records(T, P, after=None, limit=10_000)[-1]
    moved = ledger.Versionstamp.of(vs.tr_version, vs.user_version + 7)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE kv SET k = ? WHERE k = ?", (pk.event(moved), pk.event(vs)))
    conn.commit()
    conn.close()
    done = verify(db, tmp_path)
    assert done.returncode == 1
    assert f"sits at {moved}, but its id record says it landed: 'repo' at {vs}" in done.stdout
    assert "Traceback" not in done.stderr
    outside.assert_untouched()


def test_a_wal_cut_to_its_header_is_named(made: Made, tmp_path: Path, outside: Outside) -> None:
    db = copy_ledger(made.live, tmp_path / "cut")
    with open(f"{db}-wal", "r+b") as wal:
        wal.truncate(32)  # the WAL header alone: every commit in it is gone
    with ledger.open_ledger(f"sqlite://{db}") as led:
        survived = led.project_info(T, P).events
    assert survived < made.events  # the cut lost events, and what is left is self-consistent
    done = verify(db, tmp_path)
    assert done.returncode == 1, done.stdout
    assert "TAMPERED" in done.stdout and "storage" in done.stdout
    assert "committed transaction(s) are lost" in done.stdout and "seal says commit" in done.stdout
    assert "Traceback" not in done.stderr
    # Nothing new is built on the truncated history, so the evidence stays.
    write = swarm(
        "mission", "rename", "--repo", str(made.repo), "--ledger", f"sqlite://{db}",
        "order_total", "again", cwd=tmp_path,
    )  # fmt: skip
    assert write.returncode == 2 and "Traceback" not in write.stderr
    assert "seal" in write.stderr and "lost" in write.stderr
    assert verify(db, tmp_path).returncode == 1
    outside.assert_untouched()


def test_a_log_rewritten_with_its_chain_is_caught_by_the_snapshot_anchor(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    """An attacker who alters an early event and recomputes every later chain hash and the
    clock passes the chain walk; the snapshots taken over the old chain give it away."""
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        pk = tk.project(P)
        records = led.raw_records(T, P, limit=10_000)
        clock = get_value(db, pk.clock)
    conn = sqlite3.connect(db)
    chain = ledger.GENESIS
    for i, (vs, _, data) in enumerate(records):
        if i == 3:
            data = flip(data, len(data) // 2)
        chain = hashlib.sha256(chain + data).digest()
        conn.execute("UPDATE kv SET v = ? WHERE k = ?", (b"\x01" + chain + data, pk.event(vs)))
    conn.execute("UPDATE kv SET v = ? WHERE k = ?", (clock[:16] + chain + clock[48:], pk.clock))
    conn.commit()
    conn.close()
    done = verify(db, tmp_path)
    assert done.returncode == 1
    assert "snapshot" in done.stdout and "the log was rewritten" in done.stdout
    out = tmp_path / "out"
    replayed = swarm(
        "replay", "--ledger", f"sqlite://{db}", "--tenant", T, "--project", P, "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert replayed.returncode == 2 and "Traceback" not in replayed.stderr
    assert "the log before the snapshot was rewritten" in replayed.stderr and not out.exists()
    outside.assert_untouched()


def test_replay_says_what_it_verified(made: Made, tmp_path: Path, outside: Outside) -> None:
    """An event altered before the newest snapshot: replay from it does not claim to have
    checked that event; replay without snapshots checks it, and refuses."""
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        pk = tk.project(P)
        vs, chain, data = led.raw_records(T, P, limit=10_000)[5]
    set_value(db, pk.event(vs), b"\x01" + chain + flip(data, len(data) // 2))
    base = ["replay", "--ledger", f"sqlite://{db}", "--tenant", T, "--project", P, "--no-snapshot"]
    fast = swarm(*base, "--out", str(tmp_path / "fast"), cwd=tmp_path)
    assert fast.returncode == 0, fast.stderr
    assert "each verified against its hash chain" not in fast.stdout
    assert "events after snapshot" in fast.stdout
    assert "the events before it were checked when it was taken" in fast.stdout
    with ledger.open_ledger(f"sqlite://{db}") as led, pytest.raises(ChainBroken) as refused:
        # A point before any snapshot: the fold starts at the log's start and meets it.
        Replayer(led, T, P).state_at(led.raw_records(T, P, limit=10)[6][0])
    assert str(vs) in str(refused.value) and "does not follow the hash chain" in str(refused.value)
    outside.assert_untouched()


def undecodable(data: bytes, inside: bytes) -> bytes:
    """``data`` with a byte of the string ``inside`` made invalid UTF-8 (protobuf refuses it)."""
    at = data.index(inside) + 1
    return data[:at] + b"\xff" + data[at + 1 :]


def test_read_commands_on_a_damaged_event_name_it(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        pk = tk.project(P)
        change = led.history(T, P, path="shop.py")[-1]
        vs = change.versionstamp
        value = get_value(db, pk.event(vs))
    set_value(db, pk.event(vs), undecodable(value, b"shop.py"))
    url = f"sqlite://{db}"
    opts = ["--ledger", url, "--tenant", T, "--project", P]
    must_name = {
        "audit events": ["audit", "events", *opts],
        "audit who": ["audit", "who", "shop.py", *opts],
        "mission list": ["mission", "list", "--repo", str(made.repo), "--ledger", url],
        "replay --at-event": ["replay", *opts, "--at-event", str(vs), "--out", str(tmp_path / "o")],
    }
    for name, argv in must_name.items():
        done = swarm(*argv, cwd=tmp_path)
        assert "Traceback" not in done.stderr, f"{name}: {done.stderr}"
        assert done.returncode == 2, f"{name}: {done.returncode} {done.stdout} {done.stderr}"
        assert "error:" in done.stderr and str(vs) in done.stderr, f"{name}: {done.stderr}"
    checked = verify(db, tmp_path)
    assert (
        checked.returncode == 1 and str(vs) in checked.stdout and "Traceback" not in checked.stderr
    )
    hub = f"sqlite://{tmp_path / 'hub.sqlite'}"
    # These need not read the damaged event (replay starts from the newest snapshot, sync
    # status reads cursors), but they end cleanly either way.
    for argv in (
        ["replay", *opts, "--at", "-0s", "--out", str(tmp_path / "o")],
        ["sync", "status", "--from", url, "--to", hub],
    ):
        done = swarm(*argv, cwd=tmp_path)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0 or "error:" in done.stderr
    shutil.rmtree(tmp_path / "o", ignore_errors=True)
    outside.assert_untouched()


def test_a_cell_whose_type_was_changed_is_named(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    """A damaged page can turn a BLOB cell into an integer or text: read as bytes, an integer
    would be that many zero bytes. It is a damaged cell, named."""
    db = copy_ledger(made.whole, tmp_path / "copy")
    tk, led = keys(db)
    with led:
        vs = led.raw_records(T, P, limit=10)[4][0]
        key = tk.project(P).event(vs)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE kv SET v = ? WHERE k = ?", (10**12, key))
    conn.commit()
    conn.close()
    for argv in (["audit", "events"], ["audit", "verify"]):
        done = swarm(
            *argv, "--ledger", f"sqlite://{db}", "--tenant", T, "--project", P, cwd=tmp_path
        )
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"corrupt row {key.hex()} of project 'repo'" in done.stderr
        assert "holds a int where the ledger keeps bytes" in done.stderr
    outside.assert_untouched()


# The read commands, run in-process (the CLI's own entry point) on each damaged copy.
READS = ("audit events", "audit who", "audit verify", "mission list", "replay --at", "sync status")
KEY_READS = ("audit verify", "mission list")  # what walks every key of the project


def _commands(db: Path, repo: Path, work: Path) -> dict[str, list[str]]:
    url = f"sqlite://{db}"
    opts = ["--ledger", url, "--tenant", T, "--project", P]
    return {
        "audit events": ["audit", "events", *opts],
        "audit who": ["audit", "who", "shop.py", *opts],
        "audit verify": ["audit", "verify", *opts],
        "mission list": ["mission", "list", "--repo", str(repo), "--ledger", url],
        "replay --at": ["replay", *opts, "--at", "-0s", "--out", str(work / "out")],
        "sync status": ["sync", "status", "--from", url, "--to", f"sqlite://{work / 'hub.sqlite'}"],
    }


def _run_all(db: Path, repo: Path, work: Path, what: str, names: tuple[str, ...] = READS) -> None:
    commands = _commands(db, repo, work)
    for name in names:
        shutil.rmtree(work / "out", ignore_errors=True)
        err = io.StringIO()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code = main(commands[name])
        except SystemExit as exc:  # argparse's own refusals
            code = int(exc.code or 0)
        except Exception as exc:  # the point: nothing may escape as a traceback
            pytest.fail(f"{name} on {what}: {type(exc).__name__}: {exc}")
        assert code in (0, 1, 2), f"{name} on {what}: exit {code}"
        if code == 2:
            assert "error:" in err.getvalue(), f"{name} on {what}: {err.getvalue()}"


def _fresh(src: Path, work: Path) -> Path:
    for suffix in ("", "-wal", "-shm", SEAL):
        Path(f"{work / 'ledger.sqlite'}{suffix}").unlink(missing_ok=True)
    return copy_ledger(src, work)


def _edit(db: Path, sql: str, args: tuple[bytes, bytes]) -> bool:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous = OFF")  # a scratch copy: no need to wait for the disk
    try:
        conn.execute(sql, args)
    except sqlite3.IntegrityError:  # a flipped key that is another row's: nothing to try
        return False
    finally:
        conn.commit()
        conn.close()
    return True


@pytest.mark.slow
def test_a_flipped_byte_in_any_record_is_never_a_traceback(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    """A seeded loop over every row of the file: one flipped bit in its value (every read
    command runs), and in every third row's key (the commands that walk every key run)."""
    rng = random.Random(11)
    conn = sqlite3.connect(made.whole)
    rows = [(bytes(k), bytes(v)) for k, v in conn.execute("SELECT k, v FROM kv")]
    conn.close()
    assert len(rows) > 100
    work = tmp_path / "fz"
    for i, (key, value) in enumerate(rows):
        if value:
            db = _fresh(made.whole, work)
            bad = flip(value, rng.randrange(len(value)))
            _edit(db, "UPDATE kv SET v = ? WHERE k = ?", (bad, key))
            _run_all(db, made.repo, tmp_path, f"row {i} (value of {key.hex()}) flipped")
        if i % 3:
            continue
        db = _fresh(made.whole, work)
        if _edit(db, "UPDATE kv SET k = ? WHERE k = ?", (flip(key, rng.randrange(len(key))), key)):
            _run_all(db, made.repo, tmp_path, f"row {i} (key {key.hex()}) flipped", KEY_READS)
    outside.assert_untouched()


@pytest.mark.slow
def test_a_flipped_byte_in_any_page_is_never_a_traceback(
    made: Made, tmp_path: Path, outside: Outside
) -> None:
    """A seeded loop over every 4 KB page of the file itself (b-tree headers, cells, free
    space): sqlite's own "malformed" errors must come out as ledger errors too."""
    rng = random.Random(12)
    original = made.whole.read_bytes()
    work = tmp_path / "pages"
    for page in range(len(original) // 4096):
        for _ in range(3):
            at = page * 4096 + rng.randrange(4096)
            if at < 100:  # the file header: refused as not a database before anything reads
                continue
            db = _fresh(made.whole, work)
            db.write_bytes(flip(original, at))
            _run_all(db, made.repo, tmp_path, f"byte {at} (page {page}) flipped")
    outside.assert_untouched()
