"""The executable bit survives import and replay; temporary files stay out of the tree."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
import replay
from ops import verify
from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._workspace import import_workspace

T, P = "acme", "shop"
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("_scratch_child.py")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _stray_temps(root: Path) -> list[str]:
    """Temporary files anywhere in the user's tree (the scratch folder aside)."""
    return [
        str(p.relative_to(root))
        for p in root.rglob(".swarm-*.tmp")
        if replay.SCRATCH not in p.relative_to(root).as_posix()
    ]


def test_writes_set_keep_and_clear_the_executable_bit(tmp_path: Path) -> None:
    tree = replay.GuardedTree(tmp_path)
    tree.write("bin/run.sh", b"#!/bin/sh\n", executable=True)
    assert _mode(tmp_path / "bin/run.sh") & 0o111 and tree.executable("bin/run.sh") is True
    tree.write("bin/run.sh", b"#!/bin/sh\necho hi\n")  # None: keeps the mode
    assert tree.executable("bin/run.sh") is True
    tree.write("bin/run.sh", b"#!/bin/sh\n", executable=False)
    assert tree.executable("bin/run.sh") is False and tree.executable("absent") is None
    assert _stray_temps(tmp_path) == []
    assert list((tmp_path / replay.SCRATCH).iterdir()) == []


def test_a_writer_killed_mid_write_leaves_no_temp_in_the_tree_and_the_next_start_sweeps_it(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "src").mkdir()
    proc = subprocess.run(
        [sys.executable, str(CHILD), str(repo), "src/app.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL and proc.stdout == "staged\n", proc.stderr
    assert _stray_temps(repo) == []
    assert not (repo / "src/app.py").exists()
    (orphan,) = (repo / replay.SCRATCH).iterdir()  # the crashed writer's, unlocked now
    assert orphan.name.startswith(".swarm-") and orphan.name.endswith(".tmp")
    # The next process to write in this root sweeps it (a fresh interpreter: first write).
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; import replay; "
            "replay.GuardedTree(Path(sys.argv[1])).write('src/app.py', b'ok')",
            str(repo),
        ],
        cwd=ROOT,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (repo / "src/app.py").read_bytes() == b"ok"
    assert list((repo / replay.SCRATCH).iterdir()) == []


def test_the_sweep_spares_a_temporary_file_a_live_writer_holds(tmp_path: Path) -> None:
    tree = replay.GuardedTree(tmp_path)
    tree.write("a.txt", b"a")
    scratch = tmp_path / replay.SCRATCH
    held = scratch / ".swarm-0123456789abcdef.tmp"
    with held.open("wb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        assert tree.sweep_scratch() == 0 and held.exists()
    assert tree.sweep_scratch() == 1 and not held.exists()


def _change(led: ledger.Ledger, path: str, data: bytes, exe: bool | None) -> pb.SwarmEvent:
    head = led.file_state(T, P, path)
    blob = led.put_blob(T, data)
    sc = pb.StateChange(
        path=path,
        previous_sha256=head.sha256 if head else b"",
        new_sha256=blob.sha256,
        new_size=blob.size,
        content=pb.BlobRef(sha256=blob.sha256, size=blob.size),
    )
    if exe is not None:
        sc.executable = exe
    return pb.SwarmEvent(event_id=ledger.new_event_id(), agent_id="coder-1", state_change=sc)


def test_replay_keeps_the_bit_across_changes_that_do_not_say(tmp_path: Path) -> None:
    led = ledger.open_ledger("memory:")
    led.create_tenant(T)
    led.create_project(T, P)
    led.append(T, P, [_change(led, "run.sh", b"#!/bin/sh\n", True)])
    led.append(T, P, [_change(led, "lib.py", b"x = 1\n", None)])
    (edit,) = led.append(T, P, [_change(led, "run.sh", b"#!/bin/sh\necho 2\n", None)])
    r = replay.Replayer(led, T, P, snapshot_every=2)
    assert r.take_snapshots()  # the snapshot manifests hold the bit too
    state = r.state_at(edit.versionstamp)
    assert state.files["run.sh"].executable and not state.files["lib.py"].executable
    replay.materialise(led, T, state, tmp_path / "out")
    assert _mode(tmp_path / "out/run.sh") & 0o111 and not _mode(tmp_path / "out/lib.py") & 0o111
    assert not (tmp_path / "out/.swarm").exists()  # a replay's output holds only the state
    (off,) = led.append(T, P, [_change(led, "run.sh", b"#!/bin/sh\necho 2\n", False)])
    diff = replay.unified_diff(led, T, state, r.state_at(off.versionstamp))
    assert "old mode 100755\nnew mode 100644\n" in diff
    assert verify(led, T, P).ok  # verify folds the bit the same way


def test_a_manifest_keeps_the_old_form_unless_a_file_is_executable() -> None:
    plain = {"a.py": replay.Entry(b"\x01" * 32, 3)}
    assert replay.encode_manifest(plain)[:4] == b"SWM1"  # old snapshots still compare equal
    assert replay.decode_manifest(replay.encode_manifest(plain)) == plain
    mixed = {**plain, "run.sh": replay.Entry(b"\x02" * 32, 9, executable=True)}
    data = replay.encode_manifest(mixed)
    assert data[:4] == b"SWM2" and replay.decode_manifest(data) == mixed
    with pytest.raises(replay.ChainBroken, match="unknown flags"):
        replay.decode_manifest(data[:-1] + b"\x04")


def test_an_imported_executable_comes_back_executable(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "bin").mkdir(parents=True)
    (repo / "bin/deploy").write_bytes(b"#!/bin/sh\n")
    (repo / "bin/deploy").chmod(0o755)
    (repo / "README").write_bytes(b"hi\n")
    led = ledger.open_ledger("memory:")
    led.create_tenant(T)
    led.create_project(T, P)
    import_workspace(led, T, P, repo, "m-1")
    r = replay.Replayer(led, T, P)
    replay.materialise(led, T, r.state_at(r.latest()), tmp_path / "out")
    assert _mode(tmp_path / "out/bin/deploy") & 0o111
    assert not _mode(tmp_path / "out/README") & 0o111
