"""The daemon process: SIGTERM ends streams and exits cleanly, TLS by flags, bad flags refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import grpc
import pytest

import ledger
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from tests.daemon.conftest import EXIT_GUARD_S, ROOT, make_token, start_daemon, swarm_cli


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'ledger.sqlite'}"
    with ledger.open_ledger(url) as led:
        led.create_tenant("acme")
        led.create_project("acme", "app")
    return url


def test_sigterm_ends_open_streams_and_exits_zero(tmp_path: Path, sqlite_url: str) -> None:
    token = make_token(sqlite_url, "acme", "ops")
    daemon = start_daemon(sqlite_url, tmp_path)
    stub = daemon.stub()
    md = [("authorization", f"Bearer {token}")]
    it = stub.StreamEvents(
        api.StreamEventsRequest(project=api.ProjectRef(project="app"), follow=True),
        metadata=md,
        timeout=60,
    )
    first = next(it)
    outcome: list[Any] = []

    def drain() -> None:
        try:
            outcome.extend(it)
        except grpc.RpcError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=drain)
    reader.start()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(EXIT_GUARD_S) == 0
    reader.join(EXIT_GUARD_S)
    assert isinstance(outcome[-1], grpc.RpcError)
    assert outcome[-1].code() == grpc.StatusCode.UNAVAILABLE
    events = [line["event"] for line in daemon.log_lines()]
    assert "daemon stopping" in events and "daemon stopped" in events
    # A restarted daemon on the same ledger serves the stream from where it stood.
    again = start_daemon(sqlite_url, tmp_path)
    try:
        rest = list(
            again.stub().StreamEvents(
                api.StreamEventsRequest(project=api.ProjectRef(project="app"), after=first.cursor),
                metadata=md,
                timeout=10,
            )
        )
        assert rest == []
    finally:
        assert again.stop() == 0


def test_tls_with_certificate_and_key_flags(tmp_path: Path, sqlite_url: str) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    token = make_token(sqlite_url, "acme", "ops")
    daemon = start_daemon(sqlite_url, tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(daemon.target, creds) as channel:
            stub = api_grpc.SwarmStub(channel)
            got = stub.ListProjects(
                api.ListProjectsRequest(),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=10,
            )
            assert [p.project for p in got.projects] == ["app"]
        with grpc.insecure_channel(daemon.target) as plain:
            with pytest.raises(grpc.RpcError) as err:
                api_grpc.SwarmStub(plain).ListProjects(api.ListProjectsRequest(), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        assert daemon.stop() == 0


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--listen", "nonsense"], "--listen"),
        (["--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem"], "--tls-cert"),
        (["--listen", "127.0.0.1:0", "--workers", "0"], "--workers"),
        (["--listen", "127.0.0.1:0", "--workspaces", "/nonexistent"], "--workspaces"),
    ],
)
def test_bad_flags_are_refused_with_the_flag_named(
    sqlite_url: str, flags: list[str], message: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "swarm", "serve", "--ledger", sqlite_url, *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert message in proc.stderr


def test_admin_token_cli_for_a_person_and_a_script(sqlite_url: str) -> None:
    made = swarm_cli(
        "admin",
        "token",
        "create",
        "--ledger",
        sqlite_url,
        "--tenant",
        "acme",
        "--role",
        "ide",
        "--label",
        "alice",
    )
    secret = made.stdout.strip()
    assert secret.startswith("swt_") and "shown only once" in made.stderr
    listed = swarm_cli("admin", "token", "list", "--ledger", sqlite_url, "--tenant", "acme")
    assert "alice" in listed.stdout and "live" in listed.stdout and secret not in listed.stdout
    token_id = secret.split("_")[1]
    swarm_cli("admin", "token", "revoke", "--ledger", sqlite_url, "--tenant", "acme", token_id)
    rows = __import__("json").loads(
        swarm_cli(
            "admin", "token", "list", "--ledger", sqlite_url, "--tenant", "acme", "--json"
        ).stdout
    )
    assert [(r["token_id"], r["live"]) for r in rows] == [(token_id, False)]
    other = swarm_cli(
        "admin",
        "token",
        "revoke",
        "--ledger",
        sqlite_url,
        "--tenant",
        "bolt",
        token_id,
        check=False,
    )
    assert other.returncode == 2 and "has no token" in other.stderr
    bad = swarm_cli(
        "admin",
        "token",
        "create",
        "--ledger",
        sqlite_url,
        "--tenant",
        "Not Valid",
        "--role",
        "ops",
        check=False,
    )
    assert bad.returncode == 2 and "tenant" in bad.stderr


def test_sigterm_during_a_mission_then_a_restart_completes_it_with_nothing_applied_twice(
    tmp_path: Path, sqlite_url: str
) -> None:
    import shutil
    from collections import Counter

    from proto.swarm.v1 import events_pb2 as pb
    from tests.daemon.conftest import SAMPLE

    workspaces = tmp_path / "workspaces"
    shutil.copytree(
        SAMPLE, workspaces / "app", ignore=shutil.ignore_patterns("__pycache__", ".swarm")
    )
    token = make_token(sqlite_url, "acme", "ide")
    md = [("authorization", f"Bearer {token}")]
    daemon = start_daemon(sqlite_url, tmp_path, "--workspaces", str(workspaces), "--grace", "0.5")
    stub = daemon.stub()
    project = api.ProjectRef(project="app")
    mission = stub.SubmitMission(
        api.SubmitMissionRequest(
            project=project,
            kind="rename",
            params={"old": "calculate_total", "new": "compute_order_total"},
            workspace="app",
            skip_tests=True,
            coders=1,
            step_delay_s=0.4,
        ),
        metadata=md,
        timeout=30,
    )
    mid = mission.mission_id
    edits = 0
    for rec in stub.FollowMission(
        api.FollowMissionRequest(project=project, mission_id=mid), metadata=md, timeout=60
    ):
        ev = rec.event
        if ev.WhichOneof("payload") == "state_change" and not ev.event_id.startswith(
            f"{mid}.import."
        ):
            edits += 1
            if edits == 2:
                break  # the mission is half-way through its edits
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(EXIT_GUARD_S) == 0
    stopped = [ln for ln in daemon.log_lines() if ln["event"] == "daemon stopped"]
    assert stopped and stopped[0]["missions_left_to_resume"] == [mid]

    again = start_daemon(sqlite_url, tmp_path, "--workspaces", str(workspaces))
    try:
        stub2 = again.stub()
        list(
            stub2.FollowMission(
                api.FollowMissionRequest(project=project, mission_id=mid), metadata=md, timeout=120
            )
        )
        done = stub2.GetMission(
            api.GetMissionRequest(project=project, mission_id=mid), metadata=md, timeout=10
        )
        assert done.state == "succeeded", done.reason
        started = [ln for ln in again.log_lines() if ln["event"] == "daemon started"]
        assert started[0]["resumed_missions"] == [mid]
    finally:
        assert again.stop() == 0
    with ledger.open_ledger(sqlite_url) as led:
        changes = [
            r
            for r in led.history("acme", "app", mission=mid)
            if r.kind == "state_change" and not r.event.event_id.startswith(f"{mid}.import.")
        ]
        applied = Counter(
            r.event.state_change.path for r in changes if not r.event.state_change.reverts_event_id
        )
        assert applied and set(applied.values()) == {1}, applied  # each file edited exactly once
        assert len({r.event.event_id for r in changes}) == len(changes)
        assert all(
            r.event.signal.kind != pb.SIGNAL_KIND_MISSION_FINISHED or r.event.mission_id == mid
            for r in led.history("acme", "app", mission=mid)
        )
    text = (workspaces / "app" / "shop" / "pricing.py").read_text()
    assert "def compute_order_total" in text
