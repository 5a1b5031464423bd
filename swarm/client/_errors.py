"""The one error a ``Client`` raises: a refusal, named by a gRPC status and a reason.

::

    ClientError          code (a gRPC status name: NOT_FOUND, INVALID_ARGUMENT, ...), detail
    └── Detached         Ctrl-C while following a daemon's mission: it goes on there

``LocalClient`` turns the domain's errors into it with the status the daemon
would answer with (``swarm.daemon._status``), so a script sees the same
``code`` and ``detail`` whichever client it used; ``str()`` is the line the
CLI prints (through a daemon it leads with the status, as before).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ledger
import ops
import replay
from swarm.brain import BrainError
from swarm.client._files import BadRequest
from swarm.memory import InvalidMemoryQuery, MemoryBusy, MemoryFailure, MemoryUnavailable
from swarm.missions import InvalidMission, InvalidPlan, MissionError, UnknownMission

# A local error's status: the daemon's STATUS table for the errors a local call can meet.
_CODES: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str], ...] = (
    ((UnknownMission, replay.UnknownPoint, ledger.NotFound), "NOT_FOUND"),
    (
        (ops.BadQuery, InvalidMission, InvalidPlan, BrainError, replay.BadPoint, BadRequest),
        "INVALID_ARGUMENT",
    ),
    (InvalidMemoryQuery, "INVALID_ARGUMENT"),
    ((MemoryUnavailable, MemoryBusy, MemoryFailure), "FAILED_PRECONDITION"),
    ((replay.ChainBroken, ledger.CorruptStore), "DATA_LOSS"),
    (ledger.InvalidArgument, "INVALID_ARGUMENT"),
    (ledger.AlreadyExists, "ALREADY_EXISTS"),
    ((MissionError, replay.ReplayError, ops.AuditError, ledger.LedgerError), "FAILED_PRECONDITION"),
    (OSError, "FAILED_PRECONDITION"),
)
#: What a local call may raise that becomes a ClientError.
LOCAL_ERRORS = (
    MissionError,
    BrainError,
    ops.AuditError,
    replay.ReplayError,
    ledger.LedgerError,
    MemoryFailure,
)


class ClientError(Exception):
    """A call refused, by the client or by what it called: ``code`` and ``detail`` say why."""

    def __init__(self, code: str, detail: str, *, shown: str | None = None) -> None:
        super().__init__(shown if shown is not None else detail)
        self.code = code
        self.detail = detail


class Detached(ClientError):
    """The user stopped following a mission (Ctrl-C); the daemon runs it on."""

    def __init__(self, mission_id: str) -> None:
        super().__init__("CANCELLED", f"stopped following mission {mission_id}")
        self.mission_id = mission_id


def local_error(exc: Exception) -> ClientError:
    """``exc`` (a domain error of a local call) as a ClientError, with the daemon's status."""
    for kinds, code in _CODES:
        if isinstance(exc, kinds):
            return ClientError(code, str(exc))
    return ClientError("UNKNOWN", str(exc))


@contextlib.contextmanager
def refused() -> Iterator[None]:
    """A domain error (or a file that cannot be read or written) as ``ClientError``."""
    try:
        yield
    except (*LOCAL_ERRORS, OSError) as exc:
        raise local_error(exc) from None
