"""Which gRPC status each error becomes: one table, read top to bottom, first match wins.

A subclass sits above its base (``UnknownToken`` before ``TokenError``,
``UnknownPoint`` before ``BadPoint`` before ``ReplayError``). An error that
matches no row is a bug in the daemon: INTERNAL, with only the error's type
in the message (its text may hold what the caller must not see).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass

import grpc

import ledger
import ops
import replay
from swarm.brain import BrainError
from swarm.daemon._call import Abort
from swarm.daemon._errors import PermissionDenied, TokenError, Unauthenticated, UnknownToken
from swarm.daemon._missions import MissionRefused
from swarm.daemon._workspaces import WorkspaceRefused
from swarm.memory import InvalidMemoryQuery, MemoryFailure
from swarm.missions import InvalidMission, InvalidPlan, UnknownMission

Code = grpc.StatusCode


def _own_code(exc: Exception) -> Code:
    """The status an error names itself: ``Abort.code``, or a refusal's status name."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, Code) else getattr(Code, str(code))


def _own_message(exc: Exception) -> str:
    return exc.message if isinstance(exc, Abort) else str(exc)


def _named(exc: Exception) -> str:
    """A ledger error's message leads with its type, so the client can tell them apart."""
    return f"{type(exc).__name__}: {exc}"


def _too_long(exc: Exception) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG


def _nul(exc: Exception) -> bool:
    return "null byte" in str(exc)


@dataclass(frozen=True, slots=True)
class Row:
    """Errors of ``kind`` (and ``when`` they match) end the call with ``code`` and ``message``."""

    kind: type[Exception] | tuple[type[Exception], ...]
    code: Code | Callable[[Exception], Code]
    message: str | Callable[[Exception], str] = str
    when: Callable[[Exception], bool] | None = None

    def matches(self, exc: Exception) -> bool:
        return isinstance(exc, self.kind) and (self.when is None or self.when(exc))

    def status(self, exc: Exception) -> tuple[Code, str]:
        code = self.code if isinstance(self.code, Code) else self.code(exc)
        message = self.message if isinstance(self.message, str) else self.message(exc)
        return code, message


STATUS: tuple[Row, ...] = (
    # Raised by the daemon itself, naming their own status.
    Row((Abort, MissionRefused, WorkspaceRefused), _own_code, _own_message),
    Row(Unauthenticated, Code.UNAUTHENTICATED),
    Row(PermissionDenied, Code.PERMISSION_DENIED),
    Row(UnknownToken, Code.NOT_FOUND),
    Row(TokenError, Code.INVALID_ARGUMENT),
    # replay: points in time and folds of the log
    Row(replay.UnknownPoint, Code.NOT_FOUND),
    Row(replay.BadPoint, Code.INVALID_ARGUMENT),
    Row(replay.ChainBroken, Code.DATA_LOSS),
    Row(replay.ReplayError, Code.FAILED_PRECONDITION),
    # audit queries
    Row(ops.BadQuery, Code.INVALID_ARGUMENT),
    Row(ops.AuditError, Code.FAILED_PRECONDITION),
    # missions and their requests
    Row(UnknownMission, Code.NOT_FOUND),
    Row((InvalidMission, InvalidPlan, BrainError), Code.INVALID_ARGUMENT),
    # semantic memory (an unknown project is the ledger's NotFound, below)
    Row(InvalidMemoryQuery, Code.INVALID_ARGUMENT),
    Row(MemoryFailure, Code.FAILED_PRECONDITION),
    # the ledger
    Row((ledger.InvalidArgument, ledger.LimitExceeded), Code.INVALID_ARGUMENT, _named),
    Row(ledger.NotFound, Code.NOT_FOUND, _named),
    Row(ledger.AlreadyExists, Code.ALREADY_EXISTS, _named),
    Row(ledger.LockError, Code.FAILED_PRECONDITION, _named),
    Row((ledger.HashChainBroken, ledger.Conflict), Code.ABORTED, _named),
    Row(ledger.CorruptStore, Code.DATA_LOSS, _named),  # damaged records, lost commits
    Row(ledger.StorageError, Code.UNAVAILABLE, _named),
    # A name the file system cannot hold, reached before a handler's own check: the
    # request is wrong, not the daemon (the path itself is left out: it is the long part).
    Row(
        OSError,
        Code.INVALID_ARGUMENT,
        "a name in the request is too long for a file",
        _too_long,
    ),
    Row(ValueError, Code.INVALID_ARGUMENT, "a name in the request holds a NUL character", _nul),
)


def status_of(exc: Exception) -> tuple[grpc.StatusCode, str]:
    """The gRPC status and (unclipped) message for ``exc``: its row of ``STATUS``, or INTERNAL."""
    for row in STATUS:
        if row.matches(exc):
            return row.status(exc)
    return Code.INTERNAL, f"internal error ({type(exc).__name__})"
