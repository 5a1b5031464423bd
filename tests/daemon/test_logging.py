"""The daemon's logs: stdlib-logging lines (the sandbox's compile notice, the orchestrator's
warnings) come out as the same JSON lines, with the facts of the call or mission they run in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.daemon.conftest import ROOT, SAMPLE


def test_sandbox_notice_becomes_a_json_log_line() -> None:
    # A fresh process: configure_logging is process-wide, as in `swarm serve`.
    code = (
        "import logging\n"
        "from swarm.daemon import configure_logging\n"
        "configure_logging('info')\n"
        "logging.getLogger('sandbox').info('sandbox: compiling the %s interpreter', 'x')\n"
        "logging.getLogger('sandbox').debug('not at info level')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0]["event"] == "sandbox: compiling the x interpreter"
    assert lines[0]["level"] == "info" and "timestamp" in lines[0]


SERVED_MISSION = """
import json, shutil, sys
from pathlib import Path

import grpc

import ledger
import replay
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from swarm.daemon import Daemon, DaemonConfig, Role, TokenStore, configure_logging


def disk_full(self, *args, **kwargs):
    raise OSError(28, "No space left on device")


# The one fault: replay's snapshot at the mission's end fails, which the orchestrator
# reports with a stdlib-logging warning and the mission's outcome stands.
replay.Replayer.take_snapshots = disk_full
configure_logging("info")
root, sample, trace = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
shutil.copytree(sample, root / "ws" / "app", ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
led = ledger.open_ledger(f"sqlite://{root / 'ledger.sqlite'}")
led.create_tenant("acme")
led.create_project("acme", "app")
secret, _ = TokenStore(led).create("acme", Role.IDE, "test")
daemon = Daemon(led, DaemonConfig(listen="127.0.0.1:0", workspaces=root / "ws"))
daemon.start()
md = [("authorization", f"Bearer {secret}"), ("x-trace-id", trace)]
project = api.ProjectRef(tenant="acme", project="app")
with grpc.insecure_channel(f"127.0.0.1:{daemon.port}") as channel:
    stub = api_grpc.SwarmStub(channel)
    params = {"old": "calculate_total", "new": "compute_order_total"}
    submit = api.SubmitMissionRequest(
        project=project, kind="rename", params=params, workspace="app", skip_tests=True
    )
    mid = stub.SubmitMission(submit, metadata=md, timeout=60).mission_id
    follow = api.FollowMissionRequest(project=project, mission_id=mid)
    for _ in stub.FollowMission(follow, metadata=md, timeout=120):
        pass
daemon.stop()
led.close()
print(json.dumps({"mission_id": mid}))
"""


def test_a_missions_stdlib_warning_is_a_json_line_with_its_tenant_and_trace(
    tmp_path: Path,
) -> None:
    trace = "trace-of-the-submit-call"
    done = subprocess.run(
        [sys.executable, "-c", SERVED_MISSION, str(tmp_path), str(SAMPLE), trace],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    mid = json.loads(done.stdout)["mission_id"]
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    (warning,) = [ln for ln in lines if ln["event"].startswith("no replay snapshot")]
    assert warning["level"] == "warning"
    assert warning["logger"] == "swarm.missions._orchestrator"
    assert (warning["tenant"], warning["project"]) == ("acme", "app")
    assert (warning["mission_id"], warning["trace_id"]) == (mid, trace)
    assert "No space left on device" in warning["exception"]
    # The call that submitted it logged the same trace id; other calls' facts did not leak.
    (submitted,) = [ln for ln in lines if ln["event"] == "rpc" and ln["method"] == "SubmitMission"]
    assert submitted["trace_id"] == trace and submitted["mission_id"] == mid
    assert submitted["tenant"] == "acme" and submitted["code"] == "OK"
    started = [ln for ln in lines if ln["event"] == "daemon started"]
    assert started and "tenant" not in started[0]
