"""The swarm daemon: ``swarm.v1.Swarm`` over gRPC, bearer tokens per tenant, metrics and logs.

``Daemon(ledger, DaemonConfig(...))`` builds the grpc.aio server (Swarm,
health and reflection services; ``Edge`` wraps every Swarm method);
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
from swarm.daemon._logging import configure_logging, get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._server import MAX_MESSAGE_BYTES, SERVICE_NAME, Daemon, DaemonConfig
from swarm.daemon._service import SwarmService
from swarm.daemon._tokens import SYSTEM_TENANT, TOKENS_PROJECT, Role, TokenInfo, TokenStore
from swarm.daemon._wire import Edge, StreamSlots, status_of

__all__ = [
    "MAX_MESSAGE_BYTES",
    "SERVICE_NAME",
    "SYSTEM_TENANT",
    "TOKENS_PROJECT",
    "AuthError",
    "ConfigError",
    "Daemon",
    "DaemonConfig",
    "DaemonError",
    "Edge",
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
    "status_of",
]
