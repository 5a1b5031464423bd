"""Closing a conflict once someone has merged the two versions."""

from __future__ import annotations

import ledger
from ledger import Ledger
from sync._conflict import conflicts, resolution_event
from sync._errors import InvalidSyncArgument, ShipRefused


def resolve_conflict(
    led: Ledger, tenant: str, project: str, conflict_id: str, *, resolved_by: str, note: str = ""
) -> str:
    """Record that ``conflict_id`` is resolved (on the hub, normally); returns the signal's id.

    The merge itself is an ordinary StateChange made on the hub from its head;
    this only closes the record. Resolving twice is harmless (same id).
    """
    open_ = {c.conflict_id: c for c in conflicts(led, tenant, project, only_open=False)}
    found = open_.get(conflict_id)
    if found is None:
        raise InvalidSyncArgument(f"no conflict {conflict_id!r} in {tenant}/{project}")
    event_id = "resolved-" + conflict_id  # RESOLUTION_ID_PREFIX, as conflict ids start
    event = resolution_event(event_id, conflict_id, found.path, resolved_by, note or "resolved")
    try:
        led.append(tenant, project, [event])
    except ledger.LedgerError as exc:
        raise ShipRefused(tenant, project, "record a resolution", str(exc)) from exc
    return event_id
