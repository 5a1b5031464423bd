"""replay.GuardedTree: what it writes lands beneath its root, and only there."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import replay
from tests.security._outside import tree_digest


def test_a_write_makes_its_folders_and_replaces_a_file_keeping_its_mode(tmp_path: Path) -> None:
    tree = replay.GuardedTree(tmp_path)
    tree.write("a/b/c.txt", b"one")
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"one"
    os.chmod(tmp_path / "a" / "b" / "c.txt", 0o750)
    tree.write("a/b/c.txt", b"two")
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"two"
    assert stat.S_IMODE((tmp_path / "a" / "b" / "c.txt").stat().st_mode) == 0o750
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["c.txt"]  # no temp left


def test_reads_and_removes(tmp_path: Path) -> None:
    tree = replay.GuardedTree(tmp_path)
    assert tree.read("missing/x") is None
    tree.write("x", b"data")
    assert tree.read("x") == b"data" and tree.is_file("x")
    assert tree.remove("x") and not tree.remove("x")
    assert tree.read("x") is None


def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(replay.UnsafePath, match="not a regular file"):
        replay.GuardedTree(tmp_path).read("pipe")


def test_a_root_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    with pytest.raises(replay.UnsafePath, match="the root is a symlink"):
        replay.GuardedTree(tmp_path / "link").write("x", b"")
    assert not (tmp_path / "real" / "x").exists()


_PART = st.sampled_from(["a", "b", "..", ".", "", "link", ".git", "x" * 256, "c\x00", "/"])


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=st.lists(_PART, min_size=1, max_size=5))
def test_whatever_the_path_nothing_lands_outside_the_root(tmp_path: Path, parts: list[str]) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir(exist_ok=True)
    outside.mkdir(exist_ok=True)
    if not (root / "link").is_symlink():
        (root / "link").symlink_to(outside, target_is_directory=True)
    before = tree_digest(outside)
    path = "/".join(parts)
    try:
        replay.GuardedTree(root).write(path, b"x")
    except replay.UnsafePath as exc:
        assert exc.rule
    else:
        written = root.joinpath(*path.split("/"))
        assert written.resolve().is_relative_to(root.resolve()) and written.read_bytes() == b"x"
    assert tree_digest(outside) == before
