"""Two real processes appending to one project of one sqlite file at the same time.

Each child (``_child.py pair``) appends N events while a follower thread tracks
the log only through ``wait_for_append``, then the two play a ping-pong in
which each side writes only after a watch woke it for the other's event.
Afterwards: one total order (versionstamps and times strictly increasing),
every one of the 2N (+ ping-pong) ids present exactly once and where its
writer was told it landed, and each child's follower saw all of the other's
events, in log order.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from tests.ledger._child import PING_ROUNDS

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("_child.py")
TENANT, PROJECT = "acme", "web"
N = 300


def _spawn(url: str, name: str, other: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), "pair", url, TENANT, PROJECT, name, other, str(N)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("scheme", ["sqlite", "sim+sqlite"])  # sim: its stamps, across processes
def test_two_processes_append_concurrently_into_one_order_and_see_each_other(
    tmp_path: Path, scheme: str
) -> None:
    url = f"{scheme}://{tmp_path / 'shared.sqlite'}"
    led = ledger.open_ledger(url)
    led.create_tenant(TENANT)
    led.create_project(TENANT, PROJECT)
    children = {"a": _spawn(url, "a", "b"), "b": _spawn(url, "b", "a")}
    for name, proc in children.items():  # both are up and have noted the head...
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line, f"child {name} died before it was ready:\n{proc.stderr.read()}"
        assert json.loads(line) == {"ready": name}
    for proc in children.values():  # ...then start them together
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = {}
    for name, proc in children.items():  # (the "ready" line was read above)
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"child {name} failed:\n{err}"
        outputs[name] = [json.loads(line) for line in out.splitlines()]

    acks = {
        name: {o["ack"]: o["vs"] for o in lines if "ack" in o} for name, lines in outputs.items()
    }
    reports = {name: next(o for o in lines if "report" in o) for name, lines in outputs.items()}
    written = {
        name: [f"{name}-{i:06d}" for i in range(N)]
        + [f"{name}-ping-{r}" for r in range(PING_ROUNDS)]
        for name in children
    }

    log = list(led.iter_events(TENANT, PROJECT))
    stamps = [rec.versionstamp for rec in log]
    times = [rec.time_us for rec in log]
    assert all(x < y for x, y in itertools.pairwise(stamps)), (
        "versionstamps do not strictly increase"
    )
    assert all(x < y for x, y in itertools.pairwise(times)), "times do not strictly increase"
    ids = [rec.event.event_id for rec in log]
    assert len(ids) == len(set(ids)), "an event landed twice"
    where = {rec.event.event_id: str(rec.versionstamp) for rec in log}
    for name in children:
        assert acks[name] == {eid: where[eid] for eid in written[name]}, (
            f"{name}'s events are not all where it was told"
        )
    assert len(log) == 1 + 2 * (N + PING_ROUNDS)  # the PROJECT_CREATED signal and both children's
    # The two writers really interleaved: neither ran all its appends before the other began.
    owners = [rec.event.agent_id for rec in log[1:]]
    assert owners.index("b") < len(owners) - owners[::-1].index("a") - 1
    assert owners.index("a") < len(owners) - owners[::-1].index("b") - 1

    for name, other in (("a", "b"), ("b", "a")):
        report = reports[name]
        seen = report["seen"]
        assert list(seen) == written[other], (
            f"{name} did not see all of {other}'s events, in order, through watches"
        )
        assert all(where[eid] == vs for eid, vs in seen.items())
        assert report["waited_for"] == [f"{other}-ping-{r}" for r in range(PING_ROUNDS)]
        assert report["wakeups"] > 0
    led.close()
