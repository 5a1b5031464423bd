"""A real `swarm sync --follow` process SIGKILLed 20 times while the edge keeps growing.

Afterwards the hub holds exactly the edge's events: once each, in the edge's
order, with every blob, and the same file heads.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ledger
import sync
from tests.sync._helpers import assert_hub_mirrors_edge, fill, sync_token

T, P = "acme", "shop"
ROOT = Path(__file__).resolve().parents[2]
CLI = "import sys; from swarm.cli import main; sys.exit(main())"
KILLS = 20


def _sync_cmd(edge: str, hub: str, *extra: str) -> list[str]:
    token = Path(hub.removeprefix("sqlite://")).with_name(f"sync-token-{T}")
    return [
        sys.executable,
        "-c",
        CLI,
        "sync",
        "--from",
        edge,
        "--to",
        hub,
        "--hub-name",
        "hq",
        "--token-file",
        str(token),
        *extra,
    ]


def _wait_for_progress(edge: ledger.Ledger, handled: int, child: subprocess.Popen[bytes]) -> None:
    """Return once the child's cursor moved past ``handled`` (a readiness check, not a timing)."""
    deadline = time.monotonic() + 120
    while sync.project_status(edge, T, P, "hq").handled <= handled:
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert time.monotonic() < deadline, "the follower never shipped anything"
        time.sleep(0.02)


@pytest.mark.slow
def test_sigkilled_follower_leaves_the_hub_an_exact_copy(tmp_path: Path) -> None:
    edge_url = f"sqlite://{tmp_path / 'edge.sqlite'}"
    hub_url = f"sqlite://{tmp_path / 'hub.sqlite'}"
    edge = ledger.open_ledger(edge_url)
    edge.create_tenant(T)
    edge.create_project(T, P)
    fill(edge, T, P, 1500, seed=1)
    sync_token(hub_url, T, tmp_path)
    rng = random.Random(7)
    mid_batch = 0
    progressed = 0
    last_handled = 0
    for round_ in range(KILLS):
        child = subprocess.Popen(
            _sync_cmd(edge_url, hub_url, "--follow", "--batch", "7", "--quiet"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # The edge keeps recording while the follower ships (and is woken by watches).
        fill(edge, T, P, 40, seed=100 + round_, batch=5)
        if round_ % 2 == 0:
            # Every other kill lands right after the child shipped something, so kills
            # after progress (and, with most of the edge still unshipped, with work
            # pending) happen however slowly this machine starts a process.
            _wait_for_progress(edge, last_handled, child)
        else:
            # The others land anywhere from start-up to an idle, caught-up follower.
            time.sleep(rng.uniform(0.0, 1.4))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
        status = sync.project_status(edge, T, P, "hq")
        mid_batch += bool(status.pending)
        progressed += status.handled > last_handled
        last_handled = status.handled
    # Some kills landed with work in flight and some after the child had shipped.
    assert mid_batch >= 1
    assert progressed >= 1
    done = subprocess.run(
        _sync_cmd(edge_url, hub_url, "--json"), cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    hub = ledger.open_ledger(hub_url)
    assert_hub_mirrors_edge(edge, hub, T, P)
    assert sync.project_status(edge, T, P, "hq").pending == 0
