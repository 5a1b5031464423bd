"""``swarm demo``: the daemon runs a real mission on the sample repository, through its API.

    swarm demo            start `swarm serve` on the embedded ledger, submit a rename
                          mission on a copy of examples/sample_repo over gRPC, stream
                          its events as the agents work, show the result, stop the daemon
    swarm demo ledger     a tour of the ledger alone: events, indexes, a lock, a watch

The mission tour is what an IDE plugin does: it talks to the daemon only
through the gRPC API with an ``ide`` token (made here the way `swarm admin
token create` makes one). Each run works on a fresh copy of the repository in
its own project, so it can run again and again on the same ledger; the
commands it prints at the end inspect, replay and audit what it did.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ledger
from proto.swarm.v1 import service_pb2 as api
from swarm.cli import _demo_ledger
from swarm.cli._common import emit_json, fail
from swarm.cli._context import SWARM_DIR, add_context_options

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "examples" / "sample_repo"
RENAME = {"old": "calculate_total", "new": "compute_order_total"}
START_TIMEOUT_S = 30.0
MISSION_TIMEOUT_S = 300.0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="watch the daemon run a mission on the sample repository (or: demo ledger)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "tour", nargs="?", default="mission", choices=("mission", "ledger"), help=argparse.SUPPRESS
    )
    # Its own --repo (the repository to copy) and --project (fresh per run): the ledger
    # and tenant are every command's (swarm.cli._context), found from the working directory.
    add_context_options(parser, read_only=False, repo=False, project=False, json=False)
    parser.add_argument(
        "--project",
        default=None,
        help="project id (default: a fresh sample-XXXXXX per run; `hello` for the ledger tour)",
    )
    parser.add_argument(
        "--repo", type=Path, default=SAMPLE_REPO, help="repository to copy (default: the sample)"
    )
    parser.add_argument(
        "--workspaces",
        type=Path,
        default=None,
        help=f"the daemon's workspaces folder (default: {SWARM_DIR}/workspaces beside the ledger's "
        f"folder: the nearest {SWARM_DIR}/ from here up, else ./{SWARM_DIR}/)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.tour == "ledger":
        args.project = args.project or "hello"
        return _demo_ledger.run(args)
    return _mission_tour(args)


class _Tour:
    """The tour's steps: printed as they happen, or gathered for --json."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.steps: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def say(self, step: str, **facts: Any) -> None:
        self.steps.append({"step": step, **facts})
        if not self.as_json:
            detail = ", ".join(f"{k}={v}" for k, v in facts.items())
            print(f"  {step:<26} {detail}", flush=True)

    def event(self, rec: api.EventRecord) -> None:
        from swarm.missions import describe_event

        ev = rec.event
        line = {"cursor": rec.cursor, "agent": ev.agent_id, "what": describe_event(ev)}
        line["kind"] = ev.WhichOneof("payload") or ""
        self.events.append(line)
        if not self.as_json:
            print(f"    {len(self.events):>3} {ev.agent_id:<15} {line['what']}", flush=True)

    def before_and_after(self) -> tuple[int, str, str]:
        """The step before the first agent's change, and the cursors before and after the agents."""
        from swarm.missions import ORCHESTRATOR  # the import step's changes are not an agent's

        step = next(
            (
                n
                for n, e in enumerate(self.events)
                if e["kind"] == "state_change" and e["agent"] != str(ORCHESTRATOR)
            ),
            len(self.events),
        )
        before = self.events[step - 1]["cursor"] if step else ""
        return step, before, self.events[-1]["cursor"] if self.events else ""


def _mission_tour(args: argparse.Namespace) -> int:
    url = args.context.ledger_url
    tenant = args.tenant
    project = args.project or f"sample-{uuid.uuid4().hex[:6]}"
    repo: Path = args.repo
    if not (repo.is_dir() and any(repo.rglob("*.py"))):
        return fail(f"--repo {repo}: not a folder with Python files (the sample ships in a clone)")
    workspaces: Path = (args.workspaces or args.context.repo / SWARM_DIR / "workspaces").resolve()
    workspace = workspaces / project
    if workspace.exists():
        return fail(f"workspace {workspace} already exists: choose another --project")
    tour = _Tour(args.json)
    if not args.json:
        print(f"swarm demo on {url}", flush=True)
    try:
        with args.context.open() as led:
            from swarm.daemon import Role, TokenStore

            secret, info = TokenStore(led).create(tenant, Role.IDE, label="swarm demo")
    except ledger.LedgerError as exc:
        return fail(str(exc))
    tour.say("made an ide token", tenant=tenant, token_id=info.token_id)
    workspaces.mkdir(parents=True, exist_ok=True)
    shutil.copytree(repo, workspace, ignore=shutil.ignore_patterns(".swarm", "__pycache__"))
    tour.say("copied the repository", to=workspace)

    log = workspaces.parent / "demo-serve.log"
    with _daemon(url, workspaces, log) as (proc, target):
        tour.say("started swarm serve", pid=proc.pid, listen=target, log=log)
        code, mission_id = _drive(tour, target, secret, tenant, project)
        proc.send_signal(signal.SIGTERM)
        exit_code = proc.wait(START_TIMEOUT_S)
    tour.say("stopped the daemon", signal="SIGTERM", exit_code=exit_code)
    if args.json:
        emit_json(
            {
                "ledger": url,
                "tenant": tenant,
                "project": project,
                "workspace": str(workspace),
                "steps": tour.steps,
                "events": tour.events,
            }
        )
    elif code == 0:
        _print_next(
            tour, f"--ledger {url} --tenant {tenant} --project {project}", mission_id, workspace
        )
    return code if exit_code == 0 else 1


@contextlib.contextmanager
def _daemon(url: str, workspaces: Path, log: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A real ``swarm serve`` on a free local port, killed if the tour ends early."""
    command = [sys.executable, "-m", "swarm", "serve", "--ledger", url, "--json"]
    command += ["--listen", "127.0.0.1:0", "--workspaces", str(workspaces), "--grace", "10"]
    with log.open("w") as err:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()  # the daemon prints one line once it listens
        if not ready:
            proc.wait(START_TIMEOUT_S)
            raise SystemExit(fail(f"swarm serve did not start; its log is {log}", 1))
        yield proc, str(json.loads(ready)["listen"])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _drive(tour: _Tour, target: str, secret: str, tenant: str, project: str) -> tuple[int, str]:
    """Everything an IDE plugin does, over gRPC: the exit code (0: succeeded) and mission id."""
    import grpc  # loaded by the command that uses it, not by every `swarm` start-up
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from proto.swarm.v1 import service_pb2_grpc as api_grpc

    md = [("authorization", f"Bearer {secret}")]
    ref = api.ProjectRef(tenant=tenant, project=project)
    with grpc.insecure_channel(target) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT_S)
            # The generated stubs carry no type hints; their calls are checked by the tests.
            health = health_pb2_grpc.HealthStub(channel).Check(  # type: ignore[attr-defined]
                health_pb2.HealthCheckRequest(service="swarm.v1.Swarm"), timeout=10
            )
            tour.say(
                "health check",
                status=health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
            )
            stub = api_grpc.SwarmStub(channel)  # type: ignore[no-untyped-call]
            stub.CreateProject(api.CreateProjectRequest(project=ref), metadata=md, timeout=10)
            tour.say("created the project", tenant=tenant, project=project)
            started = time.monotonic()
            mission = stub.SubmitMission(
                api.SubmitMissionRequest(
                    project=ref, kind="rename", params=RENAME, workspace=project
                ),
                metadata=md,
                timeout=60,
            )
            tour.say(
                "submitted a mission",
                mission_id=mission.mission_id,
                rename=f"{RENAME['old']} -> {RENAME['new']}",
            )
            if not tour.as_json:
                print("  its events, streamed by FollowMission as the agents append them:")
            follow = api.FollowMissionRequest(project=ref, mission_id=mission.mission_id)
            for rec in stub.FollowMission(follow, metadata=md, timeout=MISSION_TIMEOUT_S):
                tour.event(rec)
            done = stub.GetMission(
                api.GetMissionRequest(project=ref, mission_id=mission.mission_id),
                metadata=md,
                timeout=10,
            )
        except grpc.RpcError as exc:
            return fail(f"the daemon answered {exc.code().name}: {exc.details()}", 1), ""
        except grpc.FutureTimeoutError:
            return fail(f"the daemon at {target} did not become ready", 1), ""
    tour.say(
        f"mission {done.state}",
        mission_id=done.mission_id,
        events=len(tour.events),
        files_changed=len(done.files_changed),
        seconds=round(time.monotonic() - started, 1),
        **({"reason": done.reason} if done.reason else {}),
    )
    return (0 if done.state == "succeeded" else 1), done.mission_id


def _print_next(tour: _Tour, where: str, mission_id: str, workspace: Path) -> None:
    step, before, after = tour.before_and_after()
    print("done: every line above is an event in the ledger. Next, try:")
    print(f"  python -m swarm mission show {mission_id} --repo {workspace} {where}")
    print(f"  python -m swarm replay diff --from {before} --to {after} {where}")
    print(f"  python -m swarm replay --mission {mission_id} --step {step} --out before {where}")
    print(f"  python -m swarm audit who shop/pricing.py {where}")
    print("  python -m swarm demo ledger      # the ledger on its own")
