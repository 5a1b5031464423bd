"""A copy of examples/sample_repo with a ledger and tokens, and the SDK's stdio client on it.

``mcp_session(repo, token, ...)`` starts ``python -m swarm mcp`` as a real
subprocess with the SDK's own ``stdio_client`` and yields an initialised
``ClientSession``; ``call`` calls a tool and returns (is_error, payload).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from swarm.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"


@dataclass(frozen=True)
class Repo:
    path: Path
    tokens: dict[str, str]  # name -> secret


def make_token(repo: Path, tenant: str, role: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(
            ["admin", "token", "create", "--repo", str(repo), "--tenant", tenant,
             "--role", role, "--json"]
        )  # fmt: skip
    assert code == 0
    secret: str = json.loads(out.getvalue())["secret"]
    return secret


@pytest.fixture
def shop(tmp_path: Path) -> Repo:
    """A copy of the sample repository, its ledger holding tokens of two tenants."""
    repo = tmp_path / "shop"
    shutil.copytree(SAMPLE, repo)
    tokens = {
        "acme-ide": make_token(repo, "acme", "ide"),
        "acme-ops": make_token(repo, "acme", "ops"),
        "rival-ide": make_token(repo, "rival", "ide"),
    }
    return Repo(repo, tokens)


def server_params(repo: Path, token: str, *extra: str) -> StdioServerParameters:
    env = {
        "PYTHONPATH": str(ROOT),
        "SWARM_TOKEN": token,
        "SWARM_CEILING_DIRECTORIES": str(repo.parent),
        "HOME": os.environ.get("HOME", "/root"),
    }
    args = ["-m", "swarm", "mcp", "--repo", str(repo), *extra]
    return StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(repo))


@contextlib.asynccontextmanager
async def mcp_session(repo: Path, token: str, *extra: str) -> AsyncIterator[ClientSession]:
    """The SDK's client, over stdio, on a ``swarm mcp`` subprocess."""
    params = server_params(repo, token, *extra)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> tuple[bool, Any]:
    """(is_error, the JSON answer, or the error's text) of one tool call."""
    result = await session.call_tool(tool, arguments, read_timeout_seconds=300)
    text = "".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        return True, text
    if result.structured_content is not None:
        return False, result.structured_content
    return False, json.loads(text)


async def quick_mission(session: ClientSession) -> str:
    """A rename with no test runs, followed to its end; its id."""
    err, sub = await call(
        session, "mission_rename", old="calculate_total", new="total", run_tests=False
    )
    assert not err, sub
    mid: str = sub["mission_id"]
    finished = False
    while not finished:
        err, got = await call(session, "mission_follow", mission_id=mid, wait_s=30, limit=1000)
        assert not err, got
        finished = got["finished"]
    return mid
