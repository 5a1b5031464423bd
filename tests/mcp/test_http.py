"""``swarm mcp --http``: the streamable HTTP transport, with the SDK's own HTTP client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.mcp.conftest import ROOT, Repo

READY_GUARD_S = 120.0  # a guard against a server that never comes up, not a measure


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(shop: Repo) -> Iterator[str]:
    """``swarm mcp --http`` on a free loopback port; its URL once it accepts connections."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SWARM_TOKEN": shop.tokens["acme-ide"]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm", "mcp", "--repo", str(shop.path), "--http", str(port)],
        env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        assert "serving streamable HTTP at http://127.0.0.1:" in proc.stderr.readline()
        deadline = time.monotonic() + READY_GUARD_S
        while True:  # the line comes before uvicorn binds: wait until it accepts
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_streamable_http_serves_the_tools_to_the_token_only(shop: Repo, served: str) -> None:
    async def body() -> None:
        headers = {"Authorization": f"Bearer {shop.tokens['acme-ide']}"}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(served, http_client=http) as (read, write),
            ClientSession(read, write) as s,
        ):
            await s.initialize()
            tools = {t.name for t in (await s.list_tools()).tools}
            assert {"mission_rename", "mission_follow", "lock_take"} <= tools
            got = await s.call_tool("replay_file", {"path": "../x"})
            assert got.is_error
        for wrong in ({}, {"Authorization": f"Bearer {shop.tokens['rival-ide']}"}):
            answer = httpx.post(served, headers=wrong, json={})
            assert answer.status_code == 401 and "bearer token" in answer.text

    anyio.run(body)
