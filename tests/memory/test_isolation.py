"""Results never cross tenants: two tenants with a project of the same name and shared
words, searched through ``Memory``, the agents' ``context_for``, the CLI and the RPC."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.memory.conftest import ACME, PROJECT, RIVAL, Embed, World, needs_memory_extra

needs_memory_extra()

from proto.swarm.v1 import memory_pb2 as mpb  # noqa: E402
from swarm import memory  # noqa: E402
from swarm.cli import main  # noqa: E402
from swarm.client import ClientError, GrpcClient, LocalClient, Remote  # noqa: E402
from swarm.memory import CodeChunk, Hit, Lesson, Memory  # noqa: E402
from tests.daemon.conftest import DaemonProc, make_token, start_daemon  # noqa: E402

QUERY = "which tax rate is charged in a region"


@pytest.fixture(scope="module")
def folder(world: World, embed: Embed) -> Path:
    """A memory folder holding both tenants, indexed once (then closed: local mode lets one
    holder at a time open it)."""
    path = world.root / "memory"
    with Memory(world.led, str(path), embed=embed) as mem:
        for tenant in (ACME, RIVAL):
            mem.index(tenant)
    return path


def _foreign(hits: list[Hit], other: str) -> list[Hit]:
    """Hits that show anything of the other tenant (its file, its name, its mission)."""
    word = other.capitalize()
    return [h for h in hits if word in h.text or other in getattr(h, "path", "")]


def _missions(hits: list[Hit]) -> set[str]:
    return {h.mission_id for h in hits if isinstance(h, Lesson)}


def test_memory_search_returns_only_the_asking_tenants_points(
    world: World, folder: Path, embed: Embed
) -> None:
    with Memory(world.led, str(folder), embed=embed) as mem:
        for me, other, mine in ((ACME, RIVAL, "acme"), (RIVAL, ACME, "rival")):
            hits = mem.search(me, QUERY, limit=20)
            assert hits and not _foreign(hits, other), [h.title for h in hits]
            top = next(h for h in hits if isinstance(h, CodeChunk))
            assert top.path == f"shop/{mine}_rates.py", [h.title for h in hits]
        assert _missions(mem.search(ACME, "rename calculate_total", kind="lesson")) == {
            world.acme_mission
        }
        assert _missions(mem.search(RIVAL, "tax tests failed", kind="lesson")) == {
            world.rival_mission
        }


def test_the_agents_context_returns_only_the_asking_tenants_points(
    world: World, folder: Path, embed: Embed
) -> None:
    with Memory(world.led, str(folder), embed=embed) as mem:
        memory.attach(mem)
        try:
            acme = memory.context_for(ACME, PROJECT, "change the tax rate charged in a region", 6)
            rival = memory.context_for(RIVAL, PROJECT, "change the tax rate charged in a region", 6)
        finally:
            memory.attach(None)
    assert acme and not _foreign(acme, RIVAL) and _missions(acme) == {world.acme_mission}
    assert rival and not _foreign(rival, ACME) and _missions(rival) == {world.rival_mission}
    assert memory.context_for(ACME, PROJECT, "anything", 6) == []  # none attached: memory off


def test_candidate_files_for_a_free_form_request_stay_in_the_tenant(
    world: World, folder: Path, embed: Embed
) -> None:
    request = "charge a higher tax up in the mountains"
    with Memory(world.led, str(folder), embed=embed) as mem:
        acme = mem.candidate_files(ACME, PROJECT, request, 3)
        rival = mem.candidate_files(RIVAL, PROJECT, request, 3)
    assert acme[0] == "shop/acme_rates.py" and "shop/rival_rates.py" not in acme
    assert "shop/acme_rates.py" not in rival and len(rival) == 3


def _cli(
    capsys: pytest.CaptureFixture[str], world: World, folder: Path, tenant: str
) -> list[dict[str, object]]:
    code = main(["memory", "search", QUERY, "--ledger", world.url, "--tenant", tenant,
                 "--project", PROJECT, "--memory-url", str(folder), "--limit", "20", "--json"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    hits: list[dict[str, object]] = json.loads(out.out)["hits"]
    return hits


def test_the_cli_returns_only_the_asking_tenants_points(
    world: World, folder: Path, embed: Embed, capsys: pytest.CaptureFixture[str]
) -> None:
    for me, other in ((ACME, RIVAL), (RIVAL, ACME)):
        hits = _cli(capsys, world, folder, me)
        assert hits
        assert not [h for h in hits if other.capitalize() in str(h["text"])], hits
        assert {h["mission_id"] for h in hits if h["kind"] == "lesson"} <= {
            world.acme_mission if me == ACME else world.rival_mission
        }


def test_the_cli_refuses_an_empty_query_and_an_unknown_project(
    world: World, folder: Path, embed: Embed, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in folder.rglob("*"))
    base = ["--ledger", world.url, "--tenant", ACME, "--memory-url", str(folder)]
    assert main(["memory", "search", "  ", "--project", PROJECT, *base]) == 2
    assert "the query is empty" in capsys.readouterr().err
    assert main(["memory", "search", "tax", "--project", "nope", *base]) == 2
    assert "unknown project 'nope'" in capsys.readouterr().err
    assert main(["memory", "search", "tax", "--limit", "0", "--project", PROJECT, *base]) == 2
    assert "outside 1..100" in capsys.readouterr().err
    assert sorted(p.name for p in folder.rglob("*")) == before


@pytest.fixture(scope="module")
def daemon(world: World, folder: Path) -> Iterator[DaemonProc]:
    """``swarm serve --memory`` on the world's ledger, on a copy of the indexed folder."""
    served = world.root / "served-memory"
    shutil.copytree(folder, served)
    proc = start_daemon(world.url, world.root, "--memory", "--memory-url", str(served))
    try:
        yield proc
    finally:
        proc.stop()


def _remote(daemon: DaemonProc, token: str) -> GrpcClient:
    channel = grpc.insecure_channel(daemon.target)
    daemon.channels.append(channel)
    return GrpcClient(Remote(daemon.target, channel, token, deadline=600.0), "")


def test_the_rpc_returns_only_the_token_tenants_points(
    world: World, folder: Path, daemon: DaemonProc, embed: Embed
) -> None:
    acme = _remote(daemon, make_token(world.url, ACME, "ops"))
    rival = _remote(daemon, make_token(world.url, RIVAL, "ops"))
    a = acme.search_memory(QUERY, project=PROJECT, kind=None, limit=20)
    r = rival.search_memory(QUERY, project=PROJECT, kind=None, limit=20)
    assert a and not _foreign(a, RIVAL) and _missions(a) <= {world.acme_mission}
    assert r and not _foreign(r, ACME) and _missions(r) <= {world.rival_mission}
    # The same answer as this process's own client on the same ledger and points.
    local = LocalClient(world.led, ACME, memory_location=str(folder))
    assert local.search_memory(QUERY, project=PROJECT, kind=None, limit=20) == a


def test_the_rpc_refuses_another_tenant_and_a_bad_query(world: World, daemon: DaemonProc) -> None:
    acme = _remote(daemon, make_token(world.url, ACME, "ops"))
    with pytest.raises(ClientError) as denied:
        GrpcClient(acme.remote, RIVAL).search_memory(QUERY, project=PROJECT, kind=None, limit=5)
    assert denied.value.code == "PERMISSION_DENIED"
    with pytest.raises(ClientError) as bad:
        acme.search_memory("", project=PROJECT, kind=None, limit=5)
    assert bad.value.code == "INVALID_ARGUMENT" and "empty" in str(bad.value)
    stub = daemon.stub()
    with pytest.raises(grpc.RpcError) as kind:
        stub.SearchMemory(
            mpb.SearchMemoryRequest(query="tax", kind="docs"),
            metadata=(("authorization", f"Bearer {make_token(world.url, ACME, 'ops')}"),),
            timeout=600,
        )
    assert kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT
