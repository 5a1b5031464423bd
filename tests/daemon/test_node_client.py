"""A real IDE-side client: Node.js with @grpc/grpc-js and @grpc/proto-loader, run against a real daemon."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from tests.daemon.conftest import ROOT, TENANT_A, World

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if node_bin is None or npm_bin is None:
        pytest.skip("node and npm are needed for the Node.js IDE client test; install Node.js 18+")
    if not (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir():
        proc = subprocess.run(
            [npm_bin, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if proc.returncode != 0:
            pytest.skip(f"npm ci failed (no registry?): {proc.stderr[-500:]}")
    return node_bin


def test_the_node_client_submits_a_mission_follows_it_and_holds_a_lock(
    world: World, node: str, tmp_path: Path
) -> None:
    project = f"p{uuid.uuid4().hex[:10]}"
    world.led.create_project(TENANT_A, project)
    world.workspace(project)
    release = tmp_path / "release"
    proc = subprocess.Popen(
        [node, "client.js"],
        cwd=NODE_DIR,
        env={
            **os.environ,
            "SWARM_TARGET": world.daemon.target,
            "SWARM_TOKEN": world.tokens["a-ide"],
            "SWARM_PROTO_ROOT": str(ROOT),
            "SWARM_PROJECT": project,
            "SWARM_PATH": "src/cart.py",
            "SWARM_HOLD_FILE": str(release),
            "SWARM_SKIP_TESTS": "1",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    timer = threading.Timer(60, proc.kill)
    timer.start()
    try:
        first = proc.stdout.readline()
        if not first:
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"client.js failed: {err}")
        holding = json.loads(first)
        assert holding == {"holding": "src/cart.py"}
        # While the IDE holds the file, an agent cannot take it.
        lock = world.led.get_lock(TENANT_A, project, "src/cart.py")
        assert lock is not None and lock.holder == "human:vscode"
        release.touch()
        out, err = proc.communicate(timeout=60)
    finally:
        timer.cancel()
    assert proc.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert project in summary["projects"]
    assert summary["lock"]["holder"] == "human:vscode"
    assert summary["lock"]["listed"] == ["src/cart.py@human:vscode"]
    assert summary["lock"]["renewed_same_token"] is True
    assert summary["lock_signals"] == ["SIGNAL_KIND_LOCK_ACQUIRED", "SIGNAL_KIND_LOCK_RELEASED"]
    mission = summary["mission"]
    assert mission["code"] == "OK", mission
    assert mission["state"] == "succeeded"
    assert "shop/pricing.py" in mission["files_changed"]
    assert mission["events"]["state_change"] >= len(mission["files_changed"])
    assert world.led.get_lock(TENANT_A, project, "src/cart.py") is None
