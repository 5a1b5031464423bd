"""A project's hash chain: ``chain_i = sha256(chain_{i-1} + bytes_i)`` from 32 zero bytes.

The ledger computes each record's chain hash at append time and stores it in
the record; the project clock keeps the last one and the event count. These
functions re-walk what is stored, for any reader that must not trust it
blindly (``ops.verify``, replay, sync's edge and hub): the first record that
does not follow, or a clock that disagrees with the log, is ``ChainMismatch``
naming the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import sha256

from ledger import _codec as codec
from ledger._errors import ChainMismatch
from ledger._ledger import Ledger
from ledger._port import Transaction
from ledger._types import Versionstamp

GENESIS = codec.GENESIS


def link(previous: bytes, data: bytes) -> bytes:
    """The chain hash of a record holding ``data`` after one whose chain hash is ``previous``."""
    return sha256(previous + data).digest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a walk of the chain ended: the last record, its chain hash, records walked."""

    versionstamp: Versionstamp | None
    chain: bytes
    records: int


def follow(
    records: Iterable[tuple[Versionstamp, bytes, bytes]],
    previous: bytes = GENESIS,
    *,
    position: int = 0,
    tenant: str = "",
    project: str = "",
) -> ChainHead:
    """Check that each ``(versionstamp, chain, data)`` follows the one before it.

    ``previous`` is the chain hash before the first record (genesis for a log's
    start) and ``position`` the first record's place in the log, for messages.
    Returns where the walk ended; raises ``ChainMismatch`` at the first record
    whose stored chain hash is not ``sha256(previous + data)``.
    """
    last: Versionstamp | None = None
    count = 0
    for vs, chain, data in records:
        if sha256(previous + data).digest() != chain:
            raise ChainMismatch(
                str(vs),
                position + count,
                f"record {position + count} does not follow the hash chain: its stored bytes "
                f"or chain hash were altered, or records before it were removed or reordered",
                tenant=tenant,
                project=project,
            )
        previous, last = chain, vs
        count += 1
    return ChainHead(last, previous, count)


def stored_records(
    led: Ledger,
    tenant: str,
    project: str,
    *,
    after: Versionstamp | None = None,
    page: int = 1000,
) -> Iterable[tuple[Versionstamp, bytes, bytes]]:
    """Every stored ``(versionstamp, chain, data)`` after ``after``, a page per read."""
    cursor = after
    while True:
        batch = led.raw_records(tenant, project, after=cursor, limit=page)
        yield from batch
        if len(batch) < page:
            return
        cursor = batch[-1][0]


def stored_chain(led: Ledger, tenant: str, project: str, vs: Versionstamp) -> bytes | None:
    """The chain hash stored in the record at ``vs`` (None if there is no such record)."""
    scope = led.scope(tenant, project)

    def fn(tr: Transaction) -> bytes | None:
        scope.require(tr)
        return tr.get(scope.keys.event(vs))

    value = led.engine.read(fn)
    return None if value is None else codec.record_payload(value)[0]


def clock_head(led: Ledger, tenant: str, project: str) -> tuple[int, bytes]:
    """What the project clock says: the number of events appended and the last chain hash."""
    scope = led.scope(tenant, project)

    def fn(tr: Transaction) -> bytes | None:
        scope.require(tr)
        return tr.get(scope.keys.clock)

    raw = led.engine.read(fn)
    assert raw is not None  # scope.require read it
    _, count, chain = codec.decode_clock(raw)
    return count, chain


def verify_chain(led: Ledger, tenant: str, project: str) -> ChainHead:
    """Walk the whole stored log from genesis and check it against the project clock.

    Raises ``ChainMismatch`` at the first record that does not follow, or (with
    ``position`` -1 and ``record`` "project clock") when the clock counts a
    different number of events or ends at a different chain hash than the log:
    events were removed from or added at the end, or the clock was rewritten.
    """
    head = follow(stored_records(led, tenant, project), tenant=tenant, project=project)
    count, chain = clock_head(led, tenant, project)
    if count != head.records or chain != head.chain:
        raise ChainMismatch(
            "",
            -1,
            f"it counts {count} events ending at chain hash {chain.hex()[:16]}…, but the log "
            f"holds {head.records} ending at {head.chain.hex()[:16]}… (last event "
            f"{head.versionstamp}): events were removed or added at the end",
            tenant=tenant,
            project=project,
            record="project clock",
        )
    return head


def check_storage(led: Ledger) -> tuple[list[str], list[str]]:
    """Problems of the store itself, and notes on what it cannot check.

    On sqlite: commits lost since the seal was written (a cut or deleted WAL, an
    older copy of the file) and pages ``PRAGMA quick_check`` finds damaged.
    Engines with nothing to check (memory, FoundationDB, which keeps its own
    durability) return nothing.
    """
    check = getattr(led.engine, "check_storage", None)
    if check is None:
        return [], []
    problems, notes = check()
    return list(problems), list(notes)


def landed_at(
    led: Ledger, tenant: str, event_ids: list[str]
) -> list[tuple[str, Versionstamp] | None]:
    """Where the idempotency records say each event id landed (project, versionstamp), in
    batched reads: the versionstamp is the event's key, which the chain does not cover."""
    tk = led.tenant_scope(tenant).keys
    out: list[tuple[str, Versionstamp] | None] = []
    step = 500
    for start in range(0, len(event_ids), step):
        group = event_ids[start : start + step]
        keys = [tk.event_id(eid) for eid in group]

        def fn(tr: Transaction, keys: list[bytes] = keys) -> list[bytes | None]:
            return tr.get_many(keys)

        for eid, value in zip(group, led.engine.read(fn), strict=True):
            out.append(None if value is None else codec.decode_event_id(eid, value))
    return out
