"""The swarm's ledger: protobuf events in per-tenant subspaces of an ordered KV store.

``open_ledger(url)`` gives a ``Ledger`` on one of three engines behind one
port (``Engine``/``Transaction``): ``memory`` (reference), ``sqlite``
(embedded default), ``fdb`` (FoundationDB). Errors all derive from
``LedgerError``; see ``ledger._errors`` for the tree.
"""

from __future__ import annotations

from ledger._errors import (
    AlreadyExists,
    Conflict,
    CorruptStore,
    EngineUnavailable,
    ForeignStore,
    HashChainBroken,
    InvalidArgument,
    InvalidEvent,
    InvalidId,
    InvalidLedgerUrl,
    InvalidPath,
    KeyTooLarge,
    LedgerError,
    LimitExceeded,
    LockError,
    LockHeld,
    LockNotHeld,
    NotFound,
    StaleFencingToken,
    StorageError,
    TransactionTooLarge,
    TransactionTooOld,
    UnknownBlob,
    UnknownEvent,
    UnknownProject,
    UnknownTenant,
    ValueTooLarge,
    WorkspaceTaken,
)
from ledger._ids import new_event_id
from ledger._ledger import BLOB_CHUNK, MAX_BATCH, Ledger, wall_clock_us
from ledger._port import (
    KEY_LIMIT,
    TRANSACTION_LIMIT,
    TRANSACTION_SECONDS,
    VALUE_LIMIT,
    Engine,
    Transaction,
    VersionstampFuture,
    Watch,
)
from ledger._snapshots import get_blobs, put_snapshot, snapshot_at_or_before, snapshots
from ledger._types import (
    Appended,
    BlobRef,
    FileState,
    Lock,
    ProjectInfo,
    RecordedEvent,
    Versionstamp,
    WorkspaceClaim,
)
from ledger._url import open_engine, open_ledger
from ledger._validate import METADATA_DIRS
from ledger._validate import event_id as check_event_id
from ledger._validate import replicated_event as check_replicated_event
from ledger._validate import sha256_hex as check_sha256_hex
from ledger._validate import workspace_path as check_workspace_path

__all__ = [
    "BLOB_CHUNK",
    "KEY_LIMIT",
    "MAX_BATCH",
    "METADATA_DIRS",
    "TRANSACTION_LIMIT",
    "TRANSACTION_SECONDS",
    "VALUE_LIMIT",
    "AlreadyExists",
    "Appended",
    "BlobRef",
    "Conflict",
    "CorruptStore",
    "Engine",
    "EngineUnavailable",
    "FileState",
    "ForeignStore",
    "HashChainBroken",
    "InvalidArgument",
    "InvalidEvent",
    "InvalidId",
    "InvalidLedgerUrl",
    "InvalidPath",
    "KeyTooLarge",
    "Ledger",
    "LedgerError",
    "LimitExceeded",
    "Lock",
    "LockError",
    "LockHeld",
    "LockNotHeld",
    "NotFound",
    "ProjectInfo",
    "RecordedEvent",
    "StaleFencingToken",
    "StorageError",
    "Transaction",
    "TransactionTooLarge",
    "TransactionTooOld",
    "UnknownBlob",
    "UnknownEvent",
    "UnknownProject",
    "UnknownTenant",
    "ValueTooLarge",
    "Versionstamp",
    "VersionstampFuture",
    "Watch",
    "WorkspaceClaim",
    "WorkspaceTaken",
    "check_event_id",
    "check_replicated_event",
    "check_sha256_hex",
    "check_workspace_path",
    "get_blobs",
    "new_event_id",
    "open_engine",
    "open_ledger",
    "put_snapshot",
    "snapshot_at_or_before",
    "snapshots",
    "wall_clock_us",
]
