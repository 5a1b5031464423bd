"""``swarm serve``: run the daemon (gRPC API, health, reflection, metrics) until SIGTERM.

Prints one line on stdout once it is ready, i.e. the port is bound and every
service answers (``--json``: a JSON object with the address and ports), and
JSON logs on stderr (the first, "daemon started", names the address too).
A client started at the same time waits for it (see ``swarm.cli._remote``).
SIGTERM or Ctrl-C stops taking calls, ends open event streams (clients
resume from their cursor), lets unary calls finish within --grace seconds
and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import ledger
from swarm.brain import BrainError
from swarm.cli._common import fail
from swarm.cli._context import add_context_options
from swarm.cli._memory import add_memory_option, memory_location
from swarm.cli._model import add_model_options, model_settings
from swarm.missions import MissionError


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the daemon: the gRPC API for IDE plugins, the CLI and ops",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_context_options(parser, read_only=False, tenant=False, project=False, json=False)
    parser.add_argument(
        "--listen", default="127.0.0.1:7443", help="HOST:PORT to serve on; port 0 picks a free one"
    )
    parser.add_argument(
        "--metrics", metavar="HOST:PORT", default=None, help="serve Prometheus /metrics here"
    )
    parser.add_argument(
        "--workspaces", type=Path, default=None, help="folder holding the missions' repositories"
    )
    parser.add_argument(
        "--max-workspace-files",
        type=int,
        default=10_000,
        metavar="N",
        help="most tracked files a mission imports from one workspace (default 10000)",
    )
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        default=None,
        help="serve mission control (the web page) here; off unless given; a non-loopback "
        "HOST needs --tls-cert/--tls-key (it is then HTTPS)",
    )
    parser.add_argument("--tls-cert", type=Path, default=None, help="PEM certificate chain")
    parser.add_argument("--tls-key", type=Path, default=None, help="PEM private key")
    parser.add_argument(
        "--workers",
        type=int,
        default=64,
        help="threads for blocking ledger work (default 64); open streams hold none",
    )
    parser.add_argument(
        "--max-streams-per-tenant",
        type=int,
        default=256,
        metavar="N",
        help="open event streams one tenant may hold; more get RESOURCE_EXHAUSTED (default 256)",
    )
    parser.add_argument(
        "--max-anonymous-streams-per-address",
        type=int,
        default=1024,
        metavar="N",
        help="streams one client address may hold on the services that need no token "
        "(reflection, health watches); more get RESOURCE_EXHAUSTED (default 1024)",
    )
    parser.add_argument(
        "--grace", type=float, default=10.0, help="seconds in-flight calls get at shutdown"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning"],
        help="least severe log lines written to stderr (default info)",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="run semantic memory: index the ledger into Qdrant and answer SearchMemory "
        "(needs the 'memory' extra; folder: <ledger folder>/memory unless --memory-url)",
    )
    add_memory_option(parser)
    parser.add_argument("--json", action="store_true", help="print the ready line as JSON")
    add_model_options(parser)  # the model ask and fix missions run on
    parser.set_defaults(handler=run)


def _refusal(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags, before anything is opened; None if nothing."""
    for flag, value in (
        ("--workers", args.workers),
        ("--max-workspace-files", args.max_workspace_files),
        ("--max-anonymous-streams-per-address", args.max_anonymous_streams_per_address),
        ("--max-streams-per-tenant", args.max_streams_per_tenant),
    ):
        if value < 1:
            return f"{flag} must be at least 1, got {value}"
    if args.workspaces is not None and not args.workspaces.is_dir():
        return f"--workspaces: {args.workspaces} is not a folder"
    if args.http is not None:
        from swarm.web import WebConfig, WebConfigError, check

        try:
            check(WebConfig(args.http, tls_cert=args.tls_cert, tls_key=args.tls_key))
        except WebConfigError as exc:
            return str(exc)
    return None


def _config(args: argparse.Namespace) -> Any:
    from swarm.daemon import DaemonConfig

    memory = None
    if args.memory or args.memory_url:
        memory = memory_location(args)

    return DaemonConfig(
        listen=args.listen,
        metrics_listen=args.metrics,
        workspaces=args.workspaces,
        max_workspace_files=args.max_workspace_files,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        max_workers=args.workers,
        max_streams_per_tenant=args.max_streams_per_tenant,
        max_anonymous_streams_per_address=args.max_anonymous_streams_per_address,
        grace_s=args.grace,
        model=_model(args),
        memory=memory,
    )


def _model(args: argparse.Namespace) -> dict[str, Any] | None:
    """The model ask and fix missions run on, when --model-url names one."""
    if not args.model_url and not args.model:
        return None
    if not args.model_url or not args.model:
        raise MissionError("a daemon's model needs both --model-url and --model")
    from swarm.brain import make_brain

    settings = model_settings(args)
    make_brain("openai", **settings)  # refuse bad settings before the daemon starts
    return settings


def _start_web(args: argparse.Namespace, daemon: Any) -> Any:
    """Mission control on ``--http``, on the daemon's loop, reading through its gRPC port."""
    from swarm.web import Daemon as Api
    from swarm.web import WebConfig, WebServer, api_target, build_app

    config = WebConfig(args.http, tls_cert=args.tls_cert, tls_key=args.tls_key)
    tls = config.tls
    target = api_target(args.listen.rpartition(":")[0], daemon.port, tls=tls)
    api = Api(target, tls_root=args.tls_cert if tls else None)
    web = WebServer(build_app(api, secure_cookie=tls), config)
    web.start(daemon.loop)
    return web


def _say_ready(args: argparse.Namespace, daemon: Any, url: str, web: Any) -> None:
    """The ready line on stdout, once the port is bound and every service answers."""
    address = f"{args.listen.rpartition(':')[0]}:{daemon.port}"
    if args.json:
        ready = {"ready": True, "listen": address, "port": daemon.port, "ledger": url}
        ready["metrics_port"] = daemon.metrics_port
        if web is not None:
            ready.update(http_port=web.port, http_url=web.url)
        print(json.dumps(ready), flush=True)
        return
    metrics = f", metrics on :{daemon.metrics_port}" if daemon.metrics_port else ""
    http = f", mission control on {web.url}" if web is not None else ""
    print(f"swarm serve: ready, listening on {address}{metrics}{http} (ledger {url})", flush=True)


def run(args: argparse.Namespace) -> int:
    from swarm.daemon import ConfigError, Daemon, configure_logging

    configure_logging(args.log_level)
    problem = _refusal(args)
    if problem is not None:
        return fail(problem)
    from swarm.memory import MemoryFailure

    try:
        config = _config(args)
    except (MissionError, BrainError, MemoryFailure) as exc:
        return fail(str(exc))
    url = args.context.ledger_url
    try:
        led = args.context.open()
    except ledger.LedgerError as exc:
        return fail(f"--ledger {url}: {exc}")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        daemon = Daemon(led, config)
        daemon.start()
    except (ConfigError, MemoryFailure) as exc:
        led.close()
        return fail(str(exc))
    web = None
    if args.http is not None:
        from swarm.web import WebConfigError

        try:
            web = _start_web(args, daemon)
        except (WebConfigError, OSError) as exc:  # a port in use: say so, stop clean
            daemon.stop()
            led.close()
            return fail(str(exc))
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _say_ready(args, daemon, url, web)
    while not stop.wait(3600):
        pass
    if web is not None:
        web.stop()
    daemon.stop()
    if daemon.unfinished:
        # Their threads are still inside a step. Closing the ledger under them, or letting
        # the interpreter finalise around them, can crash the process (a loaded test run saw
        # SIGSEGV here). Leave as a crash would: each step is one transaction, so the last
        # committed step stands, the open one rolls back, and the next daemon resumes them.
        print("swarm serve: stopped", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0)
    led.close()
    print("swarm serve: stopped", file=sys.stderr, flush=True)
    return 0
