"""The errors sync raises. Callers never see a ledger or driver exception unwrapped.

::

    SyncError
    ├── InvalidSyncArgument     bad input (same store both sides, bad hub name, batch size)
    ├── CorruptCursor           the edge's stored cursor cannot be read; nothing was shipped
    ├── UnreadableConflict      a conflict signal whose record sync cannot read
    ├── HubUnavailable          transient errors outlasted the retry budget; cursor unchanged
    ├── ShipRefused             the hub refused a batch for good; cursor unchanged
    ├── Unauthorised            the credential does not cover a tenant (or is missing,
    │                           unknown, revoked); nothing of that tenant was shipped
    └── EdgeTampered            the edge's hash chain does not hold at an event; the
                                events before it shipped, nothing from it on

An event the hub refuses (its rule named) is not an exception: it stops its
project and is reported (``ProjectReport.stopped``), or with ``skip_refused``
is recorded on the hub and skipped; see ``sync._screen``.

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


class UnreadableConflict(SyncError, ValueError):
    """A conflict signal whose record is not one sync writes (names the event and why)."""

    def __init__(self, event_id: str, detail: str) -> None:
        super().__init__(f"conflict record {event_id[:80]!r} is unreadable: {detail}")
        self.event_id = event_id
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


class Unauthorised(SyncError):
    """The sync's credential does not allow writing ``tenant`` on the hub."""

    def __init__(self, tenant: str, reason: str) -> None:
        where = f"tenant {tenant!r}: " if tenant else ""
        super().__init__(f"not authorised: {where}{reason}; nothing was shipped for it")
        self.tenant = tenant
        self.reason = reason


class EdgeTampered(SyncError):
    """The edge's log does not follow its own hash chain; it is refused, not laundered."""

    def __init__(self, tenant: str, project: str, versionstamp: str, detail: str) -> None:
        super().__init__(
            f"{tenant}/{project}: the edge's log is damaged or tampered at event {versionstamp}: "
            f"{detail}; nothing from it on was shipped (run `swarm audit verify` on the edge)"
        )
        self.tenant = tenant
        self.project = project
        self.versionstamp = versionstamp
        self.detail = detail
