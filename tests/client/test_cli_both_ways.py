"""Each command written once: ``swarm ... --server`` prints what ``swarm ... --ledger`` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import Done
from tests.daemon.conftest import TENANT_A, World, swarm_cli


def local_cli(world: World, done: Done, *args: str) -> Any:
    """``swarm ARGS`` on the daemon's ledger file, opened by the command itself."""
    return swarm_cli(*args, "--ledger", world.url, "--tenant", TENANT_A,
                     "--project", done.project, check=False)  # fmt: skip


def remote_cli(world: World, done: Done, *args: str) -> Any:
    """``swarm ARGS --server`` with an ops token."""
    return swarm_cli(*args, "--server", world.daemon.target, "--project", done.project,
                     env={"SWARM_TOKEN": world.tokens["a-ops"]}, check=False)  # fmt: skip


def both(world: World, done: Done, *args: str) -> tuple[Any, Any]:
    """(local, remote) completed processes of ``swarm ARGS`` on the same project."""
    return local_cli(world, done, *args), remote_cli(world, done, *args)


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "who", "shop/pricing.py", "--json"),
        ("audit", "who", "shop/pricing.py"),
        ("audit", "verify", "--json"),
        ("audit", "events", "--type", "decision", "--json"),
        ("audit", "events", "--role", "coder", "--format", "csv"),
        ("mission", "list", "--json"),
    ],
    ids=" ".join,
)
def test_the_same_output_both_ways(world: World, done: Done, args: tuple[str, ...]) -> None:
    local, remote = both(world, done, *args)
    assert local.returncode == remote.returncode == 0, (local.stderr, remote.stderr)
    assert local.stdout == remote.stdout and local.stdout.strip()


def test_mission_show_prints_the_same_dag_and_story(world: World, done: Done) -> None:
    mid = done.report.mission_id
    _, refused = both(world, done, "mission", "show", mid, "--repo", "examples", "--json")
    # --repo is this machine's folder: refused with --server, as before.
    assert refused.returncode == 2 and "does not go with --server" in refused.stderr
    here, there = both(world, done, "mission", "show", mid, "--json")
    assert json.loads(here.stdout) == json.loads(there.stdout)
    assert json.loads(here.stdout)["mission_id"] == mid
    here, there = both(world, done, "mission", "show", mid, "--events")
    assert here.stdout == there.stdout
    assert f"mission {mid}: succeeded" in here.stdout and "shop/pricing.py" in here.stdout
    assert "(read from the ledger in" in here.stderr
    assert f"(read from the daemon at {world.daemon.target} in" in there.stderr


def test_export_through_the_daemon_writes_the_local_rows(
    world: World, done: Done, tmp_path: Path
) -> None:
    here, there = tmp_path / "here.jsonl", tmp_path / "there.jsonl"
    local = local_cli(world, done, "audit", "export", "--format", "jsonl", "--out", str(here))
    remote = remote_cli(world, done, "audit", "export", "--format", "jsonl", "--out", str(there))
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert here.read_bytes() == there.read_bytes() and here.read_bytes()


@pytest.mark.parametrize(
    "args,words",
    [
        (("audit", "events", "--role", "wizard"), "unknown role 'wizard'"),
        (("audit", "events", "--since", "-1h", "--until", "-2h"), "ends before it starts"),
        (("mission", "show", "m00000000"), "m00000000"),
    ],
)
def test_refusals_read_the_same_both_ways(
    world: World, done: Done, args: tuple[str, ...], words: str
) -> None:
    repo = ("--repo", str(world.workspaces / done.project)) if args[0] == "mission" else ()
    local = local_cli(world, done, *args, *repo)
    remote = remote_cli(world, done, *args)
    assert local.returncode == remote.returncode == 2
    assert words in local.stderr and words in remote.stderr
