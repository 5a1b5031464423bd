"""``swarm mcp``: serve the swarm's missions, replay, audit and locks as MCP tools.

    swarm mcp --repo PATH                      # stdio, on the repository's embedded ledger
    swarm mcp --server HOST:PORT               # stdio, through a daemon (`swarm serve`)
    swarm mcp --repo PATH --http 127.0.0.1:8765  # streamable HTTP at http://HOST:PORT/mcp

An agentic IDE (Claude Code, Cursor, VS Code, Zed) starts it and talks the
Model Context Protocol over its stdin and stdout; ``--http`` serves the
streamable HTTP transport instead, on loopback unless another host is named.
It acts for one bearer token ($SWARM_TOKEN or --token-file): through a daemon
the daemon checks it on every call; on the embedded ledger it is checked
against the ledger's token store (make one with `swarm admin token create
--repo PATH --role ide`), with the daemon's rules. Every tool works on that
token's tenant only. Local missions run in this process on the repository.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from swarm.cli._common import fail, open_from_args
from swarm.cli._context import DEFAULT_TENANT, add_context_options
from swarm.cli._remote import (
    TOKEN_ENV,
    Given,
    RemoteRefused,
    _token,
    add_server_options,
    run_remote,
    tenant_of,
)

LOOPBACK = "127.0.0.1"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "mcp",
        help="serve missions, replay, audit and locks as MCP tools for an agentic IDE",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_context_options(parser, read_only=True, json=False)
    # An untyped --tenant is the token's own (Given), on the embedded ledger too.
    parser.set_defaults(tenant=Given(DEFAULT_TENANT))
    add_server_options(parser)
    parser.add_argument(
        "--http",
        metavar="[HOST:]PORT",
        help=f"serve streamable HTTP at http://HOST:PORT/mcp instead of stdio (host: {LOOPBACK})",
    )
    parser.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="export the spans of missions, tickets and calls to this OTLP/HTTP collector "
        "(default: $OTEL_EXPORTER_OTLP_ENDPOINT; neither: nothing is exported)",
    )
    parser.set_defaults(handler=run)


def http_address(text: str) -> tuple[str, int]:
    """(host, port) of ``--http``: ``PORT`` (on loopback) or ``HOST:PORT``."""
    host, sep, port = text.rpartition(":")
    if not port.isdigit() or not 0 < int(port) <= 65535 or (sep and not host):
        raise RemoteRefused(f"--http {text!r} is not [HOST:]PORT (a port from 1 to 65535)")
    return (host or LOOPBACK), int(port)


def run(args: argparse.Namespace) -> int:
    try:
        address = http_address(args.http) if args.http else None
        if args.server:
            return run_remote(args, lambda remote: _serve_remote(args, remote, address))
        return _serve_local(args, address)
    except RemoteRefused as exc:
        return fail(str(exc))


def _serve_remote(args: argparse.Namespace, remote: Any, address: tuple[str, int] | None) -> int:
    from swarm.mcp import bind_remote, build_server

    binding = bind_remote(remote, tenant=tenant_of(args) or None, project=args.project or "")
    return _run(build_server(binding), address, _token(args) if address else "")


def _serve_local(args: argparse.Namespace, address: tuple[str, int] | None) -> int:
    from swarm.mcp import BindingRefused, bind_local, build_server

    if not (args.token_file or args.token or os.environ.get(TOKEN_ENV)):
        return fail(
            f"swarm mcp needs a bearer token: set ${TOKEN_ENV} or pass --token-file PATH "
            "(make one with `swarm admin token create --repo PATH --role ide`)"
        )
    token = _token(args)
    with open_from_args(args) as led:
        try:
            binding = bind_local(
                led,
                token,
                tenant=tenant_of(args) or None,
                project=args.project,
                repo=Path(args.repo),
            )
        except BindingRefused as exc:
            return fail(str(exc))
        return _run(build_server(binding), address, token)


def _run(server: Any, address: tuple[str, int] | None, token: str) -> int:
    """Serve until the client leaves (stdio) or the process is stopped (HTTP)."""
    if address is None:
        server.run()
        return 0
    from swarm.mcp import serve_http

    host, port = address
    print(
        f"swarm mcp: serving streamable HTTP at http://{host}:{port}/mcp "
        "(requests must carry the same bearer token)",
        file=sys.stderr,
        flush=True,
    )
    serve_http(server, token, host, port)
    return 0
