"""The errors sync raises. Callers never see a ledger or driver exception unwrapped.

::

    SyncError
    ├── InvalidSyncArgument     bad input (same store both sides, bad hub name, batch size)
    ├── CorruptCursor           the edge's stored cursor cannot be read; nothing was shipped
    ├── HubUnavailable          transient errors outlasted the retry budget; cursor unchanged
    └── ShipRefused             the hub refused a batch for good; cursor unchanged

Each carries its facts as attributes; the ledger error that caused it, if
any, is its ``__cause__``.
"""

from __future__ import annotations


class SyncError(Exception):
    """Root of every error sync raises."""


class InvalidSyncArgument(SyncError, ValueError):
    """The caller passed something sync refuses; nothing was shipped."""


class CorruptCursor(SyncError):
    """The durable cursor on the edge is not one sync wrote."""

    def __init__(self, tenant: str, project: str, name: str, detail: str) -> None:
        super().__init__(f"sync cursor {name!r} of {tenant}/{project} is unreadable: {detail}")
        self.tenant = tenant
        self.project = project
        self.name = name
        self.detail = detail


class HubUnavailable(SyncError):
    """Transient errors kept happening for the whole retry budget."""

    def __init__(self, operation: str, attempts: int, last: str) -> None:
        super().__init__(
            f"{operation}: gave up after {attempts} attempts ({last}); "
            "the cursor is where it was, run sync again to resume"
        )
        self.operation = operation
        self.attempts = attempts
        self.last = last


class ShipRefused(SyncError):
    """The hub (or edge) refused an operation permanently; the cursor did not move."""

    def __init__(self, tenant: str, project: str, operation: str, reason: str) -> None:
        super().__init__(
            f"{tenant}/{project}: {operation} refused: {reason}; the cursor is where it was"
        )
        self.tenant = tenant
        self.project = project
        self.operation = operation
        self.reason = reason
