"""The Ledger: the swarm's system of record, written once over the KV port.

Appends are single transactions: the events, their time/path/agent/mission
indexes, the materialised file heads, the project's clock and head, and each
event id's idempotency record commit together or not at all. Only the
project's clock is a shared key an append reads; everything else is a blind
or versionstamped write, so appends to one project serialise on one key and
appends to different projects never conflict.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar, cast

from ledger import _codec as codec
from ledger import _validate as validate
from ledger._errors import (
    AlreadyExists,
    CorruptRecord,
    CorruptStore,
    HashChainBroken,
    InvalidArgument,
    InvalidEvent,
    LockHeld,
    LockNotHeld,
    StaleFencingToken,
    UnknownBlob,
    UnknownEvent,
    UnknownProject,
    UnknownTenant,
    ValueTooLarge,
    WorkspaceTaken,
)
from ledger._ids import new_event_id
from ledger._keys import (
    INCOMPLETE,
    IX_AGENT,
    IX_MISSION,
    IX_PATH,
    VERSIONSTAMP_CODE,
    ProjectKeys,
    TenantKeys,
    WorkspaceKeys,
    strinc,
    unpack,
    vs_element,
    vs_from_key,
)
from ledger._port import VALUE_LIMIT, Engine, Transaction, VersionstampFuture, Watch
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

Clock = Callable[[], int]
sha256 = hashlib.sha256

TENANTS_DIR = ("swarm", "tenants")
WORKSPACES_DIR = ("swarm", "workspaces")
BLOB_CHUNK = 90_000
MAX_BATCH = 10_000
MAX_READ = 10_000
_BLOB_CHUNKS_PER_TRANSACTION = 80  # 7.2 MB, under the 10 MB transaction limit
_RECORD_OVERHEAD = 1 + codec.CHAIN_BYTES + 11  # format byte, chain, time field
# Unfolded index rows are folded into 'ix' once their weight (bytes, plus a charge
# per row) passes this: it bounds what a history query decodes and what a fold rewrites.
_FOLD_WEIGHT = 16_384
_UNFOLDED_ROW_WEIGHT = 64
_UNFOLDED_PART_BYTES = 60_000
_FOLDED_ROW_BYTES = 60_000
_LOCK_SIGNALS = frozenset(
    {
        events_pb2.SIGNAL_KIND_LOCK_ACQUIRED,
        events_pb2.SIGNAL_KIND_LOCK_RELEASED,
        events_pb2.SIGNAL_KIND_LOCK_EXPIRED,
    }
)


def wall_clock_us() -> int:
    """Microseconds since the Unix epoch (the default clock)."""
    return time.time_ns() // 1000


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _names_project(method: _Method) -> _Method:
    """Name the tenant and project in a ``CorruptRecord`` that ``method`` met reading theirs
    (the codec that finds the damage knows the record, not whose it is)."""

    @functools.wraps(method)
    def named(self: Ledger, tenant: str, project: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, tenant, project, *args, **kwargs)
        except CorruptRecord as exc:
            raise exc.in_project(tenant, project) from None

    return cast(_Method, named)


class _Prepared(NamedTuple):
    """An event validated and serialised outside the transaction (which may run twice).

    A NamedTuple rather than a dataclass: one is built per appended event.
    """

    event_id: str
    body: bytes
    requested_us: int
    agent: str
    mission: str
    path: str  # a StateChange's path or a lock Signal's subject; else ""
    change: events_pb2.StateChange | None


class Ledger:
    """Tenants, projects, their event logs, blobs, file heads, locks and watches.

    Construct it over an engine (see ``open_ledger``); every method is safe to
    call from several threads. ``clock`` returns microseconds since the epoch
    and is the seam tests replace.
    """

    def __init__(self, engine: Engine, clock: Clock = wall_clock_us) -> None:
        self.engine = engine
        self._clock = clock
        self._prefixes: dict[str, bytes] = {}
        self._workspace_prefix: bytes | None = None
        self._project_keys: dict[tuple[str, str], tuple[TenantKeys, ProjectKeys]] = {}

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # tenants and projects ---------------------------------------------------
    def create_tenant(self, tenant: str) -> None:
        """Create ``tenant`` (and its directory subspace) if it does not exist."""
        validate.tenant_id(tenant)
        prefix = self.engine.open_directory((*TENANTS_DIR, tenant), create=True)
        assert prefix is not None
        self._prefixes[tenant] = prefix

    def tenants(self) -> list[str]:
        return self.engine.list_directory(TENANTS_DIR)

    def _tenant(self, tenant: str) -> TenantKeys:
        prefix = self._prefixes.get(tenant)
        if prefix is None:
            validate.tenant_id(tenant)
            prefix = self.engine.open_directory((*TENANTS_DIR, tenant), create=False)
            if prefix is None:
                raise UnknownTenant(tenant)
            self._prefixes[tenant] = prefix
        return TenantKeys(prefix)

    def _keys(self, tenant: str, project: str) -> tuple[TenantKeys, ProjectKeys]:
        # Prefixes never move once allocated, so a project's keys are built once.
        found = self._project_keys.get((tenant, project))
        if found is None:
            tk = self._tenant(tenant)
            validate.project_id(project)
            found = self._project_keys[(tenant, project)] = (tk, tk.project(project))
        return found

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
        tk, pk = self._keys(tenant, project)
        now = self._clock()
        claim = None
        wk = None
        attributes = {}
        if workspace is not None:
            root, name = validate.workspace(*workspace)
            claim = WorkspaceClaim(root, name, tenant, project, now)
            wk = self._workspace_keys()
            attributes = {"workspace": name}
        created = _system_event(
            tenant,
            project,
            events_pb2.Signal(
                kind=events_pb2.SIGNAL_KIND_PROJECT_CREATED, subject=project, attributes=attributes
            ),
        )
        prepared = [self._prepare(tenant, project, created)]

        def fn(tr: Transaction) -> bool:
            exists = tr.get(tk.project_meta(project)) is not None
            if exists and not exist_ok:
                raise AlreadyExists(f"project {project!r} of tenant {tenant!r}")
            if claim is not None and wk is not None:
                _claim_in(tr, wk, claim)
            if exists:
                return False
            tr.set(tk.project_meta(project), now.to_bytes(8, "big"))
            tr.set(pk.clock, codec.encode_clock(0, 0, codec.GENESIS))
            self._append_in(tr, tk, pk, tenant, project, prepared, now)
            return True

        self.engine.transact(fn)
        return self.project_info(tenant, project)

    def _workspace_keys(self) -> WorkspaceKeys:
        if self._workspace_prefix is None:
            prefix = self.engine.open_directory(WORKSPACES_DIR, create=True)
            assert prefix is not None
            self._workspace_prefix = prefix
        return WorkspaceKeys(self._workspace_prefix)

    def workspace_of(self, tenant: str, project: str) -> WorkspaceClaim | None:
        """The workspace folder registered to ``project``, or None."""
        key = self._workspace_keys().by_project(tenant, project)
        raw = self.engine.read(lambda tr: tr.get(key))
        return codec.decode_claim(raw) if raw is not None else None

    def workspace_owner(self, root: str, name: str) -> WorkspaceClaim | None:
        """Who owns workspace folder ``name`` under ``root``, or None."""
        key = self._workspace_keys().by_name(*validate.workspace(root, name))
        raw = self.engine.read(lambda tr: tr.get(key))
        return codec.decode_claim(raw) if raw is not None else None

    def projects(self, tenant: str) -> list[str]:
        tk = self._tenant(tenant)
        begin, end = tk.projects()
        rows = self.engine.read(lambda tr: tr.get_range(begin, end))
        return [str(_unpack_last(k, len(tk.prefix))) for k, _ in rows]

    @_names_project
    def project_info(self, tenant: str, project: str) -> ProjectInfo:
        tk, pk = self._keys(tenant, project)

        def fn(tr: Transaction) -> ProjectInfo:
            meta = tr.get(tk.project_meta(project))
            clock = tr.get(pk.clock)
            if meta is None or clock is None:
                raise UnknownProject(tenant, project)
            last_us, count, _ = codec.decode_clock(clock)
            last = tr.get_range(*pk.event_span(), limit=1, reverse=True)
            return ProjectInfo(
                tenant=tenant,
                project=project,
                created_us=int.from_bytes(meta, "big"),
                head=vs_from_key(last[0][0]) if last else None,
                events=count,
                last_time_us=last_us,
            )

        return self.engine.read(fn)

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
        tk, pk = self._keys(tenant, project)
        for name in cursors or ():
            validate.agent_id(name)
        if len(events) > MAX_BATCH:
            raise InvalidArgument(f"a batch holds at most {MAX_BATCH} events, got {len(events)}")
        if not events:
            return []
        names = (codec.string_field(2, tenant), codec.string_field(3, project))
        prepared = [self._prepare(tenant, project, ev, names) for ev in events]
        now = self._clock()

        def fn(
            tr: Transaction,
        ) -> tuple[list[tuple[str, int | Versionstamp, bool]], VersionstampFuture | None]:
            out = self._append_in(tr, tk, pk, tenant, project, prepared, now, check_fencing)
            for name, value in (cursors or {}).items():
                tr.set(pk.cursor(name), value)
            return out

        staged, future = self.engine.transact(fn)
        tr_version = future.result() if future is not None else b""
        return [
            Appended(
                eid,
                where if isinstance(where, Versionstamp) else Versionstamp.of(tr_version, where),
                dup,
            )
            for eid, where, dup in staged
        ]

    def _prepare(
        self,
        tenant: str,
        project: str,
        ev: events_pb2.SwarmEvent,
        names: tuple[bytes, bytes] | None = None,
    ) -> _Prepared:
        """Validate and serialise one event; ``names`` are its tenant and project fields."""
        eid = ev.event_id
        if _EVENT_ID_SHAPE(eid) is None:  # the common case in one C call; else say why
            try:
                validate.event_id(eid)
            except InvalidArgument as exc:
                raise InvalidEvent(eid, str(exc)) from None
        if ev.tenant and ev.tenant != tenant:
            raise InvalidEvent(eid, f"belongs to tenant {ev.tenant!r}, not {tenant!r}")
        if ev.project and ev.project != project:
            raise InvalidEvent(eid, f"belongs to project {ev.project!r}, not {project!r}")
        kind = ev.WhichOneof("payload")
        if kind is None:
            raise InvalidEvent(eid, "has no payload (decision, state_change, ticket or signal)")
        if ev.agent_id:
            _known_agent(ev.agent_id)
        if ev.time_us < 0:
            raise InvalidEvent(eid, f"time_us {ev.time_us} is negative")
        requested = ev.time_us
        if requested:  # rare (replicas): keep one time field in the stored bytes
            copy = events_pb2.SwarmEvent()
            copy.CopyFrom(ev)
            copy.time_us = 0
            ev = copy
        path = ""
        change = None
        if kind == "state_change":
            change = ev.state_change
            path = _check_change(eid, change)
        elif kind == "signal" and ev.signal.kind in _LOCK_SIGNALS:
            path = validate.file_path(ev.signal.subject)
        # The envelope names its tenant and project; append the fields the caller
        # left empty to the bytes rather than copying the message.
        body = ev.SerializeToString()
        if names is None:
            names = (codec.string_field(2, tenant), codec.string_field(3, project))
        if not ev.tenant:
            body += names[0]
        if not ev.project:
            body += names[1]
        if len(body) + _RECORD_OVERHEAD > VALUE_LIMIT:
            raise ValueTooLarge(
                f"event {eid} (store large content as a blob and reference it)",
                len(body) + _RECORD_OVERHEAD,
                VALUE_LIMIT,
            )
        return _new_prepared(
            _Prepared, (eid, body, requested, ev.agent_id, ev.mission_id, path, change)
        )

    def _append_in(
        self,
        tr: Transaction,
        tk: TenantKeys,
        pk: ProjectKeys,
        tenant: str,
        project: str,
        prepared: Sequence[_Prepared],
        now: int,
        check_fencing: bool = True,
    ) -> tuple[list[tuple[str, int | Versionstamp, bool]], VersionstampFuture | None]:
        clock = tr.get(pk.clock)
        if clock is None:
            raise UnknownProject(tenant, project)
        last_us, count, chain = codec.decode_clock(clock)
        unfolded = codec.decode_unfolded(clock)
        staged: list[tuple[str, int | Versionstamp, bool]] = []
        in_batch: dict[str, int] = {}
        groups: dict[tuple[str, str], list[int]] = {}
        files: dict[str, bytes] = {}  # path -> head sha256 ("" absent), as this batch leaves it
        locks: dict[str, Lock | None] = {}
        first_us = 0
        uv = 0
        eid_keys = [tk.event_id(p.event_id) for p in prepared]
        # One round of reads for the batch: event ids, then what StateChanges check.
        paths = sorted({p.path for p in prepared if p.change is not None})
        shas = sorted({p.change.new_sha256 for p in prepared if p.change and p.change.new_sha256})
        fence_paths = paths if check_fencing else []
        found = tr.get_many(
            eid_keys
            + [pk.file(x) for x in paths]
            + [pk.lock(x) for x in fence_paths]
            + [tk.blob_meta(x) for x in shas]
        )
        already = found[: len(eid_keys)]
        rest = iter(found[len(eid_keys) :])
        for path in paths:
            raw = next(rest)
            files[path] = codec.decode_file(path, raw).sha256 if raw is not None else b""
        for path in fence_paths:
            raw = next(rest)
            locks[path] = codec.decode_lock(path, raw) if raw is not None else None
        blobs = {sha for sha in shas if next(rest) is not None}
        # Keys and values of the loop, built once per transaction (see incomplete_key).
        event_head = pk.events + VERSIONSTAMP_CODE + INCOMPLETE
        event_offset = struct.pack("<I", len(pk.events) + 1)
        eid_tail = project.encode() + b"\x00\x00\x00\x00"
        for p, eid_key, landed in zip(prepared, eid_keys, already, strict=True):
            if p.event_id in in_batch:
                staged.append((p.event_id, in_batch[p.event_id], True))
                continue
            if landed is not None:
                owner, where = codec.decode_event_id(p.event_id, landed)
                if owner != project:
                    raise InvalidEvent(p.event_id, f"this id already landed in project {owner!r}")
                staged.append((p.event_id, where, True))
                continue
            if p.change is not None:
                self._apply_change(tr, pk, p, uv, files, locks, blobs, now, check_fencing)
            time_us = max(p.requested_us or now, last_us + 1)
            data = codec.stamp_time(p.body, time_us)
            chain = sha256(chain + data).digest()
            uv_bytes = uv.to_bytes(2, "big")
            tr.set_versionstamped_key(
                event_head + uv_bytes + event_offset, codec.RECORD_FORMAT + chain + data
            )
            tr.set_versionstamped_value(eid_key, INCOMPLETE + uv_bytes + eid_tail)
            if p.agent:
                groups.setdefault((IX_AGENT, p.agent), []).append(uv)
            if p.mission:
                groups.setdefault((IX_MISSION, p.mission), []).append(uv)
            if p.path:
                groups.setdefault((IX_PATH, p.path), []).append(uv)
            if uv == 0:
                first_us = time_us
            in_batch[p.event_id] = uv
            staged.append((p.event_id, uv, False))
            last_us = time_us
            count += 1
            uv += 1
        if uv == 0:
            return staged, None
        # The index entries go into one row at the end of the keyspace rather than into
        # one row per (kind, value) spread across it: a commit then dirties a page or
        # two instead of dozens. Every so often those rows are folded into 'ix'.
        if unfolded >= _FOLD_WEIGHT:
            self._fold_index(tr, pk)
            unfolded = 0
        for part, data in enumerate(codec.encode_index_groups(groups, _UNFOLDED_PART_BYTES)):
            tr.set_versionstamped_key(pk.recent_incomplete(part), data)
            unfolded += len(data) + _UNFOLDED_ROW_WEIGHT
        tr.set_versionstamped_key(pk.at_incomplete(first_us, 0), b"")
        tr.set_versionstamped_value(pk.head, codec.stamped_token(b""))
        tr.set(pk.clock, codec.encode_clock(last_us, count, chain, unfolded))
        return staged, tr.get_versionstamp()

    def _apply_change(
        self,
        tr: Transaction,
        pk: ProjectKeys,
        p: _Prepared,
        uv: int,
        files: dict[str, bytes],
        locks: dict[str, Lock | None],
        blobs: set[bytes],
        now: int,
        check_fencing: bool,
    ) -> None:
        """Check one StateChange against the heads, locks and blobs read for the batch."""
        change = p.change
        assert change is not None
        path = p.path
        if check_fencing:
            lock = locks[path]
            token = change.fencing_token
            if lock is not None and lock.live(now):
                if token != lock.token:
                    raise StaleFencingToken(path, token, lock.token)
            elif token:
                raise StaleFencingToken(path, token, None)
        if change.previous_sha256 != files[path]:
            raise HashChainBroken(path, files[path], change.previous_sha256)
        new = change.new_sha256
        if new:
            if new not in blobs:
                raise UnknownBlob(new.hex())
            tail = codec.encode_file_tail(new, change.new_size)
            tr.set_versionstamped_value(pk.file(path), codec.stamped_value(uv, tail))
        else:
            tr.clear(pk.file(path))
        files[path] = new

    def _fold_index(self, tr: Transaction, pk: ProjectKeys) -> None:
        """Fold the unfolded index rows into 'ix': one row per (kind, value) they name,
        keyed by its first versionstamp, holding a segment per transaction."""
        merged: dict[tuple[str, str], list[bytes]] = {}
        for key, data in tr.get_range(*pk.recent_span()):
            tr_version = _recent_versionstamp(pk, key).tr_version
            for kind, value, uvs in codec.decode_index_groups(data):
                segment = codec.folded_segment(tr_version, uvs)
                merged.setdefault((kind, value), []).append(segment)
        for (kind, value), segments in merged.items():
            for row in _fill(segments, _FOLDED_ROW_BYTES):
                first = codec.segment_start(row[0])
                tr.set(pk.index_key(kind, value, first), b"".join(row))
        tr.clear_range(*pk.recent_span())

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
        _, pk = self._keys(tenant, project)
        _check_limit(limit)
        begin, end = pk.event_span()
        if after is not None:
            begin = pk.event(after) + b"\x00"
        if before is not None:
            end = pk.event(before)

        def fn(tr: Transaction) -> list[RecordedEvent]:
            self._require_project(tr, pk, tenant, project)
            rows = tr.get_range(begin, end, limit, reverse)
            if reverse:
                return self._linked(tr, pk, rows[::-1])[::-1]
            return self._linked(tr, pk, rows)

        return self.engine.read(fn)

    def _linked(
        self, tr: Transaction, pk: ProjectKeys, rows: list[tuple[bytes, bytes]]
    ) -> list[RecordedEvent]:
        """Decode consecutive log rows (oldest first), each checked against the chain hash
        of the record before it: what a reader acts on was not altered since it was written.
        Costs one short range read per call and a sha256 per record."""
        if not rows:
            return []
        before = tr.get_range(pk.events, rows[0][0], 1, True)
        previous, previous_vs = codec.GENESIS, None
        if before:
            previous, previous_vs = codec.record_payload(before[0][1])[0], vs_from_key(before[0][0])
        out = []
        for key, value in rows:
            vs = vs_from_key(key)
            out.append(codec.decode_linked(vs, value, previous, previous_vs))
            previous, previous_vs = out[-1].chain, vs
        return out

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
        _, pk = self._keys(tenant, project)
        _check_limit(limit)
        begin, end = pk.event_span()
        if after is not None:
            begin = pk.event(after) + b"\x00"

        def fn(tr: Transaction) -> list[tuple[Versionstamp, bytes, bytes]]:
            self._require_project(tr, pk, tenant, project)
            out = []
            for key, value in tr.get_range(begin, end, limit):
                chain, data = codec.record_payload(value)
                out.append((vs_from_key(key), chain, data))
            return out

        return self.engine.read(fn)

    def get_cursor(self, tenant: str, project: str, name: str) -> bytes | None:
        """A named, durable position kept for a reader of this project (sync, tails)."""
        _, pk = self._keys(tenant, project)
        validate.agent_id(name)
        return self.engine.read(lambda tr: tr.get(pk.cursor(name)))

    def set_cursor(self, tenant: str, project: str, name: str, value: bytes) -> None:
        _, pk = self._keys(tenant, project)
        validate.agent_id(name)

        def fn(tr: Transaction) -> None:
            self._require_project(tr, pk, tenant, project)
            tr.set(pk.cursor(name), value)

        self.engine.transact(fn)

    @_names_project
    def get_event(self, tenant: str, project: str, versionstamp: Versionstamp) -> RecordedEvent:
        _, pk = self._keys(tenant, project)

        def fn(tr: Transaction) -> RecordedEvent:
            self._require_project(tr, pk, tenant, project)
            value = tr.get(pk.event(versionstamp))
            if value is None:
                raise UnknownEvent(str(versionstamp))
            return self._linked(tr, pk, [(pk.event(versionstamp), value)])[0]

        return self.engine.read(fn)

    def find_event(self, tenant: str, event_id: str) -> tuple[str, Versionstamp] | None:
        """The project and versionstamp an event id landed at, or None."""
        tk = self._tenant(tenant)
        validate.event_id(event_id)
        value = self.engine.read(lambda tr: tr.get(tk.event_id(event_id)))
        if value is None:
            return None
        return codec.decode_event_id(event_id, value)

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
        chosen = [
            (k, v)
            for k, v in ((IX_PATH, path), (IX_AGENT, agent), (IX_MISSION, mission))
            if v is not None
        ]
        if len(chosen) != 1:
            raise InvalidArgument("history needs exactly one of path, agent or mission")
        kind, value = chosen[0]
        if kind == IX_PATH:
            validate.file_path(value)
        elif kind == IX_AGENT:
            validate.agent_id(value)
        _, pk = self._keys(tenant, project)
        _check_limit(limit)
        prefix = pk.index_prefix(kind, value)
        end = strinc(prefix) if before is None else prefix + vs_element(before)

        def stamps(tr: Transaction) -> Iterator[Versionstamp]:
            """Candidates in order: folded rows, then the unfolded (newer) ones."""
            first, last = pk.recent_span()
            if after is not None:  # unfolded rows of earlier transactions cannot match
                first = pk.recent + VERSIONSTAMP_CODE + after.tr_version
            recent = [
                Versionstamp.of(_recent_versionstamp(pk, key).tr_version, uv)
                for key, data in tr.get_range(first, last)
                for k, v, uvs in codec.decode_index_groups(data)
                if k == kind and v == value
                for uv in codec.user_versions(uvs)
            ]
            if reverse:
                yield from reversed(recent)
            begin = prefix
            if after is not None:  # start at the row holding the stamps just after it
                start = tr.get_range(prefix, prefix + vs_element(after) + b"\x00", 1, True)
                begin = start[0][0] if start else prefix
            # Each row holds at least one stamp and only the first and last can be
            # cut by after/before, so limit + 2 rows hold the page.
            for _, row in tr.get_range(begin, end, limit + 2 if limit else 0, reverse):
                found = codec.decode_folded(row)
                yield from reversed(found) if reverse else found
            if not reverse:
                yield from recent

        def fn(tr: Transaction) -> list[RecordedEvent]:
            self._require_project(tr, pk, tenant, project)
            found: list[RecordedEvent] = []
            for vs in stamps(tr):
                if (after is not None and vs <= after) or (before is not None and vs >= before):
                    continue
                raw = tr.get(pk.event(vs))
                if raw is None:
                    raise CorruptStore(f"index {kind}={value}", f"points at missing event {vs}")
                found.append(self._linked(tr, pk, [(pk.event(vs), raw)])[0])
                if limit and len(found) >= limit:
                    break
            return found

        return self.engine.read(fn)

    @_names_project
    def versionstamp_at(self, tenant: str, project: str, time_us: int) -> Versionstamp | None:
        """The last event at or before ``time_us``; None if the project had none yet."""
        _, pk = self._keys(tenant, project)

        def fn(tr: Transaction) -> Versionstamp | None:
            self._require_project(tr, pk, tenant, project)
            start = tr.get_range(pk.at, pk.at_prefix(time_us + 1), limit=1, reverse=True)
            if not start:
                return None
            # Times only grow, so the answer is in the transaction the sparse index found.
            found = vs_from_key(start[0][0])
            cursor = pk.event(found)
            end = pk.event_span()[1]
            while True:
                rows = tr.get_range(cursor, end, limit=256)
                for key, value in rows:
                    if codec.decode_record(vs_from_key(key), value).time_us > time_us:
                        return found
                    found = vs_from_key(key)
                if len(rows) < 256:
                    return found
                cursor = rows[-1][0] + b"\x00"

        return self.engine.read(fn)

    def head(self, tenant: str, project: str) -> Versionstamp | None:
        """The newest event's versionstamp."""
        return self.project_info(tenant, project).head

    def _require_project(self, tr: Transaction, pk: ProjectKeys, tenant: str, project: str) -> None:
        if tr.get(pk.clock) is None:
            raise UnknownProject(tenant, project)

    # file heads -------------------------------------------------------------------
    @_names_project
    def file_state(self, tenant: str, project: str, path: str) -> FileState | None:
        _, pk = self._keys(tenant, project)
        validate.file_path(path)

        def fn(tr: Transaction) -> FileState | None:
            self._require_project(tr, pk, tenant, project)
            raw = tr.get(pk.file(path))
            return codec.decode_file(path, raw) if raw is not None else None

        return self.engine.read(fn)

    @_names_project
    def files(self, tenant: str, project: str) -> list[FileState]:
        """The materialised head: every live file, in path order."""
        _, pk = self._keys(tenant, project)

        def fn(tr: Transaction) -> list[FileState]:
            self._require_project(tr, pk, tenant, project)
            rows = tr.get_range(pk.files, strinc(pk.files))
            return [codec.decode_file(pk.path_of(k, pk.files), v) for k, v in rows]

        return self.engine.read(fn)

    # blobs ------------------------------------------------------------------------
    def put_blob(self, tenant: str, data: bytes) -> BlobRef:
        """Store ``data`` once per tenant, in chunks under the value limit."""
        tk = self._tenant(tenant)
        sha = hashlib.sha256(data).digest()
        ref = BlobRef(sha, len(data))
        meta = tk.blob_meta(sha)
        if self.engine.read(lambda tr: tr.get(meta)) is not None:
            return ref
        chunks = [data[i : i + BLOB_CHUNK] for i in range(0, len(data), BLOB_CHUNK)] or [b""]
        step = _BLOB_CHUNKS_PER_TRANSACTION
        for start in range(0, len(chunks), step):
            group = chunks[start : start + step]
            last = start + step >= len(chunks)

            def fn(
                tr: Transaction, group: list[bytes] = group, start: int = start, last: bool = last
            ) -> None:
                for i, chunk in enumerate(group, start):
                    tr.set(tk.blob_chunk(sha, i), chunk)
                if last:  # the meta key lands only once every chunk has
                    tr.set(meta, codec.encode_blob_meta(len(data), len(chunks)))

            self.engine.transact(fn)
        return ref

    def put_blobs(self, tenant: str, items: Sequence[bytes]) -> list[BlobRef]:
        """:meth:`put_blob` for many, in as few transactions as the limits allow.

        One read finds which are new; the new one-chunk blobs then land together, up
        to 7.2 MB a transaction, each meta key with its chunk as in ``put_blob``; a
        bigger blob goes through ``put_blob``. Returns the refs in the order given.
        """
        tk = self._tenant(tenant)
        refs = [BlobRef(hashlib.sha256(d).digest(), len(d)) for d in items]
        metas = [tk.blob_meta(r.sha256) for r in refs]
        have = self.engine.read(lambda tr: [tr.get(m) is not None for m in metas])
        small: dict[bytes, bytes] = {}
        for data, ref, present in zip(items, refs, have, strict=True):
            if present or ref.sha256 in small:
                continue
            if len(data) > BLOB_CHUNK:
                self.put_blob(tenant, data)
            else:
                small[ref.sha256] = data
        parts: list[list[tuple[bytes, bytes]]] = [[]]
        size = 0
        for sha, data in small.items():
            if size + len(data) > _BLOB_CHUNKS_PER_TRANSACTION * BLOB_CHUNK:
                parts.append([])
                size = 0
            parts[-1].append((sha, data))
            size += len(data)
        for part in parts:
            if not part:
                continue

            def fn(tr: Transaction, part: list[tuple[bytes, bytes]] = part) -> None:
                for sha, data in part:
                    tr.set(tk.blob_chunk(sha, 0), data)
                    tr.set(tk.blob_meta(sha), codec.encode_blob_meta(len(data), 1))

            self.engine.transact(fn)
        return refs

    def has_blob(self, tenant: str, sha256: bytes) -> bool:
        tk = self._tenant(tenant)
        return self.engine.read(lambda tr: tr.get(tk.blob_meta(sha256))) is not None

    def get_blob(self, tenant: str, sha256: bytes) -> bytes:
        """The blob's bytes, checked against its hash."""
        tk = self._tenant(tenant)
        meta = self.engine.read(lambda tr: tr.get(tk.blob_meta(sha256)))
        if meta is None:
            raise UnknownBlob(sha256.hex())
        size, count = codec.decode_blob_meta(meta, sha256)
        parts: list[bytes] = []
        step = _BLOB_CHUNKS_PER_TRANSACTION
        for start in range(0, count, step):
            begin = tk.blob_chunk(sha256, start)
            end = tk.blob_chunk(sha256, min(start + step, count))

            def fn(tr: Transaction, b: bytes = begin, e: bytes = end) -> list[tuple[bytes, bytes]]:
                return tr.get_range(b, e)

            parts.extend(v for _, v in self.engine.read(fn))
        data = b"".join(parts)
        if len(data) != size or hashlib.sha256(data).digest() != sha256:
            raise CorruptStore(f"blob {sha256.hex()}", "content does not match its hash")
        return data

    def get_blobs(self, tenant: str, shas: Sequence[bytes]) -> list[bytes]:
        """:meth:`get_blob` for many, the one-chunk blobs read in one transaction; each is
        checked against its hash (``UnknownBlob`` for one that is absent)."""
        tk = self._tenant(tenant)

        def fn(tr: Transaction) -> list[tuple[bytes | None, bytes | None]]:
            out: list[tuple[bytes | None, bytes | None]] = []
            for sha in shas:
                meta = tr.get(tk.blob_meta(sha))
                one = meta is not None and codec.decode_blob_meta(meta)[1] == 1
                out.append((meta, tr.get(tk.blob_chunk(sha, 0)) if one else None))
            return out

        found: list[bytes] = []
        for sha, (meta, data) in zip(shas, self.engine.read(fn), strict=True):
            if meta is None:
                raise UnknownBlob(sha.hex())
            if data is None:  # several chunks, perhaps over one transaction: read apart
                data = self.get_blob(tenant, sha)
            elif (
                len(data) != codec.decode_blob_meta(meta)[0] or hashlib.sha256(data).digest() != sha
            ):
                raise CorruptStore(f"blob {sha.hex()}", "content does not match its hash")
            found.append(data)
        return found

    # locks ----------------------------------------------------------------------------
    @_names_project
    def acquire_lock(self, tenant: str, project: str, path: str, holder: str, ttl_s: float) -> Lock:
        """Lease ``path`` to ``holder`` for ``ttl_s`` seconds and return its fencing token.

        A holder that already has a live lease gets it extended with the same
        token. An expired lease is taken over with a new, larger token. Grants
        and takeovers are Signal events in the file's history.
        """
        tk, pk = self._keys(tenant, project)
        validate.file_path(path)
        validate.agent_id(holder)
        if not ttl_s > 0:
            raise InvalidArgument(f"lock ttl must be positive, got {ttl_s}")
        now = self._clock()
        expires = now + int(ttl_s * 1_000_000)
        acquired = self._prepare(
            tenant,
            project,
            _lock_event(
                tenant, project, path, holder, events_pb2.SIGNAL_KIND_LOCK_ACQUIRED, expires
            ),
        )
        expired_id = new_event_id()

        def fn(tr: Transaction) -> tuple[Lock | None, VersionstampFuture | None]:
            self._require_project(tr, pk, tenant, project)
            raw = tr.get(pk.lock(path))
            current = codec.decode_lock(path, raw) if raw is not None else None
            if current is not None and current.live(now):
                if current.holder != holder:
                    raise LockHeld(path, current.holder, current.expires_us)
                tr.set(pk.lock(path), current.token + codec.encode_lock_tail(expires, holder))
                return Lock(path, holder, current.token, expires), None
            batch = [acquired]
            if current is not None:  # a lapsed lease: record whose it was before taking over
                lapsed = _lock_event(
                    tenant,
                    project,
                    path,
                    current.holder,
                    events_pb2.SIGNAL_KIND_LOCK_EXPIRED,
                    current.expires_us,
                )
                lapsed.event_id = expired_id
                batch.insert(0, self._prepare(tenant, project, lapsed))
            self._append_in(tr, tk, pk, tenant, project, batch, now)
            tr.set_versionstamped_value(
                pk.lock(path), codec.stamped_token(codec.encode_lock_tail(expires, holder))
            )
            return None, tr.get_versionstamp()

        lock, future = self.engine.transact(fn)
        if lock is not None:
            return lock
        assert future is not None
        return Lock(path, holder, future.result(), expires)

    @_names_project
    def renew_lock(
        self, tenant: str, project: str, path: str, holder: str, token: bytes, ttl_s: float
    ) -> Lock:
        """Extend a lease the caller still holds (same token)."""
        _, pk = self._keys(tenant, project)
        validate.file_path(path)
        if not ttl_s > 0:
            raise InvalidArgument(f"lock ttl must be positive, got {ttl_s}")
        expires = self._clock() + int(ttl_s * 1_000_000)

        def fn(tr: Transaction) -> Lock:
            self._require_project(tr, pk, tenant, project)
            raw = tr.get(pk.lock(path))
            current = codec.decode_lock(path, raw) if raw is not None else None
            if current is None or current.holder != holder or current.token != token:
                raise LockNotHeld(path, holder)
            tr.set(pk.lock(path), token + codec.encode_lock_tail(expires, holder))
            return Lock(path, holder, token, expires)

        return self.engine.transact(fn)

    @_names_project
    def release_lock(self, tenant: str, project: str, path: str, holder: str, token: bytes) -> None:
        """Give a lock back; a release by anyone but the token's holder is refused."""
        tk, pk = self._keys(tenant, project)
        validate.file_path(path)
        validate.agent_id(holder)
        now = self._clock()
        released = self._prepare(
            tenant,
            project,
            _lock_event(tenant, project, path, holder, events_pb2.SIGNAL_KIND_LOCK_RELEASED, now),
        )

        def fn(tr: Transaction) -> None:
            self._require_project(tr, pk, tenant, project)
            raw = tr.get(pk.lock(path))
            current = codec.decode_lock(path, raw) if raw is not None else None
            if current is None or current.holder != holder or current.token != token:
                raise LockNotHeld(path, holder)
            tr.clear(pk.lock(path))
            self._append_in(tr, tk, pk, tenant, project, [released], now)

        self.engine.transact(fn)

    @_names_project
    def get_lock(self, tenant: str, project: str, path: str) -> Lock | None:
        """The live lock on ``path``, if any."""
        _, pk = self._keys(tenant, project)
        validate.file_path(path)
        now = self._clock()
        raw = self.engine.read(lambda tr: tr.get(pk.lock(path)))
        lock = codec.decode_lock(path, raw) if raw is not None else None
        return lock if lock is not None and lock.live(now) else None

    @_names_project
    def locks(self, tenant: str, project: str) -> list[Lock]:
        """Every live lock of the project."""
        _, pk = self._keys(tenant, project)
        now = self._clock()
        rows = self.engine.read(lambda tr: tr.get_range(pk.locks, strinc(pk.locks)))
        found = [codec.decode_lock(pk.path_of(k, pk.locks), v) for k, v in rows]
        return [lock for lock in found if lock.live(now)]

    # watches ----------------------------------------------------------------------------
    def watch(self, tenant: str, project: str) -> Watch:
        """A watch that fires on the project's next append."""
        _, pk = self._keys(tenant, project)

        def fn(tr: Transaction) -> Watch:
            self._require_project(tr, pk, tenant, project)
            return tr.watch(pk.head)

        return self.engine.read(fn)

    def wait_for_append(
        self, tenant: str, project: str, after: Versionstamp | None, timeout: float | None
    ) -> bool:
        """Block until the project holds an event after ``after`` (True) or ``timeout`` passes.

        Race-free: the head is read and the watch set in one transaction, so an
        append that lands in between is seen rather than missed.
        """
        _, pk = self._keys(tenant, project)

        def fn(tr: Transaction) -> Watch | None:
            self._require_project(tr, pk, tenant, project)
            head = tr.get(pk.head)
            if head is not None and (after is None or head > after.tr_version):
                return None
            return tr.watch(pk.head)

        watch = self.engine.read(fn)
        if watch is None:
            return True
        try:
            return watch.wait(timeout)
        finally:
            watch.cancel()


# Agents repeat; a valid id is checked once (invalid ones raise and are not cached).
_known_agent = lru_cache(maxsize=4096)(validate.agent_id)
_EVENT_ID_SHAPE = validate.EVENT_ID.fullmatch
_new_prepared = tuple.__new__  # a NamedTuple without its Python-level __new__
_known_path = lru_cache(maxsize=4096)(validate.file_path)


def _check_change(eid: str, change: events_pb2.StateChange) -> str:
    # The rules live in _validate, shared with what sync checks of a replica's events.
    return validate.state_change(eid, change, _known_path)


def _claim_in(tr: Transaction, wk: WorkspaceKeys, claim: WorkspaceClaim) -> None:
    """Register ``claim`` unless the folder or the project is already someone's."""
    held = tr.get(wk.by_name(claim.root, claim.name))
    if held is not None:
        owner = codec.decode_claim(held)
        if (owner.tenant, owner.project) == (claim.tenant, claim.project):
            return  # already this project's
        raise WorkspaceTaken(
            claim.root,
            claim.name,
            claim.tenant,
            claim.project,
            owner.tenant,
            owner.project,
            owner.name,
        )
    mine = tr.get(wk.by_project(claim.tenant, claim.project))
    if mine is not None:
        other = codec.decode_claim(mine)
        raise WorkspaceTaken(
            claim.root,
            claim.name,
            claim.tenant,
            claim.project,
            other.tenant,
            other.project,
            other.name,
        )
    value = codec.encode_claim(claim)
    tr.set(wk.by_name(claim.root, claim.name), value)
    tr.set(wk.by_project(claim.tenant, claim.project), value)


def _system_event(tenant: str, project: str, signal: events_pb2.Signal) -> events_pb2.SwarmEvent:
    return events_pb2.SwarmEvent(
        event_id=new_event_id(),
        tenant=tenant,
        project=project,
        agent_role=events_pb2.AGENT_ROLE_SYSTEM,
        agent_id="ledger",
        signal=signal,
    )


def _lock_event(
    tenant: str, project: str, path: str, holder: str, kind: int, expires_us: int
) -> events_pb2.SwarmEvent:
    event = _system_event(
        tenant,
        project,
        events_pb2.Signal(
            kind=kind,  # type: ignore[arg-type]
            subject=path,
            attributes={"holder": holder, "expires_us": str(expires_us)},
        ),
    )
    event.agent_id = holder
    event.agent_role = (
        events_pb2.AGENT_ROLE_HUMAN
        if holder.startswith("human:")
        else events_pb2.AGENT_ROLE_UNSPECIFIED
    )
    return event


def _recent_versionstamp(pk: ProjectKeys, key: bytes) -> Versionstamp:
    """The transaction an unfolded index row belongs to (its key: prefix, vs, part)."""
    start = len(pk.recent) + 1
    return Versionstamp(key[start : start + 12])


def _fill(parts: list[bytes], limit: int) -> Iterator[list[bytes]]:
    """``parts`` in order, grouped so each group's bytes stay within ``limit``."""
    group: list[bytes] = []
    size = 0
    for part in parts:
        if group and size + len(part) > limit:
            yield group
            group, size = [], 0
        group.append(part)
        size += len(part)
    if group:
        yield group


def _check_limit(limit: int) -> None:
    if not 0 < limit <= MAX_READ:
        raise InvalidArgument(f"limit must be between 1 and {MAX_READ}, got {limit}")


def _unpack_last(key: bytes, prefix_len: int) -> object:
    return unpack(key, prefix_len)[-1]
