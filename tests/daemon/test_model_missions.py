"""Model-backed missions (ask, fix) through a real daemon: the daemon's own model answers,
the coder's loop runs in it; a daemon without a model refuses them, writing nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

import ledger
from proto.swarm.v1 import service_pb2 as api
from tests._model_server import ModelServer, completion
from tests.daemon.conftest import TENANT_A, World, make_token, ref, start_daemon, swarm_cli
from tests.swarm.missions._loop_repo import FIX, NOT_APPLYING, write_loop_repo


@pytest.fixture
def server() -> Iterator[ModelServer]:
    scripted = ModelServer()
    yield scripted
    scripted.close()


def test_a_daemon_without_a_model_refuses_a_fix_and_records_nothing(
    world: World, stub: Any
) -> None:
    name = f"p{uuid.uuid4().hex[:10]}"
    world.led.create_project(TENANT_A, name)
    write_loop_repo(world.workspaces / name)
    before = world.led.project_info(TENANT_A, name).events
    req = api.SubmitMissionRequest(project=ref(project=name), kind="fix", workspace=name)
    with pytest.raises(grpc.RpcError) as err:
        stub.SubmitMission(req, metadata=world.md("a-ide"), timeout=60)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "needs a model" in str(err.value.details()) and "--model-url" in str(err.value.details())
    assert world.led.project_info(TENANT_A, name).events == before


def test_a_fix_through_the_cli_and_a_daemon_runs_the_loop_on_the_daemons_model(
    tmp_path: Path, server: ModelServer
) -> None:
    url = f"sqlite://{tmp_path / 'ledger.sqlite'}"
    token = make_token(url, TENANT_A, "ide")
    with ledger.open_ledger(url) as led:
        led.create_project(TENANT_A, "calc", exist_ok=True)
    workspaces = tmp_path / "workspaces"
    repo = write_loop_repo(workspaces / "calc")
    server.script(completion(NOT_APPLYING), completion(FIX))
    daemon = start_daemon(
        url, tmp_path, "--workspaces", str(workspaces), "--model-url", server.url,
        "--model", "scripted", "--model-timeout", "60",
    )  # fmt: skip
    try:
        target = f"127.0.0.1:{daemon.port}"
        base = ("mission", "fix", "--server", target, "--workspace", "calc", "--coders", "1")
        # A daemon's model is its own: the client cannot point it elsewhere.
        refused = swarm_cli(
            *base, "--model-url", "http://elsewhere", env={"SWARM_TOKEN": token}, check=False
        )
        assert refused.returncode == 2 and "--model-url" in refused.stderr
        assert len(server.requests) == 0
        done = swarm_cli(*base, "--rounds", "3", "--json", env={"SWARM_TOKEN": token})
    finally:
        daemon.stop()
    report = json.loads(done.stdout)
    assert report["outcome"] == "succeeded", report
    assert "if quantity <= 0:" in (repo / "calc/shop.py").read_text()
    assert len(server.requests) == 2
    assert "did not apply" in server.requests[1].messages[-1]["content"]


def test_serve_refuses_a_model_it_could_not_call_before_opening_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from swarm.cli import main

    db = tmp_path / "ledger.sqlite"
    base = ["serve", "--ledger", f"sqlite://{db}", "--listen", "127.0.0.1:0"]
    assert main([*base, "--model-url", "ftp://model", "--model", "m"]) == 2
    assert "must start with http:// or https://" in capsys.readouterr().err
    assert main([*base, "--model-url", "http://127.0.0.1:8080"]) == 2
    assert "needs both --model-url and --model" in capsys.readouterr().err
    assert not db.exists()
