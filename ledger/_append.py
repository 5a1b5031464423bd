"""Appending: the events, their indexes, file heads, clock and head in one transaction.

Only the project's clock is a shared key an append reads; everything else is a
blind or versionstamped write, so appends to one project serialise on one key
and appends to different projects never conflict. ``append_in`` is the body,
shared with the modules that append events of their own (project creation,
locks) inside their transactions.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ledger import _codec as codec
from ledger import _index as index
from ledger import _validate as validate
from ledger._errors import (
    HashChainBroken,
    InvalidArgument,
    InvalidEvent,
    StaleFencingToken,
    UnknownBlob,
    UnknownProject,
)
from ledger._keys import INCOMPLETE, IX_AGENT, IX_MISSION, IX_PATH, VERSIONSTAMP_CODE
from ledger._port import Engine, Transaction, VersionstampFuture
from ledger._prepare import Prepared, prepare
from ledger._scope import Clock, ProjectScope
from ledger._types import Appended, Lock, Versionstamp
from proto.swarm.v1 import events_pb2

MAX_BATCH = 10_000
sha256 = hashlib.sha256

# Where each event landed: a user version of this transaction, or (landed before) the
# versionstamp it landed at; and whether it is a duplicate (an earlier append's).
Staged = list[tuple[str, int | Versionstamp, bool]]


def new_salt() -> bytes:
    """A salt for one append call, drawn outside its transaction (which may run again)."""
    return os.urandom(16)


def receipt(salt: bytes, p: Prepared) -> bytes:
    """What an idempotency record keeps of the append that wrote it: a digest of the
    event's body under the call's salt. A closure FoundationDB re-runs after
    ``commit_unknown_result`` finds its own receipt (its commit landed: not a duplicate);
    an earlier call's append of the same id, even of the same bytes, has another."""
    return sha256(salt + p.body).digest()[: codec.RECEIPT_BYTES]


def landed_here(tr: Transaction, scope: ProjectScope, p: Prepared, salt: bytes) -> bool:
    """Whether ``p`` already landed from the call ``salt`` belongs to: an earlier attempt
    of this transaction committed, though the engine reported it unknown."""
    found = tr.get(scope.tenant_keys.event_id(p.event_id))
    return found is not None and codec.event_id_receipt(found) == receipt(salt, p)


class _Heads(NamedTuple):
    """What a batch's StateChanges are checked against, read once for the batch."""

    files: dict[str, bytes]  # path -> head sha256 ("" absent), as this batch leaves it
    locks: dict[str, Lock | None]
    blobs: set[bytes]


class _Written(NamedTuple):
    staged: Staged
    groups: dict[tuple[str, str], list[int]]
    written: int  # events written (not duplicates)
    first_us: int
    last_us: int
    chain: bytes


def append(
    engine: Engine,
    scope: ProjectScope,
    clock: Clock,
    events: Sequence[events_pb2.SwarmEvent],
    check_fencing: bool,
    cursors: Mapping[str, bytes],
) -> list[Appended]:
    """``Ledger.append``: validate outside, then one transaction; where each event landed."""
    for name in cursors:
        validate.agent_id(name)
    if len(events) > MAX_BATCH:
        raise InvalidArgument(f"a batch holds at most {MAX_BATCH} events, got {len(events)}")
    if not events:
        return []
    prepared = [prepare(scope, ev) for ev in events]
    now = clock()
    salt = new_salt()

    def fn(tr: Transaction) -> tuple[Staged, VersionstampFuture | None]:
        out = append_in(tr, scope, prepared, now, check_fencing, salt)
        for name, value in cursors.items():
            tr.set(scope.keys.cursor(name), value)
        return out

    staged, future = engine.transact(fn)
    tr_version = future.result() if future is not None else b""
    return [
        Appended(
            eid,
            where if isinstance(where, Versionstamp) else Versionstamp.of(tr_version, where),
            dup,
        )
        for eid, where, dup in staged
    ]


def append_in(
    tr: Transaction,
    scope: ProjectScope,
    prepared: Sequence[Prepared],
    now: int,
    check_fencing: bool = True,
    salt: bytes = b"",
) -> tuple[Staged, VersionstampFuture | None]:
    """Append ``prepared`` inside ``tr``; the future is None when every one had landed.

    ``salt`` (``new_salt()``, one per call, drawn outside the transaction) is what
    tells this call's own earlier, committed attempt from another writer's append.
    """
    pk = scope.keys
    clock = tr.get(pk.clock)
    if clock is None:
        raise UnknownProject(scope.tenant, scope.project)
    last_us, count, chain = codec.decode_clock(clock)
    unfolded = codec.decode_unfolded(clock)
    eid_keys = [scope.tenant_keys.event_id(p.event_id) for p in prepared]
    already, heads = _read_batch(tr, scope, prepared, eid_keys, check_fencing)
    w = _write_events(
        tr, scope, prepared, eid_keys, already, heads, (now, last_us, chain), check_fencing, salt
    )
    if w.written == 0:
        return w.staged, None
    unfolded = index.write_unfolded(tr, pk, w.groups, unfolded)
    tr.set_versionstamped_key(pk.at_incomplete(w.first_us, 0), b"")
    tr.set_versionstamped_value(pk.head, codec.stamped_token(b""))
    tr.set(pk.clock, codec.encode_clock(w.last_us, count + w.written, w.chain, unfolded))
    return w.staged, tr.get_versionstamp()


def _read_batch(
    tr: Transaction,
    scope: ProjectScope,
    prepared: Sequence[Prepared],
    eid_keys: list[bytes],
    check_fencing: bool,
) -> tuple[list[bytes | None], _Heads]:
    """One round of reads for the batch: event ids, then what StateChanges check."""
    pk, tk = scope.keys, scope.tenant_keys
    paths = sorted({p.path for p in prepared if p.change is not None})
    shas = sorted({p.change.new_sha256 for p in prepared if p.change and p.change.new_sha256})
    fence_paths = paths if check_fencing else []
    found = tr.get_many(
        eid_keys
        + [pk.file(x) for x in paths]
        + [pk.lock(x) for x in fence_paths]
        + [tk.blob_meta(x) for x in shas]
    )
    rest = iter(found[len(eid_keys) :])
    heads = _Heads({}, {}, set())
    for path in paths:
        raw = next(rest)
        heads.files[path] = codec.decode_file(path, raw).sha256 if raw is not None else b""
    for path in fence_paths:
        raw = next(rest)
        heads.locks[path] = codec.decode_lock(path, raw) if raw is not None else None
    heads.blobs.update(sha for sha in shas if next(rest) is not None)
    return found[: len(eid_keys)], heads


def _write_events(
    tr: Transaction,
    scope: ProjectScope,
    prepared: Sequence[Prepared],
    eid_keys: list[bytes],
    already: list[bytes | None],
    heads: _Heads,
    start: tuple[int, int, bytes],
    check_fencing: bool,
    salt: bytes,
) -> _Written:
    """Write each new event (one that landed before only says where) and collect its
    index entries; ``start`` is (now, the clock's last time, its chain hash)."""
    now, last_us, chain = start
    pk, project = scope.keys, scope.project
    staged: Staged = []
    in_batch: dict[str, int | Versionstamp] = {}
    groups: dict[tuple[str, str], list[int]] = {}
    first_us = 0
    uv = 0
    # Keys and values of the loop, built once per transaction (see incomplete_key).
    event_head = pk.events + VERSIONSTAMP_CODE + INCOMPLETE
    event_offset = struct.pack("<I", len(pk.events) + 1)
    offset_zero = b"\x00\x00\x00\x00"
    for p, eid_key, landed in zip(prepared, eid_keys, already, strict=True):
        if p.event_id in in_batch:
            staged.append((p.event_id, in_batch[p.event_id], True))
            continue
        if landed is not None:
            owner, where = codec.decode_event_id(p.event_id, landed)
            if owner != project:
                raise InvalidEvent(p.event_id, f"this id already landed in project {owner!r}")
            ours = bool(salt) and codec.event_id_receipt(landed) == receipt(salt, p)
            staged.append((p.event_id, where, not ours))
            in_batch[p.event_id] = where  # a second copy in the batch is a duplicate
            continue
        if p.change is not None:
            _apply_change(tr, scope, p, uv, heads, now, check_fencing)
        time_us = max(p.requested_us or now, last_us + 1)
        data = codec.stamp_time(p.body, time_us)
        chain = sha256(chain + data).digest()
        uv_bytes = uv.to_bytes(2, "big")
        tr.set_versionstamped_key(
            event_head + uv_bytes + event_offset, codec.RECORD_FORMAT + chain + data
        )
        tail = codec.event_id_tail(project, receipt(salt, p) if salt else b"")
        tr.set_versionstamped_value(eid_key, INCOMPLETE + uv_bytes + tail + offset_zero)
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
        uv += 1
    return _Written(staged, groups, uv, first_us, last_us, chain)


def _apply_change(
    tr: Transaction,
    scope: ProjectScope,
    p: Prepared,
    uv: int,
    heads: _Heads,
    now: int,
    check_fencing: bool,
) -> None:
    """Check one StateChange against the heads, locks and blobs read for the batch."""
    change = p.change
    assert change is not None
    path = p.path
    if check_fencing:
        lock = heads.locks[path]
        token = change.fencing_token
        if lock is not None and lock.live(now):
            if token != lock.token:
                raise StaleFencingToken(path, token, lock.token)
        elif token:
            raise StaleFencingToken(path, token, None)
    files = heads.files
    if change.previous_sha256 != files[path]:
        raise HashChainBroken(path, files[path], change.previous_sha256)
    new = change.new_sha256
    pk = scope.keys
    if new:
        if new not in heads.blobs:
            raise UnknownBlob(new.hex())
        tail = codec.encode_file_tail(new, change.new_size)
        tr.set_versionstamped_value(pk.file(path), codec.stamped_value(uv, tail))
    else:
        tr.clear(pk.file(path))
    files[path] = new
