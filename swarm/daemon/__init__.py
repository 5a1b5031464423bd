"""The swarm daemon: ``swarm.v1.Swarm`` over gRPC, bearer tokens per tenant, metrics and logs.

``Daemon(ledger, DaemonConfig(...))`` builds the grpc.aio server (Swarm,
health and reflection services): ``SwarmService`` has one method per RPC,
and the interceptors (``interceptors()``) do what every call needs: the
token, the caps, the thread pool, the status (one table, ``STATUS``), the
log line and the metrics;
``start()`` binds it, ``stop()`` drains it. Tokens are kept by
``TokenStore`` in the ledger's system tenant. Errors derive from ``DaemonError``;
see ``swarm.daemon._errors`` for the tree.
"""

from __future__ import annotations

from swarm.daemon._errors import (
    AuthError,
    ConfigError,
    DaemonError,
    InvalidExpiry,
    InvalidRole,
    PermissionDenied,
    TokenError,
    Unauthenticated,
    UnknownToken,
)
from swarm.daemon._interceptors import StreamSlots, interceptors
from swarm.daemon._logging import configure_logging, get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._server import MAX_MESSAGE_BYTES, SERVICE_NAME, Daemon, DaemonConfig
from swarm.daemon._service import SwarmService
from swarm.daemon._status import STATUS, status_of
from swarm.daemon._tokens import SYSTEM_TENANT, TOKENS_PROJECT, Role, TokenInfo, TokenStore

__all__ = [
    "MAX_MESSAGE_BYTES",
    "SERVICE_NAME",
    "STATUS",
    "SYSTEM_TENANT",
    "TOKENS_PROJECT",
    "AuthError",
    "ConfigError",
    "Daemon",
    "DaemonConfig",
    "DaemonError",
    "InvalidExpiry",
    "InvalidRole",
    "Metrics",
    "PermissionDenied",
    "Role",
    "StreamSlots",
    "SwarmService",
    "TokenError",
    "TokenInfo",
    "TokenStore",
    "Unauthenticated",
    "UnknownToken",
    "configure_logging",
    "get_logger",
    "interceptors",
    "status_of",
]
