"""The ledger's errors. Callers never see a driver's exception.

::

    LedgerError
    ├── InvalidArgument             bad input, nothing was changed
    │   ├── InvalidId               tenant, project, agent or event id
    │   ├── InvalidPath             `..`, absolute, NUL, empty component
    │   ├── InvalidLedgerUrl        unknown scheme or malformed URL
    │   ├── UnreadableKey           a read of a key the same transaction versionstamped
    │   └── InvalidEvent            an event the ledger cannot accept as given
    ├── LimitExceeded               FoundationDB's limits, held on every engine
    │   ├── KeyTooLarge
    │   ├── ValueTooLarge
    │   ├── TransactionTooLarge
    │   └── TransactionTooOld
    ├── NotFound
    │   ├── NoLedger                open_ledger(url, create=False) on a store that does not exist
    │   ├── UnknownTenant
    │   ├── UnknownProject
    │   ├── UnknownBlob
    │   └── UnknownEvent
    ├── AlreadyExists               create_* on something that exists
    │   └── WorkspaceTaken          a workspace folder another project owns (or a project
    │                               that owns another folder)
    ├── LockError
    │   ├── LockHeld                someone else holds the lease
    │   ├── LockNotHeld             renew/release by a non-holder or after expiry
    │   └── StaleFencingToken       a StateChange whose token is not the current one
    ├── HashChainBroken             a StateChange whose previous hash is not the file's head
    ├── Conflict                    the engine gave up retrying a transaction
    └── StorageError                the store itself is unusable
        ├── CorruptStore            not a database, or damaged
        │   ├── CorruptRecord       one stored record does not decode: names its key
        │   │   └── ChainMismatch   a record (or the clock) does not fit the project's hash chain
        │   └── LostTransactions    the sqlite file is behind its seal: commits were lost
        ├── ForeignStore            a valid database that is not a swarm ledger
        └── EngineUnavailable       a driver or cluster cannot be reached or loaded

Every error carries its facts as attributes, so callers (the CLI, the gRPC
service) can map them to statuses without parsing messages.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger raises."""


class InvalidArgument(LedgerError, ValueError):
    """The caller passed something the ledger refuses; nothing was changed."""


class InvalidId(InvalidArgument):
    """An identifier (tenant, project, agent, event) is malformed."""

    def __init__(self, kind: str, value: object, reason: str) -> None:
        super().__init__(f"invalid {kind} id {value!r}: {reason}")
        self.kind = kind
        self.value = value
        self.reason = reason


class InvalidPath(InvalidArgument):
    """A file path is not a relative POSIX path inside the project."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"invalid path {path!r}: {reason}")
        self.path = path
        self.reason = reason


class InvalidLedgerUrl(InvalidArgument):
    """A ledger URL names no known engine or is malformed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"invalid ledger URL {url!r}: {reason}")
        self.url = url
        self.reason = reason


class UnreadableKey(InvalidArgument):
    """A read reached a key (or range) the same transaction wrote with a versionstamp:
    its bytes are not known until commit, so FoundationDB refuses the read
    (``accessed_unreadable``, 1036); the local engines' kinder answer hid the bug."""

    def __init__(self, what: str, key: bytes) -> None:
        super().__init__(
            f"{what} {key.hex()} reaches a key this transaction wrote with a versionstamp "
            "(FoundationDB: accessed_unreadable, 1036)"
        )
        self.key = key


class InvalidEvent(InvalidArgument):
    """An event cannot be appended as given (missing id, wrong project, ...)."""

    def __init__(self, event_id: str, reason: str) -> None:
        super().__init__(f"event {event_id or '<no id>'}: {reason}")
        self.event_id = event_id
        self.reason = reason


class LimitExceeded(LedgerError):
    """A FoundationDB limit was exceeded; every engine enforces the same ones."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what} is {size} bytes, over the limit of {limit} bytes")
        self.what = what
        self.size = size
        self.limit = limit


class KeyTooLarge(LimitExceeded):
    """A key is over 10,000 bytes."""


class ValueTooLarge(LimitExceeded):
    """A value is over 100,000 bytes; put large content in a blob."""


class TransactionTooLarge(LimitExceeded):
    """A transaction wrote more than 10,000,000 bytes."""


class TransactionTooOld(LedgerError):
    """A transaction ran longer than the 5 s FoundationDB allows."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"transaction ran {seconds:.2f} s, over the 5 s limit")
        self.seconds = seconds


class NotFound(LedgerError, LookupError):
    """Something named by the caller does not exist."""


class NoLedger(NotFound):
    """A ledger opened with ``create=False`` does not exist; nothing was created."""

    def __init__(self, location: str) -> None:
        super().__init__(f"no ledger at {location}")
        self.location = location


class UnknownTenant(NotFound):
    def __init__(self, tenant: str) -> None:
        super().__init__(f"unknown tenant {tenant!r}")
        self.tenant = tenant


class UnknownProject(NotFound):
    def __init__(self, tenant: str, project: str) -> None:
        super().__init__(f"unknown project {project!r} of tenant {tenant!r}")
        self.tenant = tenant
        self.project = project


class UnknownBlob(NotFound):
    def __init__(self, sha256_hex: str) -> None:
        super().__init__(f"unknown blob {sha256_hex}")
        self.sha256_hex = sha256_hex


class UnknownEvent(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"unknown event {ref}")
        self.ref = ref


class AlreadyExists(LedgerError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} already exists")
        self.what = what


class WorkspaceTaken(AlreadyExists):
    """``tenant``/``project`` asked for workspace ``name`` under ``root``, but the registry
    says otherwise: ``holder_*`` is who owns that folder, or which folder the project owns."""

    def __init__(
        self,
        root: str,
        name: str,
        tenant: str,
        project: str,
        holder_tenant: str,
        holder_project: str,
        holder_name: str,
    ) -> None:
        if (holder_tenant, holder_project) == (tenant, project):
            text = (
                f"project {tenant}/{project} already owns workspace {holder_name!r} under "
                f"{root}; a project has one workspace, so it may not take {name!r}"
            )
        else:
            text = (
                f"workspace {name!r} under {root} belongs to project "
                f"{holder_tenant}/{holder_project}; {tenant}/{project} may not use it"
            )
        LedgerError.__init__(self, text)
        self.what = f"workspace {name!r}"
        self.root = root
        self.name = name
        self.tenant = tenant
        self.project = project
        self.holder_tenant = holder_tenant
        self.holder_project = holder_project
        self.holder_name = holder_name


class LockError(LedgerError):
    """A file lock operation was refused."""


class LockHeld(LockError):
    """Another holder has an unexpired lease on the file."""

    def __init__(self, path: str, holder: str, expires_us: int) -> None:
        super().__init__(f"{path!r} is locked by {holder!r} until t={expires_us}us")
        self.path = path
        self.holder = holder
        self.expires_us = expires_us


class LockNotHeld(LockError):
    """The caller does not hold the lock it tried to renew or release."""

    def __init__(self, path: str, holder: str) -> None:
        super().__init__(f"{holder!r} does not hold the lock on {path!r}")
        self.path = path
        self.holder = holder


class StaleFencingToken(LockError):
    """A StateChange carried a fencing token that is not the file's current one."""

    def __init__(self, path: str, given: bytes, current: bytes | None) -> None:
        cur = current.hex() if current else "none (file not locked)"
        super().__init__(
            f"stale fencing token for {path!r}: given {given.hex() or 'none'}, current {cur}"
        )
        self.path = path
        self.given = given
        self.current = current


class HashChainBroken(LedgerError):
    """A StateChange's previous hash is not the file's current head hash."""

    def __init__(self, path: str, expected: bytes, given: bytes) -> None:
        super().__init__(
            f"{path!r}: StateChange says previous sha256 {given.hex() or 'absent'}, "
            f"but the file's head is {expected.hex() or 'absent'}"
        )
        self.path = path
        self.expected = expected
        self.given = given


class Conflict(LedgerError):
    """A transaction kept conflicting and the engine stopped retrying."""

    def __init__(self, attempts: int, detail: str) -> None:
        super().__init__(f"transaction gave up after {attempts} attempts: {detail}")
        self.attempts = attempts
        self.detail = detail


class StorageError(LedgerError):
    """The store cannot be used."""


class CorruptStore(StorageError):
    def __init__(self, location: str, detail: str) -> None:
        super().__init__(f"{location}: corrupt or not a database ({detail})")
        self.location = location
        self.detail = detail


class CorruptRecord(CorruptStore):
    """One stored record (an event, a file head, a lock, a clock, a blob...) is damaged.

    ``record`` says what it is ("event", "file head", ...), ``ref`` which one (a
    versionstamp, a path, a sha256), ``tenant``/``project`` whose (empty when the
    record belongs to no project or the reader did not know), ``key`` the raw key
    when known. Raised where stored bytes are decoded, so no caller ever sees a
    protobuf ``DecodeError`` or a ``struct.error`` for damaged bytes.
    """

    def __init__(
        self,
        record: str,
        ref: str,
        detail: str,
        *,
        tenant: str = "",
        project: str = "",
        key: bytes = b"",
    ) -> None:
        StorageError.__init__(self, _record_message(record, ref, detail, tenant, project))
        self.location = f"{record} {ref}".strip()
        self.detail = detail
        self.record = record
        self.ref = ref
        self.tenant = tenant
        self.project = project
        self.key = key

    def in_project(self, tenant: str, project: str) -> CorruptRecord:
        """The same error naming the tenant and project it was read for."""
        if self.project:
            return self
        found = type(self).__new__(type(self))
        found.__dict__.update(self.__dict__)
        found.tenant, found.project = tenant, project
        found.args = (_record_message(self.record, self.ref, self.detail, tenant, project),)
        return found


class ChainMismatch(CorruptRecord):
    """A record, or the project clock's count or head, does not fit the hash chain.

    ``position`` is the record's 0-based place in log order (-1 for the clock).
    """

    def __init__(
        self,
        ref: str,
        position: int,
        detail: str,
        *,
        tenant: str = "",
        project: str = "",
        record: str = "event",
    ) -> None:
        super().__init__(record, ref, detail, tenant=tenant, project=project)
        self.position = position


class LostTransactions(CorruptStore):
    """The sqlite file holds fewer commits than its seal recorded after a commit.

    The seal (``<file>-seal``) is written after every commit; a database behind
    it lost committed transactions (a cut or deleted WAL, an older copy put
    back). Writes are refused so the evidence stays; reads still work.
    """

    def __init__(self, location: str, sealed: int, found: int) -> None:
        StorageError.__init__(
            self,
            f"{location}: the file holds commit {found} but its seal says commit {sealed} "
            f"was made: {sealed - found} committed transaction(s) are lost (a cut or deleted "
            f"WAL, or an older copy of the file); writes are refused so the evidence stays. "
            f"To accept the loss, delete {location}-seal",
        )
        self.location = location
        self.detail = f"behind its seal by {sealed - found} commit(s)"
        self.sealed = sealed
        self.found = found


class ForeignStore(StorageError):
    def __init__(self, location: str, detail: str) -> None:
        super().__init__(f"{location}: not a swarm ledger ({detail})")
        self.location = location
        self.detail = detail


class EngineUnavailable(StorageError):
    def __init__(self, engine: str, detail: str) -> None:
        super().__init__(f"{engine} engine unavailable: {detail}")
        self.engine = engine
        self.detail = detail


def _record_message(record: str, ref: str, detail: str, tenant: str, project: str) -> str:
    where = f" of project {project!r} (tenant {tenant!r})" if project else ""
    return f"corrupt {record} {ref}{where}: {detail}".replace("  ", " ")
