"""Both clients over one real daemon: ``pair`` is (LocalClient, GrpcClient) on the same ledger.

The daemon is a real ``swarm serve`` process (``tests.daemon.conftest``); the
LocalClient opens its sqlite file in this process, as ``swarm ... --ledger``
would. ``done`` is a rename mission submitted through the GrpcClient and
followed to its end, so every test reads the same finished mission both ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from swarm.brain import EditRequest
from swarm.client import GrpcClient, LocalClient, MissionRun, Remote
from swarm.missions import MissionOptions, MissionReport
from tests.daemon.conftest import TENANT_A, World, stub, world

__all__ = ["stub", "world"]  # the daemon's fixtures, shared with this folder

RENAME = EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"})


@dataclass
class Pair:
    local: LocalClient
    remote: GrpcClient


@pytest.fixture(scope="session")
def pair(world: World) -> Iterator[Pair]:
    channel = grpc.insecure_channel(world.daemon.target)
    remote = Remote(world.daemon.target, channel, world.tokens["a-ide"], deadline=30.0)
    try:
        # The token's own tenant through the daemon; the same tenant named locally.
        yield Pair(LocalClient(world.led, TENANT_A), GrpcClient(remote))
    finally:
        channel.close()


@dataclass(frozen=True)
class Done:
    project: str
    report: MissionReport


@pytest.fixture(scope="session")
def done(world: World, pair: Pair) -> Done:
    """A rename through the daemon on a fresh workspace, followed to its end."""
    project = "clientpair"
    world.workspace(project)
    run = MissionRun(RENAME, MissionOptions(run_tests=False), workspace=project)
    seen: list[str] = []
    report = pair.remote.run_mission(project, run, progress=lambda *_: None, started=seen.append)
    assert report.ok, report.reason
    assert seen == [report.mission_id]
    return Done(project, report)
