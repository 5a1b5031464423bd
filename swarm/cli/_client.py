"""The ``Client`` a command runs against, chosen once from its options.

``run_client(args, body)`` runs ``body(client)`` with a ``GrpcClient`` when
the command was given ``--server`` (``swarm.cli._remote`` reads the token and
builds the channel), else a ``LocalClient`` on the ledger of the command's
context; a ``ClientError`` is printed as ``swarm: error: ...`` (exit code 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

import ledger
from swarm.cli._common import fail, open_from_args
from swarm.cli._remote import run_remote, tenant_of
from swarm.client import Client, ClientError, GrpcClient, LocalClient


def run_client(
    args: argparse.Namespace,
    body: Callable[[Client], int],
    *,
    local_only: Iterable[str] = ("ledger",),
) -> int:
    """``body``'s exit code, run against the daemon (--server) or this machine's ledger.

    ``local_only`` names options (by dest) refused with --server (see ``run_remote``).
    """
    if getattr(args, "server", None):
        return run_remote(
            args, lambda remote: body(GrpcClient(remote, tenant_of(args))), local_only=local_only
        )
    try:
        with open_from_args(args) as led:
            return body(local_client(args, led))
    except ClientError as exc:
        return fail(str(exc))


def local_client(args: argparse.Namespace, led: ledger.Ledger) -> LocalClient:
    """A LocalClient on ``led`` for the context's tenant, replaying as the options say."""
    snapshots: dict[str, Any] = {}
    if hasattr(args, "snapshot_every"):
        snapshots = {"snapshot_every": args.snapshot_every, "take_snapshots": not args.no_snapshot}
    if hasattr(args, "memory_url"):  # swarm memory: where this ledger's memory lives
        from swarm.cli._memory import memory_location

        snapshots["memory_location"] = memory_location(args)
    return LocalClient(led, args.tenant, **snapshots)
