"""A real ``swarm serve`` process on 127.0.0.1 over a real sqlite ledger, and tokens for it.

One daemon serves the whole folder (session scope) to keep the suite quick;
tests that stop or restart a daemon start their own with ``start_daemon``.
Tokens are made with ``swarm admin token create --json``, the way an
operator would; the tests' own Ledger opens the same sqlite file to append
events, take agent locks and check what the daemon wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

import ledger
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"


def swarm_cli(
    *args: str, env: dict[str, str] | None = None, check: bool = True, cwd: Path = ROOT
) -> Any:
    """Run ``python -m swarm ARGS`` in ``cwd`` and return the completed process."""
    proc = subprocess.run(
        [sys.executable, "-m", "swarm", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"swarm {' '.join(args)} failed: {proc.stderr}")
    return proc


def make_token(url: str, tenant: str, role: str) -> str:
    out = swarm_cli(
        "admin", "token", "create", "--ledger", url, "--tenant", tenant, "--role", role, "--json"
    )
    return str(json.loads(out.stdout)["secret"])


#: How long a stopped daemon may take to exit before a test calls it hung. A guard, not a
#: measure: stopping takes up to the 5 s grace twice plus the loop's join, and on a loaded
#: 2-core machine the full suite once saw a clean exit take longer than the old 30 s.
EXIT_GUARD_S = 120.0


@dataclass
class DaemonProc:
    """A running ``swarm serve``: its process, address, ports and stderr log file."""

    proc: subprocess.Popen[str]
    port: int
    metrics_port: int
    url: str
    log: Path
    channels: list[grpc.Channel] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stub(self) -> api_grpc.SwarmStub:
        channel = grpc.insecure_channel(self.target)
        self.channels.append(channel)
        return api_grpc.SwarmStub(channel)

    def stop(self, timeout: float = EXIT_GUARD_S) -> int:
        for ch in self.channels:
            ch.close()
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout)

    def log_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out


def start_daemon(url: str, workdir: Path, *extra: str) -> DaemonProc:
    """Start ``swarm serve`` on a free port and wait for its ready line."""
    log = workdir / f"serve-{time.monotonic_ns()}.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "swarm",
            "serve",
            "--ledger",
            url,
            "--listen",
            "127.0.0.1:0",
            "--metrics",
            "127.0.0.1:0",
            "--json",
            "--grace",
            "5",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise AssertionError(f"swarm serve did not start: {log.read_text()}")
    ready = json.loads(line)
    return DaemonProc(proc, int(ready["port"]), int(ready["metrics_port"]), url, log)


@dataclass
class World:
    """The shared daemon and what the tests know about its tenants."""

    daemon: DaemonProc
    url: str
    led: ledger.Ledger
    tokens: dict[str, str]  # "a-ide", "a-ops", "a-admin", "b-ide"
    workspaces: Path

    def workspace(self, name: str) -> Path:
        """A fresh copy of examples/sample_repo under the daemon's --workspaces."""
        dest = self.workspaces / name
        shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
        return dest

    def md(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)


TENANT_A = "acme"
TENANT_B = "bolt"
PROJECT = "app"


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("daemon")
    url = f"sqlite://{workdir / 'ledger.sqlite'}"
    tokens = {
        "a-ide": make_token(url, TENANT_A, "ide"),
        "a-ops": make_token(url, TENANT_A, "ops"),
        "a-admin": make_token(url, TENANT_A, "admin"),
        "b-ide": make_token(url, TENANT_B, "ide"),
    }
    led = ledger.open_ledger(url)
    for t in (TENANT_A, TENANT_B):
        led.create_project(t, PROJECT, exist_ok=True)
    workspaces = workdir / "workspaces"
    workspaces.mkdir()
    daemon = start_daemon(url, workdir, "--workspaces", str(workspaces))
    try:
        yield World(daemon, url, led, tokens, workspaces)
    finally:
        daemon.stop()
        led.close()


@pytest.fixture
def stub(world: World) -> api_grpc.SwarmStub:
    return world.daemon.stub()


def ref(tenant: str = "", project: str = PROJECT) -> api.ProjectRef:
    return api.ProjectRef(tenant=tenant, project=project)
