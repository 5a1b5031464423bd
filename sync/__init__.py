"""Edge → hub shipping: store-and-forward, in order, exactly once.

A laptop keeps an embedded ledger and works offline; ``Shipper`` ships what
it recorded to a hub ledger (FoundationDB in production, any ledger URL in
tests) whenever it can reach it::

    grant = SyncGrant.of(["acme"], holder="token 3fa2c1")  # the CLI checks a sync token
    shipper = Shipper(edge, hub, hub_name="hq", grant=grant)
    report = shipper.ship()            # everything the edge holds now
    shipper.follow(stop=stop_event)    # keep shipping as appends land (watches)
    sync_status(edge, "hq")            # lag, last shipped versionstamp, open conflicts

Exactly once: events keep their ids and the hub lands an id once; the edge's
cursor (``sync.to.<hub>``) moves only after the hub committed. An edge change
to a file the hub changed meanwhile is not shipped over it: a Conflict
signal records both versions on hub and edge (``conflicts``,
``resolve_conflict``). The hub trusts no edge: every event is checked with
the ledger's validators and the edge's hash chain before it lands, and only
the grant's tenants are written (``_screen``, ``_chain``, ``_grant``).
Errors derive from ``SyncError`` (tree in ``sync._errors``).
"""

from __future__ import annotations

from sync._conflict import ConflictRecord, conflict_id, conflicts
from sync._cursor import CURSOR_PREFIX, Cursor, hub_name_for, load_cursor
from sync._errors import (
    CorruptCursor,
    EdgeTampered,
    HubUnavailable,
    InvalidSyncArgument,
    ShipRefused,
    SyncError,
    Unauthorised,
    UnreadableConflict,
)
from sync._grant import RESERVED_TENANT_PREFIX, SyncGrant, is_reserved
from sync._resolve import resolve_conflict
from sync._retry import RetryPolicy, is_transient
from sync._screen import HOST_ATTRIBUTES, MAX_AHEAD_US, Refusal
from sync._ship import (
    DEFAULT_BATCH_BYTES,
    DEFAULT_BATCH_EVENTS,
    Progress,
    ProjectReport,
    Shipper,
    SyncReport,
)
from sync._status import ProjectStatus, project_status, sync_status

__all__ = [
    "CURSOR_PREFIX",
    "DEFAULT_BATCH_BYTES",
    "DEFAULT_BATCH_EVENTS",
    "HOST_ATTRIBUTES",
    "MAX_AHEAD_US",
    "RESERVED_TENANT_PREFIX",
    "ConflictRecord",
    "CorruptCursor",
    "Cursor",
    "EdgeTampered",
    "HubUnavailable",
    "InvalidSyncArgument",
    "Progress",
    "ProjectReport",
    "ProjectStatus",
    "Refusal",
    "RetryPolicy",
    "ShipRefused",
    "Shipper",
    "SyncError",
    "SyncGrant",
    "SyncReport",
    "Unauthorised",
    "UnreadableConflict",
    "conflict_id",
    "conflicts",
    "hub_name_for",
    "is_reserved",
    "is_transient",
    "load_cursor",
    "project_status",
    "resolve_conflict",
    "sync_status",
]
