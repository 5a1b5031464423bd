"""A replay says which files it lacks because the import left them out (recorded at import)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import ledger
import replay
from proto.swarm.v1 import records_pb2 as rpb
from swarm.cli import main
from swarm.missions._workspace import import_workspace, walk_repo

T, P = "acme", "shop"


def _repo(root: Path) -> Path:
    files = {
        "src/app.py": b"print('hi')\n",
        "src/__pycache__/app.cpython-311.pyc": b"\x00",
        "node_modules/left/index.js": b"x\n",
        ".env": b"SECRET=1\n",
        ".git/HEAD": b"ref: refs/heads/main\n",
        "README.md": b"# hi\n",
    }
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    os.symlink("src/app.py", root / "app-link.py")
    return root


def test_left_out_lists_what_no_imported_path_accounts_for(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    found = replay.left_out(repo, list(walk_repo(repo)))
    assert [(p.path, p.reason) for p in found.paths] == [
        (".env", rpb.OMIT_REASON_FILE),
        ("app-link.py", rpb.OMIT_REASON_SYMLINK),
        ("node_modules/", rpb.OMIT_REASON_FOLDER),  # one entry, never descended into
        ("src/__pycache__/", rpb.OMIT_REASON_FOLDER),
    ]  # .git is VCS metadata, not a project file: not listed
    assert found.more == 0


def test_the_list_is_bounded_and_counts_the_rest(tmp_path: Path) -> None:
    for i in range(replay._omissions.MAX_LISTED + 5):
        (tmp_path / f".hidden-{i:03}").write_bytes(b"")
    found = replay.left_out(tmp_path, [])
    assert len(found.paths) == replay._omissions.MAX_LISTED and found.more == 5


def _imported(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'ledger.sqlite'}"
    with ledger.open_ledger(url) as led:
        led.create_tenant(T)
        led.create_project(T, P)
        import_workspace(led, T, P, _repo(tmp_path / "repo"), "m-1")
    return url


def test_the_import_records_its_omissions_and_replay_finds_them(tmp_path: Path) -> None:
    url = _imported(tmp_path)
    with ledger.open_ledger(url) as led:
        r = replay.Replayer(led, T, P)
        left = replay.omissions_at(led, T, P, r.latest())
        assert left is not None and len(left) == 4
        assert ("app-link.py", "symlink") in left.paths
        # Before any import nothing was recorded: a replay there has nothing to say.
        created = next(iter(led.iter_events(T, P))).versionstamp
        assert replay.omissions_at(led, T, P, created) is None


def test_the_replay_command_prints_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _imported(tmp_path)
    base = ["replay", "--ledger", url, "--tenant", T, "--project", P]
    assert main([*base, "--out", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert "left out (never imported, so not replayed): .env (file), app-link.py (symlink)" in said
    assert main([*base, "--out", str(tmp_path / "out2"), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert {"path": "node_modules/", "reason": "folder"} in facts["left_out"]
    assert facts["left_out_more"] == 0
