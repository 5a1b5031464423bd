"""The CLI as a thin client (``--server HOST:PORT``) of a real ``swarm serve``.

Every command runs as a subprocess, ``python -m swarm ... --server``, the way
a person types it; what it did is checked against the daemon's ledger and,
where a local path exists, against the same command run on that ledger.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from tests.daemon.conftest import ROOT, TENANT_A, World, make_token, start_daemon, swarm_cli

RENAME = ("calculate_total", "compute_order_total")


def remote(world: World, who: str, *args: str, check: bool = False) -> Any:
    """``swarm ARGS --server <the daemon>`` with ``who``'s token in $SWARM_TOKEN."""
    return swarm_cli(
        *args,
        "--server",
        world.daemon.target,
        env={"SWARM_TOKEN": world.tokens[who]},
        check=check,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file's bytes, leaving out the caches agents keep (.swarm/, __pycache__/)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {".swarm", "__pycache__"} & set(p.relative_to(root).parts)
    }


def fresh(world: World) -> tuple[str, Path]:
    name = f"c{uuid.uuid4().hex[:10]}"
    return name, world.workspace(name)


@pytest.fixture(scope="module")
def renamed(world: World) -> tuple[str, str, Path]:
    """A rename mission submitted through the CLI and followed to its end: project, id, repo."""
    project, repo = fresh(world)
    proc = remote(
        world, "a-ide", "mission", "rename", *RENAME, "--workspace", project, "--no-tests", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert f"mission {report['mission_id']} started" in proc.stderr
    return project, report["mission_id"], repo


def test_a_rename_through_the_cli_completes_and_changes_the_workspace(
    renamed: tuple[str, str, Path], world: World
) -> None:
    project, mid, repo = renamed
    assert "def compute_order_total" in (repo / "shop" / "pricing.py").read_text()
    story = world.led.history(TENANT_A, project, mission=mid, limit=10_000)
    assert story[-1].event.signal.kind == pb.SIGNAL_KIND_MISSION_FINISHED
    text = remote(world, "a-ops", "mission", "show", mid, "--project", project)
    assert text.returncode == 0, text.stderr
    assert f"mission {mid}: succeeded" in text.stdout


def test_the_summary_matches_the_local_one(world: World) -> None:
    project, _ = fresh(world)
    proc = remote(world, "a-ide", "mission", "rename", *RENAME, "--workspace", project)
    assert proc.returncode == 0, proc.stderr
    mid = proc.stderr.split("mission ", 1)[1].split()[0]
    assert f"mission {mid}: succeeded in" in proc.stdout
    assert "files changed: " in proc.stdout and "shop/pricing.py" in proc.stdout
    assert f"swarm mission show {mid} --server {world.daemon.target} --project {project}" in (
        proc.stdout
    )
    assert "tickets: " in proc.stderr  # progress goes to stderr, the summary to stdout


def test_show_and_list(renamed: tuple[str, str, Path], world: World) -> None:
    project, mid, _ = renamed
    listed = remote(world, "a-ops", "mission", "list", "--project", project, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["mission_id"], r["state"], r["kind"]) for r in rows] == [
        (mid, "succeeded", "rename")
    ]
    assert rows[0]["files_changed"] >= 2
    table = remote(world, "a-ops", "mission", "list", "--project", project)
    assert mid in table.stdout and "succeeded" in table.stdout

    shown = remote(world, "a-ops", "mission", "show", mid, "--project", project, "--json")
    story = json.loads(shown.stdout)
    assert story["mission_id"] == mid
    assert {t["id"] for t in story["dag"]} >= {"scout", "verify"}
    assert all(t["state"] == "done" for t in story["dag"])
    paths = {e.get("path") for e in story["story"] if e["kind"] == "state_change"}
    assert "shop/pricing.py" in paths
    # The same story the local command reads from the ledger.
    local = swarm_cli(
        "mission",
        "show",
        mid,
        "--repo",
        str(world.workspaces / project),
        "--ledger",
        world.url,
        "--tenant",
        TENANT_A,
        "--project",
        project,
        "--json",
    )
    assert [e["versionstamp"] for e in json.loads(local.stdout)["story"]] == [
        e["versionstamp"] for e in story["story"]
    ]


def _replay_both(world: World, project: str, tmp: Path, *point: str) -> tuple[Path, Path]:
    there, here = tmp / f"remote{len(point)}", tmp / f"local{len(point)}"
    got = remote(world, "a-ops", "replay", "--project", project, *point, "--out", str(there))
    assert got.returncode == 0, got.stderr
    local = ("--ledger", world.url, "--tenant", TENANT_A, "--project", project)
    swarm_cli("replay", *local, *point, "--out", str(here))
    return there, here


def test_replay_out_writes_the_bytes_the_local_replay_writes(
    renamed: tuple[str, str, Path], world: World, tmp_path: Path
) -> None:
    project, mid, _ = renamed
    story = world.led.history(TENANT_A, project, mission=mid, limit=10_000)
    # Just after the first coder change: one file renamed, the rest as imported.
    step = 1 + next(
        i
        for i, r in enumerate(story)
        if r.kind == "state_change" and r.event.agent_id.startswith("coder")
    )
    there, here = _replay_both(world, project, tmp_path, "--mission", mid, "--step", str(step))
    assert tree(there) == tree(here)
    changed = [
        p for p, data in tree(there).items() if p.endswith(".py") and b"compute_order_total" in data
    ]
    assert len(changed) == 1
    head_there, head_here = _replay_both(world, project, tmp_path)
    assert tree(head_there) == tree(head_here) != tree(there)
    vs = str(story[step - 1].versionstamp)
    by_event = tmp_path / "by-event"
    got = remote(
        world,
        "a-ops",
        "replay",
        "--project",
        project,
        "--at-event",
        vs,
        "--out",
        str(by_event),
        "--json",
    )
    assert json.loads(got.stdout)["versionstamp"] == vs
    assert tree(by_event) == tree(there)


def test_replay_refuses_a_non_empty_out_unless_forced(
    renamed: tuple[str, str, Path], world: World, tmp_path: Path
) -> None:
    project, _, _ = renamed
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    refused = remote(world, "a-ops", "replay", "--project", project, "--out", str(out))
    assert refused.returncode == 2
    assert "not empty" in refused.stderr
    assert tree(out) == {"keep.txt": b"mine"}
    forced = remote(world, "a-ops", "replay", "--project", project, "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "keep.txt" not in tree(out) and "shop/pricing.py" in tree(out)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no leftovers


def test_fork_through_the_daemon(renamed: tuple[str, str, Path], world: World) -> None:
    project, mid, _ = renamed
    first = world.led.history(TENANT_A, project, mission=mid, limit=1)[0]
    new = f"{project}-fork"
    got = remote(
        world,
        "a-ide",
        "fork",
        "--project",
        project,
        "--at",
        str(first.versionstamp),
        "--as",
        new,
        "--json",
    )
    assert got.returncode == 0, got.stderr
    facts = json.loads(got.stdout)
    assert facts["project"] == new and facts["origin_versionstamp"] == str(first.versionstamp)
    assert new in world.led.projects(TENANT_A)


def test_audit_events_match_the_local_query(renamed: tuple[str, str, Path], world: World) -> None:
    project, mid, _ = renamed
    local = ("--ledger", world.url, "--tenant", TENANT_A, "--project", project)
    for filters in (
        ("--mission", mid),
        ("--path", "shop/pricing.py"),
        ("--agent", "critic-1", "--type", "decision"),
        ("--type", "state_change", "--limit", "3"),  # no subject: the project's log
        ("--role", "coder", "--since", "-1h"),
    ):
        there = remote(world, "a-ops", "audit", "events", "--project", project, *filters, "--json")
        assert there.returncode == 0, there.stderr
        here = swarm_cli("audit", "events", *local, *filters, "--json")
        assert json.loads(there.stdout) == json.loads(here.stdout), filters
        assert json.loads(there.stdout), filters
    table = remote(world, "a-ops", "audit", "events", "--project", project, "--mission", mid)
    assert "state_change" in table.stdout


def test_admin_tokens_create_list_revoke_with_an_admin_token(world: World) -> None:
    made = remote(
        world,
        "a-admin",
        "admin",
        "token",
        "create",
        "--role",
        "ops",
        "--label",
        "cli test",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)
    assert token["tenant"] == TENANT_A and token["role"] == "ops" and token["live"]
    listed = json.loads(remote(world, "a-admin", "admin", "token", "list", "--json").stdout)
    assert {"token_id": token["token_id"], "live": True} in [
        {"token_id": r["token_id"], "live": r["live"]} for r in listed
    ]
    # The new token works at once; revoked, it stops at once.
    ok = swarm_cli(
        "mission",
        "list",
        "--project",
        "app",
        "--server",
        world.daemon.target,
        "--token",
        token["secret"],
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    revoked = remote(world, "a-admin", "admin", "token", "revoke", token["token_id"])
    assert revoked.returncode == 0 and f"revoked token {token['token_id']}" in revoked.stdout
    table = remote(world, "a-admin", "admin", "token", "list").stdout
    assert any(token["token_id"] in line and "revoked" in line for line in table.splitlines())
    late = swarm_cli(
        "mission",
        "list",
        "--project",
        "app",
        "--server",
        world.daemon.target,
        "--token",
        token["secret"],
        check=False,
    )
    assert late.returncode == 2 and "UNAUTHENTICATED" in late.stderr
    not_admin = remote(world, "a-ide", "admin", "token", "list")
    assert not_admin.returncode == 2 and "PERMISSION_DENIED" in not_admin.stderr


# Refusals -------------------------------------------------------------------------------


def test_no_token_is_refused_before_any_call(world: World) -> None:
    got = swarm_cli(
        "mission", "list", "--project", "app", "--server", world.daemon.target,
        env={"SWARM_TOKEN": ""}, check=False,
    )  # fmt: skip
    assert got.returncode == 2
    assert "needs a bearer token" in got.stderr and "SWARM_TOKEN" in got.stderr


def test_a_bad_token_gets_unauthenticated(world: World, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    for token in ("nonsense", "swt_000000000000_" + "x" * 43):
        secret.write_text(token + "\n")
        secret.chmod(0o600)
        got = swarm_cli(
            "audit", "events", "--project", "app", "--server", world.daemon.target,
            "--token-file", str(secret), check=False,
        )  # fmt: skip
        assert got.returncode == 2
        assert got.stderr.startswith("swarm: error: UNAUTHENTICATED: "), got.stderr


def test_the_token_file_is_preferred_and_a_token_on_the_command_line_warns(
    world: World, tmp_path: Path
) -> None:
    secret = tmp_path / "token"
    secret.write_text(world.tokens["a-ops"] + "\n")
    secret.chmod(0o600)
    base = ("mission", "list", "--project", "app", "--server", world.daemon.target)
    quiet = swarm_cli(*base, "--token-file", str(secret), env={"SWARM_TOKEN": ""}, check=False)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    loud = swarm_cli(*base, "--token", world.tokens["a-ops"], check=False)
    assert loud.returncode == 0
    assert "warning: --token" in loud.stderr and "--token-file" in loud.stderr
    both = swarm_cli(*base, "--token", "x", "--token-file", str(secret), check=False)
    assert both.returncode == 2 and "not both" in both.stderr
    secret.chmod(0o644)
    shared = swarm_cli(*base, "--token-file", str(secret), check=False)
    assert shared.returncode == 0 and "readable by other users" in shared.stderr
    gone = swarm_cli(*base, "--token-file", str(tmp_path / "none"), check=False)
    assert gone.returncode == 2 and "--token-file" in gone.stderr


def test_an_ops_token_cannot_submit_a_mission(world: World) -> None:
    project, repo = fresh(world)
    before = tree(repo)
    got = remote(world, "a-ops", "mission", "rename", *RENAME, "--workspace", project)
    assert got.returncode == 2
    assert "swarm: error: PERMISSION_DENIED: " in got.stderr and "needs ide" in got.stderr
    assert tree(repo) == before


def test_another_tenants_project_is_permission_denied(world: World) -> None:
    got = remote(world, "b-ide", "mission", "list", "--tenant", TENANT_A, "--project", "app")
    assert got.returncode == 2 and "PERMISSION_DENIED" in got.stderr


def _free_port() -> int:
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_server_nobody_listens_on_is_unavailable_after_the_deadline(world: World) -> None:
    port = _free_port()
    got = swarm_cli(
        "mission", "list", "--project", "app", "--server", f"127.0.0.1:{port}", "--deadline", "1",
        env={"SWARM_TOKEN": world.tokens["a-ops"]}, check=False,
    )  # fmt: skip
    assert got.returncode == 2
    assert f"swarm: waiting for the daemon at 127.0.0.1:{port} (up to 1s)" in got.stderr
    assert (
        f"UNAVAILABLE: the daemon at 127.0.0.1:{port} is not reachable after 1s: "
        "is `swarm serve` listening there?"
    ) in got.stderr


def _serve(url: str, port: int, workdir: Path) -> subprocess.Popen[str]:
    """``swarm serve`` on ``port``, not waited for: the client must wait for it itself."""
    return subprocess.Popen(
        [sys.executable, "-m", "swarm", "serve", "--ledger", url,
         "--listen", f"127.0.0.1:{port}", "--json", "--grace", "5"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=(workdir / "serve.log").open("w"), text=True,
    )  # fmt: skip


def _token_list(port: int, admin: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "swarm", "admin", "token", "list", "--json",
         "--server", f"127.0.0.1:{port}", "--token-file", admin],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _stopped(serve: subprocess.Popen[str]) -> int:
    if serve.poll() is None:
        serve.terminate()
    return serve.wait(30)


def _admin_token_file(url: str, workdir: Path) -> str:
    path = workdir / "admin.token"
    path.write_text(make_token(url, TENANT_A, "admin") + "\n")
    path.chmod(0o600)
    return str(path)


def test_a_client_started_before_the_daemon_waits_for_it(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    admin, port = _admin_token_file(url, tmp_path), _free_port()
    client = _token_list(port, admin)
    assert client.stderr is not None
    # Its first try was refused (nothing listens yet): it says it waits, and goes on trying.
    notice = client.stderr.readline()
    assert notice.startswith(f"swarm: waiting for the daemon at 127.0.0.1:{port}"), notice
    serve = _serve(url, port, tmp_path)
    try:
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert [row["role"] for row in json.loads(out)] == ["admin"]
        assert serve.stdout is not None
        assert json.loads(serve.stdout.readline())["ready"] is True
    finally:
        assert _stopped(serve) == 0


def test_a_client_started_right_after_serve_in_the_background_succeeds(tmp_path: Path) -> None:
    # The README's order: `swarm serve &`, then a client at once (5 of 6 tries used to
    # fail with UNAVAILABLE).
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    admin, port = _admin_token_file(url, tmp_path), _free_port()
    serve = _serve(url, port, tmp_path)
    try:
        client = _token_list(port, admin)
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert [row["role"] for row in json.loads(out)] == ["admin"]
    finally:
        assert _stopped(serve) == 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["mission", "rename", "a", "b", "--repo", "."], "--repo names a folder on this machine"),
        (["mission", "rename", "a", "b"], "--server needs --workspace NAME"),
        (["mission", "show", "m123456", "--repo", "."], "does not go with --server"),
        (["mission", "list"], "name the project: --project"),
        # Policies (budgets too) reach a daemon now; a model is the daemon's own (ADR 0015).
        (
            ["mission", "fix", "--workspace", "w", "--model-url", "http://127.0.0.1:9"],
            "--model-url: a daemon's missions use the model it was started with",
        ),
        (
            ["replay", "--project", "app", "--out", "x", "--ledger", "memory:"],
            "--ledger and --server",
        ),
        (["mission", "list", "--project", "app", "--tls-server-name", "x"], "needs --tls-ca"),
    ],
)
def test_usage_errors_are_clear(world: World, args: list[str], message: str) -> None:
    got = remote(world, "a-ide", *args)
    assert got.returncode == 2, got.stderr
    assert message in got.stderr


def test_replay_actions_without_an_api_call_refuse_the_server(world: World) -> None:
    target = world.daemon.target
    before = swarm_cli(
        "replay", "--server", target, "diff", "--from", "-1h", "--to", "-1s", check=False
    )
    assert before.returncode == 2 and "replay diff needs the ledger itself" in before.stderr
    after = remote(world, "a-ops", "replay", "diff", "--from", "-1h", "--to", "-1s")
    assert after.returncode == 2 and "unrecognized arguments: --server" in after.stderr


def test_local_commands_without_repo_say_how(world: World, tmp_path: Path) -> None:
    # In a folder with no .swarm/ above it: from the checkout, a .swarm/ left there by
    # the Quick start's demo would be found, and the mission would run on the checkout.
    alone = {"SWARM_CEILING_DIRECTORIES": str(tmp_path.parent), "SWARM_LEDGER": ""}
    got = swarm_cli("mission", "rename", "a", "b", check=False, cwd=tmp_path, env=alone)
    assert got.returncode == 2 and "--repo PATH is required (or --server" in got.stderr
    cancel = swarm_cli("mission", "cancel", "m123456", "--repo", ".", check=False)
    assert cancel.returncode == 2 and "through a daemon only" in cancel.stderr


def test_cancel_through_the_cli_fails_the_followed_mission(
    world: World, stub: api_grpc.SwarmStub
) -> None:
    project, repo = fresh(world)
    ref = api.ProjectRef(tenant=TENANT_A, project=project)
    md = world.md("a-ide")
    stub.CreateProject(api.CreateProjectRequest(project=ref, workspace=project), metadata=md)
    # A first mission imports the files, so the ledger holds the one locked below.
    first = remote(world, "a-ide", "mission", "rename", "percent_off", "pct_off",
                   "--workspace", project, "--no-tests", "--json")  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = tree(repo)
    # A person holds a file the rename must edit, so the mission cannot end before the
    # cancel arrives, however fast or slow this machine runs it.
    held = stub.AcquireLock(
        api.AcquireLockRequest(project=ref, path="shop/cart.py", holder="human:alice", ttl_s=300),
        metadata=md,
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "swarm", "mission", "rename", *RENAME, "--workspace", project,
         "--no-tests", "--coders", "1", "--json",
         "--server", world.daemon.target, "--token", world.tokens["a-ide"]],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Its first line on stderr comes once the daemon took the mission (SubmitMission
        # answered): read it, rather than poll the list until the mission shows.
        assert runner.stderr is not None
        lines = iter(runner.stderr.readline, "")
        started = next(
            (ln for ln in lines if ln.startswith("mission ") and " started on " in ln), ""
        )
        assert started, "the runner ended without a mission"
        mid = started.split()[1]
        cancel = remote(
            world, "a-ide", "mission", "cancel", mid, "--project", project, "--reason", "test"
        )
        assert cancel.returncode == 0, cancel.stderr
        out, err = runner.communicate(timeout=120)
    finally:
        if runner.poll() is None:
            runner.kill()
        stub.ReleaseLock(
            api.ReleaseLockRequest(project=ref, path="shop/cart.py", holder="human:alice",
                                   token=held.token),
            metadata=md,
        )  # fmt: skip
    assert runner.returncode == 1, err
    report = json.loads(out)
    assert report["outcome"] == "failed" and "cancelled by token" in json.dumps(report)
    assert tree(repo) == before  # rolled back


def test_tls_with_the_ca_flag(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=swarm.test",
         "-addext", "subjectAltName=DNS:swarm.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    url = f"sqlite://{tmp_path / 'tls.sqlite'}"
    admin = make_token(url, TENANT_A, "admin")
    daemon = start_daemon(url, tmp_path, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        base: tuple[str, ...] = (
            "admin",
            "token",
            "list",
            "--server",
            daemon.target,
            "--token",
            admin,
        )
        ok = swarm_cli(*base, "--tls-ca", str(cert), "--tls-server-name", "swarm.test", check=False)
        assert ok.returncode == 0, ok.stderr
        assert "admin" in ok.stdout
        # A handshake that fails is retried until --deadline, as a daemon still starting is.
        base = (*base, "--deadline", "2")
        wrong_name = swarm_cli(*base, "--tls-ca", str(cert), check=False)  # cert names swarm.test
        assert wrong_name.returncode == 2 and "does its certificate chain" in wrong_name.stderr
        plain = swarm_cli(*base, check=False)
        assert plain.returncode == 2 and "if it serves TLS, pass --tls-ca" in plain.stderr
        missing = swarm_cli(*base, "--tls-ca", str(tmp_path / "none.pem"), check=False)
        assert missing.returncode == 2 and "--tls-ca" in missing.stderr
    finally:
        assert daemon.stop() == 0
