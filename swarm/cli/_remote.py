"""Thin clients of a running ``swarm serve``: the channel, the token, deadlines and errors.

A command given ``--server HOST:PORT`` calls the daemon's ``swarm.v1.Swarm``
API instead of opening a ledger::

    add_server_options(parser)                  # --server, --token-file, --tls-ca, ...
    ...
    if args.server:
        return run_remote(args, body)           # body(remote) -> exit code

``run_remote`` reads the bearer token (``--token-file``, $SWARM_TOKEN, or
``--token``, which warns: a secret on the command line shows in ``ps``), builds
the channel (insecure unless ``--tls-ca``), checks that the daemon answers,
runs ``body`` and turns a ``grpc.RpcError`` into ``swarm: error: STATUS:
details`` with exit code 2. A daemon that does not answer yet (one still
starting) is waited for up to ``--deadline``, and every call is made with
gRPC's wait-for-ready, so a connection that drops mid-command is re-made
within the call's deadline instead of failing at once with UNAVAILABLE.
Every unary call carries ``--deadline``; every call of one command carries
the same ``x-trace-id``, so the daemon's log lines of one command can be
found together.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import replay
from swarm.cli._common import fail
from swarm.client import ClientError, Remote
from swarm.client._grpc import describe

if TYPE_CHECKING:  # grpc loads only when a command talks to a daemon (~60 ms of start-up)
    import grpc

TOKEN_ENV = "SWARM_TOKEN"
DEFAULT_DEADLINE_S = 30.0
# A daemon still starting (right after `swarm serve &`) is tried again this often, at most:
# gRPC's own back-off grows to 2 minutes, far past a command's deadline.
_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000)]
# The daemon's own limit (swarm.daemon.MAX_MESSAGE_BYTES); a ReadFile of a large file needs it.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class RemoteRefused(Exception):
    """Something the client itself refuses (a setting, a reply it cannot trust); exit code 2."""


class Given(str):
    """A default the user did not type: ``--tenant`` left out means the token's own tenant.

    It behaves as the plain string on the local path, so that path is unchanged;
    the remote path sees the type and sends an empty tenant instead.
    """

    __slots__ = ()


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--server and what a thin client needs with it: --token, --tls-ca, --tls-server-name,
    --deadline. A ``--tenant`` the parser already has then defaults to the token's tenant."""
    group = parser.add_argument_group(
        "through a daemon",
        "with --server the command runs as a thin client of `swarm serve`; --tenant then "
        "defaults to the token's own tenant",
    )
    group.add_argument(
        "--server",
        metavar="HOST:PORT",
        help="call the daemon's gRPC API there instead of opening a ledger",
    )
    group.add_argument(
        "--token-file",
        metavar="PATH",
        type=Path,
        help=f"read the bearer token from this file (or set ${TOKEN_ENV}); make one with "
        "`swarm admin token create`",
    )
    group.add_argument(
        "--token",
        metavar="SECRET",
        help="bearer token on the command line: discouraged, anyone who can list processes "
        "sees it; prefer --token-file or $" + TOKEN_ENV,
    )
    group.add_argument(
        "--tls-ca",
        metavar="PEM",
        type=Path,
        help="connect with TLS, trusting this CA certificate (default: plain connection)",
    )
    group.add_argument(
        "--tls-server-name",
        metavar="NAME",
        help="the name the server's certificate must carry, when HOST is not it",
    )
    group.add_argument(
        "--deadline",
        type=float,
        default=DEFAULT_DEADLINE_S,
        metavar="S",
        help=f"seconds each request may take, and the longest wait for a daemon that does "
        f"not answer yet (default {DEFAULT_DEADLINE_S:g}); following a running mission is "
        "not bounded by it",
    )
    # No abbreviations: `replay --server … diff --to -1s` must never read as --token(-file).
    parser.allow_abbrev = False
    tenant = parser.get_default("tenant")
    if isinstance(tenant, str):
        parser.set_defaults(tenant=Given(tenant))


def tenant_of(args: argparse.Namespace) -> str:
    """The tenant a request names: ``--tenant`` if typed, else empty (the token's tenant)."""
    tenant = getattr(args, "tenant", None)
    return "" if tenant is None or isinstance(tenant, Given) else str(tenant)


def _token(args: argparse.Namespace) -> str:
    """The bearer token: ``--token-file``, else ``--token`` (with a warning), else $SWARM_TOKEN."""
    path: Path | None = getattr(args, "token_file", None)
    if path is not None and args.token:
        raise RemoteRefused("give --token-file or --token, not both")
    if path is not None:
        token = _read_token_file(path)
    elif args.token:
        print(
            "swarm: warning: --token puts the secret where `ps` shows it to every user of "
            f"this machine; prefer --token-file PATH or ${TOKEN_ENV}",
            file=sys.stderr,
        )
        token = args.token.strip()
    else:
        token = (os.environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise RemoteRefused(
            f"--server needs a bearer token: pass --token-file PATH or set ${TOKEN_ENV} "
            "(an admin makes one with `swarm admin token create --tenant T --role ide`)"
        )
    if not token.isascii() or not token.isprintable() or " " in token:
        raise RemoteRefused("the token is not a bearer token (printable ASCII, no spaces)")
    return token


def _read_token_file(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            raw = fh.read(4097)
            mode = os.fstat(fh.fileno()).st_mode
    except OSError as exc:
        raise RemoteRefused(f"--token-file {path}: {exc.strerror or exc}") from None
    if len(raw) > 4096:
        raise RemoteRefused(f"--token-file {path}: over 4 KB, not a token file")
    if mode & 0o077:
        print(
            f"swarm: warning: --token-file {path} is readable by other users "
            f"(mode {mode & 0o777:o}); chmod 600 it",
            file=sys.stderr,
        )
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise RemoteRefused(f"--token-file {path}: not a bearer token (ASCII)") from None


def _channel(args: argparse.Namespace) -> grpc.Channel:
    import grpc

    target: str = args.server
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise RemoteRefused(f"--server {target!r} is not HOST:PORT")
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        *_RECONNECT,
    ]
    if args.tls_ca is None:
        if args.tls_server_name:
            raise RemoteRefused("--tls-server-name needs --tls-ca (it checks the certificate)")
        return grpc.insecure_channel(target, options=options)
    try:
        ca = Path(args.tls_ca).read_bytes()
    except OSError as exc:
        raise RemoteRefused(f"--tls-ca {args.tls_ca}: {exc.strerror or exc}") from None
    if args.tls_server_name:
        options.append(("grpc.ssl_target_name_override", args.tls_server_name))
    creds = grpc.ssl_channel_credentials(root_certificates=ca)
    return grpc.secure_channel(target, creds, options=options)


def _reachable(channel: grpc.Channel, target: str, timeout: float) -> bool:
    """True once the channel connects, within ``timeout``; False if it never did.

    Refused connections are retried (gRPC's back-off), so a daemon that is
    still binding its port is waited for; the first failure says so on stderr.
    A call would also wait (wait-for-ready), but its message on timing out is
    the transport's; waiting here lets us say what is wrong.
    """
    import grpc

    told = threading.Event()

    def on_state(state: grpc.ChannelConnectivity) -> None:
        if state is grpc.ChannelConnectivity.TRANSIENT_FAILURE and not told.is_set():
            told.set()
            print(
                f"swarm: waiting for the daemon at {target} (up to {timeout:g}s)",
                file=sys.stderr,
                flush=True,
            )

    channel.subscribe(on_state, try_to_connect=True)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        return False
    finally:
        channel.unsubscribe(on_state)
    return True


def run_remote(
    args: argparse.Namespace,
    body: Callable[[Remote], int],
    *,
    local_only: Iterable[str] = ("ledger",),
) -> int:
    """Run ``body`` against the daemon at ``--server``; its exit code, or 2 with a message.

    ``local_only`` names options (by dest) that make no sense through a
    daemon; any of them given is refused rather than silently ignored.
    """
    import grpc

    for dest in local_only:
        if getattr(args, dest, None) not in (None, False, [], ()):
            flag = "--" + dest.replace("_", "-")
            return fail(f"{flag} and --server do not go together: {flag} is for the local path")
    if args.deadline <= 0:
        return fail(f"--deadline must be positive, got {args.deadline:g}")
    try:
        token = _token(args)
        channel = _channel(args)
    except RemoteRefused as exc:
        return fail(str(exc))
    try:
        if not _reachable(channel, args.server, args.deadline):
            hint = (
                "does its certificate chain to --tls-ca and name the host?"
                if args.tls_ca is not None
                else "if it serves TLS, pass --tls-ca"
            )
            return fail(
                f"UNAVAILABLE: the daemon at {args.server} is not reachable after "
                f"{args.deadline:g}s: is `swarm serve` listening there? ({hint})"
            )
        return body(Remote(args.server, channel, token, args.deadline))
    except grpc.RpcError as exc:
        return fail("{}: {}".format(*describe(exc)))
    except (RemoteRefused, ClientError, replay.ReplayError) as exc:
        return fail(str(exc))
    finally:
        _close(channel)


def _close(channel: grpc.Channel) -> None:
    """Close ``channel`` once grpc's connectivity poller (started by ``_reachable``'s
    subscribe) has seen it has no subscribers and stopped: closed under it, the poller's
    next check raises "Channel closed!" in its thread, which the interpreter then prints
    on stderr ("Exception in thread ...") as it exits. It stops within its 0.2 s poll."""
    state = getattr(channel, "_connectivity_state", None)
    deadline = time.monotonic() + 2.0
    while getattr(state, "polling", False) and time.monotonic() < deadline:
        time.sleep(0.01)
    channel.close()
