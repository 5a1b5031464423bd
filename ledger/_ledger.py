"""The Ledger: the swarm's system of record, a façade over one module per job.

Each method resolves its tenant/project scope (``_scope``) and hands it, with
the engine and the clock, to the module that does the work:

=============  ====================================================
``_projects``  tenants, projects, workspace claims
``_append``    the append transaction (with ``_prepare`` and ``_index``)
``_log``       ranges of the log, one event, raw records, cursors
``_history``   file/agent/mission history and the file heads
``_timeindex`` which event a moment in time names
``_locks``     leases and fencing tokens
``_blobs``     content-addressed blobs
``_watches``   waking on the next append
=============  ====================================================

Appends are single transactions: the events, their indexes, the file heads,
the project's clock and head, and each event id's idempotency record commit
together or not at all (see ``_append``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ledger import _append, _blobs, _history, _locks, _log, _projects, _timeindex, _watches
from ledger._append import MAX_BATCH
from ledger._blobs import BLOB_CHUNK
from ledger._port import Engine, Watch
from ledger._scope import TENANTS_DIR, Clock, ProjectScope, Scopes, TenantScope, wall_clock_us
from ledger._scope import names_project as _names_project
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
from proto.swarm.v1 import events_pb2

__all__ = ["BLOB_CHUNK", "MAX_BATCH", "Clock", "Ledger", "wall_clock_us"]


class Ledger:
    """Tenants, projects, their event logs, blobs, file heads, locks and watches.

    Construct it over an engine (see ``open_ledger``); every method is safe to
    call from several threads. ``clock`` returns microseconds since the epoch
    and is the seam tests replace.
    """

    def __init__(self, engine: Engine, clock: Clock = wall_clock_us) -> None:
        self.engine = engine
        self._clock = clock
        self._scopes = Scopes(engine)

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # scopes: what the ledger's own modules (snapshots, chain) build keys from -------
    def tenant_scope(self, tenant: str) -> TenantScope:
        """The resolved keys of an existing tenant (``UnknownTenant`` if absent)."""
        return self._scopes.tenant(tenant)

    def scope(self, tenant: str, project: str) -> ProjectScope:
        """The resolved keys of a project; ``scope.require(tr)`` checks it exists."""
        return self._scopes.project(tenant, project)

    # tenants and projects ---------------------------------------------------
    def create_tenant(self, tenant: str) -> None:
        """Create ``tenant`` (and its directory subspace) if it does not exist."""
        self._scopes.create_tenant(tenant)

    def tenants(self) -> list[str]:
        return self.engine.list_directory(TENANTS_DIR)

    def create_project(
        self,
        tenant: str,
        project: str,
        *,
        exist_ok: bool = False,
        workspace: tuple[str, str] | None = None,
    ) -> ProjectInfo:
        """Create ``project`` under ``tenant``; its log opens with a PROJECT_CREATED signal.

        ``workspace`` = (root, folder name) registers the folder as this project's,
        in the same transaction: :class:`WorkspaceTaken` when another project owns
        that folder or this project owns another (nothing is written then). With
        ``exist_ok``, an existing project without a folder takes this one.
        """
        scope = self._scopes.project(tenant, project)
        return _projects.create_project(
            self.engine, self._scopes, scope, self._clock, exist_ok, workspace
        )

    def workspace_of(self, tenant: str, project: str) -> WorkspaceClaim | None:
        """The workspace folder registered to ``project``, or None."""
        return _projects.workspace_of(self.engine, self._scopes, tenant, project)

    def workspace_owner(self, root: str, name: str) -> WorkspaceClaim | None:
        """Who owns workspace folder ``name`` under ``root``, or None."""
        return _projects.workspace_owner(self.engine, self._scopes, root, name)

    def projects(self, tenant: str) -> list[str]:
        return _projects.projects(self.engine, self._scopes.tenant(tenant))

    @_names_project
    def project_info(self, tenant: str, project: str) -> ProjectInfo:
        return _projects.project_info(self.engine, self._scopes.project(tenant, project))

    # appending ----------------------------------------------------------------
    @_names_project
    def append(
        self,
        tenant: str,
        project: str,
        events: Sequence[events_pb2.SwarmEvent],
        *,
        check_fencing: bool = True,
        cursors: Mapping[str, bytes] | None = None,
    ) -> list[Appended]:
        """Append ``events`` in one transaction and return where each landed.

        An event whose id already landed is not written again; its ``Appended``
        says ``duplicate`` and carries the original versionstamp. The ledger
        sets each event's ``time_us`` to max(requested or now, previous + 1 µs).
        A StateChange must carry the current fencing token of its file's lock
        (or none when the file is unlocked), name the file's current hash as
        its previous hash, and reference a blob that is already stored.
        ``check_fencing=False`` is for replicas (sync) whose tokens came from
        another ledger's locks; the hash chain is still enforced. ``cursors``
        (name -> value, as :meth:`set_cursor`) are written in the same transaction
        (none for an empty batch).
        """
        scope = self._scopes.project(tenant, project)
        return _append.append(self.engine, scope, self._clock, events, check_fencing, cursors or {})

    # reading --------------------------------------------------------------------
    @_names_project
    def read(
        self,
        tenant: str,
        project: str,
        *,
        after: Versionstamp | None = None,
        before: Versionstamp | None = None,
        limit: int = 1000,
        reverse: bool = False,
    ) -> list[RecordedEvent]:
        """Events strictly between ``after`` and ``before``, oldest first unless ``reverse``."""
        scope = self._scopes.project(tenant, project)
        return _log.read(self.engine, scope, after, before, limit, reverse)

    def iter_events(
        self,
        tenant: str,
        project: str,
        *,
        after: Versionstamp | None = None,
        before: Versionstamp | None = None,
        page: int = 1000,
    ) -> Iterator[RecordedEvent]:
        """Every event after ``after`` (and before ``before``), a page per transaction."""
        cursor = after
        while True:
            batch = self.read(tenant, project, after=cursor, before=before, limit=page)
            yield from batch
            if len(batch) < page:
                return
            cursor = batch[-1].versionstamp

    @_names_project
    def raw_records(
        self,
        tenant: str,
        project: str,
        *,
        after: Versionstamp | None = None,
        limit: int = 1000,
    ) -> list[tuple[Versionstamp, bytes, bytes]]:
        """(versionstamp, chain hash, event bytes as stored) in log order, for audits.

        The chain hash of each record is sha256(previous chain + event bytes),
        starting from 32 zero bytes; the bytes are exactly what was hashed.
        """
        scope = self._scopes.project(tenant, project)
        return _log.raw_records(self.engine, scope, after, limit)

    def get_cursor(self, tenant: str, project: str, name: str) -> bytes | None:
        """A named, durable position kept for a reader of this project (sync, tails)."""
        return _log.get_cursor(self.engine, self._scopes.project(tenant, project), name)

    def set_cursor(self, tenant: str, project: str, name: str, value: bytes) -> None:
        _log.set_cursor(self.engine, self._scopes.project(tenant, project), name, value)

    @_names_project
    def get_event(self, tenant: str, project: str, versionstamp: Versionstamp) -> RecordedEvent:
        return _log.get_event(self.engine, self._scopes.project(tenant, project), versionstamp)

    def find_event(self, tenant: str, event_id: str) -> tuple[str, Versionstamp] | None:
        """The project and versionstamp an event id landed at, or None."""
        return _log.find_event(self.engine, self._scopes.tenant(tenant), event_id)

    @_names_project
    def history(
        self,
        tenant: str,
        project: str,
        *,
        path: str | None = None,
        agent: str | None = None,
        mission: str | None = None,
        after: Versionstamp | None = None,
        before: Versionstamp | None = None,
        limit: int = 1000,
        reverse: bool = False,
    ) -> list[RecordedEvent]:
        """Events of one file, agent or mission (exactly one), through its index."""
        which = _history.index_of(path, agent, mission)
        scope = self._scopes.project(tenant, project)
        return _history.history(self.engine, scope, which, after, before, limit, reverse)

    @_names_project
    def versionstamp_at(self, tenant: str, project: str, time_us: int) -> Versionstamp | None:
        """The last event at or before ``time_us``; None if the project had none yet."""
        scope = self._scopes.project(tenant, project)
        return _timeindex.versionstamp_at(self.engine, scope, time_us)

    def head(self, tenant: str, project: str) -> Versionstamp | None:
        """The newest event's versionstamp."""
        return self.project_info(tenant, project).head

    # file heads -------------------------------------------------------------------
    @_names_project
    def file_state(self, tenant: str, project: str, path: str) -> FileState | None:
        return _history.file_state(self.engine, self._scopes.project(tenant, project), path)

    @_names_project
    def files(self, tenant: str, project: str) -> list[FileState]:
        """The materialised head: every live file, in path order."""
        return _history.files(self.engine, self._scopes.project(tenant, project))

    # blobs ------------------------------------------------------------------------
    def put_blob(self, tenant: str, data: bytes) -> BlobRef:
        """Store ``data`` once per tenant, in chunks under the value limit."""
        return _blobs.put(self.engine, self._scopes.tenant(tenant), data)

    def put_blobs(self, tenant: str, items: Sequence[bytes]) -> list[BlobRef]:
        """:meth:`put_blob` for many, in as few transactions as the limits allow.

        One read finds which are new; the new one-chunk blobs then land together, up
        to 7.2 MB a transaction, each meta key with its chunk as in ``put_blob``; a
        bigger blob goes through ``put_blob``. Returns the refs in the order given.
        """
        return _blobs.put_many(self.engine, self._scopes.tenant(tenant), items)

    def has_blob(self, tenant: str, sha256: bytes) -> bool:
        return _blobs.has(self.engine, self._scopes.tenant(tenant), sha256)

    def get_blob(self, tenant: str, sha256: bytes) -> bytes:
        """The blob's bytes, checked against its hash."""
        return _blobs.get(self.engine, self._scopes.tenant(tenant), sha256)

    def get_blobs(self, tenant: str, shas: Sequence[bytes]) -> list[bytes]:
        """:meth:`get_blob` for many, the one-chunk blobs read in batches; each is
        checked against its hash (``UnknownBlob`` for one that is absent)."""
        found = _blobs.get_many(self.engine, self._scopes.tenant(tenant), shas)
        return [found[sha] for sha in shas]

    # locks ----------------------------------------------------------------------------
    @_names_project
    def acquire_lock(
        self,
        tenant: str,
        project: str,
        path: str,
        holder: str,
        ttl_s: float,
        *,
        role: int = events_pb2.AGENT_ROLE_UNSPECIFIED,
        mission_id: str = "",
    ) -> Lock:
        """Lease ``path`` to ``holder`` for ``ttl_s`` seconds and return its fencing token.

        A holder that already has a live lease gets it extended with the same
        token. An expired lease is taken over with a new, larger token. Grants
        and takeovers are Signal events in the file's history, carrying the
        holder's ``role`` and ``mission_id`` when given.
        """
        scope = self._scopes.project(tenant, project)
        behalf = _locks.Behalf(role, mission_id)
        return _locks.acquire(self.engine, scope, self._clock, path, holder, ttl_s, behalf)

    @_names_project
    def renew_lock(
        self, tenant: str, project: str, path: str, holder: str, token: bytes, ttl_s: float
    ) -> Lock:
        """Extend a lease the caller still holds (same token)."""
        scope = self._scopes.project(tenant, project)
        return _locks.renew(self.engine, scope, self._clock, path, holder, token, ttl_s)

    @_names_project
    def release_lock(
        self,
        tenant: str,
        project: str,
        path: str,
        holder: str,
        token: bytes,
        *,
        role: int = events_pb2.AGENT_ROLE_UNSPECIFIED,
        mission_id: str = "",
    ) -> None:
        """Give a lock back; a release by anyone but the token's holder is refused. The
        release's Signal carries ``role`` and ``mission_id`` when given."""
        scope = self._scopes.project(tenant, project)
        behalf = _locks.Behalf(role, mission_id)
        _locks.release(self.engine, scope, self._clock, path, holder, token, behalf)

    @_names_project
    def get_lock(self, tenant: str, project: str, path: str) -> Lock | None:
        """The live lock on ``path``, if any."""
        return _locks.get(self.engine, self._scopes.project(tenant, project), self._clock, path)

    @_names_project
    def locks(self, tenant: str, project: str) -> list[Lock]:
        """Every live lock of the project."""
        return _locks.live(self.engine, self._scopes.project(tenant, project), self._clock)

    # watches ----------------------------------------------------------------------------
    def watch(self, tenant: str, project: str) -> Watch:
        """A watch that fires on the project's next append."""
        return _watches.watch(self.engine, self._scopes.project(tenant, project))

    def wait_for_append(
        self, tenant: str, project: str, after: Versionstamp | None, timeout: float | None
    ) -> bool:
        """Block until the project holds an event after ``after`` (True) or ``timeout`` passes.

        Race-free: the head is read and the watch set in one transaction, so an
        append that lands in between is seen rather than missed.
        """
        scope = self._scopes.project(tenant, project)
        return _watches.wait_for_append(self.engine, scope, after, timeout)
