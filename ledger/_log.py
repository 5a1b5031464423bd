"""Reading a project's log: ranges of events, one event, raw records, reader cursors.

What a reader acts on is checked against the hash chain as it is decoded
(``linked``): each record's chain hash must follow the one before it.
"""

from __future__ import annotations

from ledger import _codec as codec
from ledger import _validate as validate
from ledger._errors import InvalidArgument, UnknownEvent
from ledger._keys import vs_from_key
from ledger._port import Engine, Transaction
from ledger._scope import ProjectScope, TenantScope
from ledger._types import RecordedEvent, Versionstamp

MAX_READ = 10_000


def check_limit(limit: int) -> None:
    """Refuse a page size outside 1..MAX_READ."""
    if not 0 < limit <= MAX_READ:
        raise InvalidArgument(f"limit must be between 1 and {MAX_READ}, got {limit}")


def read(
    engine: Engine,
    scope: ProjectScope,
    after: Versionstamp | None,
    before: Versionstamp | None,
    limit: int,
    reverse: bool,
) -> list[RecordedEvent]:
    """Events strictly between ``after`` and ``before``, oldest first unless ``reverse``."""
    pk = scope.keys
    check_limit(limit)
    begin, end = pk.event_span()
    if after is not None:
        begin = pk.event(after) + b"\x00"
    if before is not None:
        end = pk.event(before)

    def fn(tr: Transaction) -> list[RecordedEvent]:
        scope.require(tr)
        rows = tr.get_range(begin, end, limit, reverse)
        if reverse:
            return linked(tr, scope, rows[::-1])[::-1]
        return linked(tr, scope, rows)

    return engine.read(fn)


def linked(
    tr: Transaction, scope: ProjectScope, rows: list[tuple[bytes, bytes]]
) -> list[RecordedEvent]:
    """Decode consecutive log rows (oldest first), each checked against the chain hash
    of the record before it: what a reader acts on was not altered since it was written.
    Costs one short range read per call and a sha256 per record."""
    if not rows:
        return []
    before = tr.get_range(scope.keys.events, rows[0][0], 1, True)
    previous, previous_vs = codec.GENESIS, None
    if before:
        previous, previous_vs = codec.record_payload(before[0][1])[0], vs_from_key(before[0][0])
    out = []
    for key, value in rows:
        vs = vs_from_key(key)
        out.append(codec.decode_linked(vs, value, previous, previous_vs))
        previous, previous_vs = out[-1].chain, vs
    return out


def event_at(tr: Transaction, scope: ProjectScope, vs: Versionstamp) -> RecordedEvent | None:
    """The event stored at ``vs``, checked against the chain; None if there is none."""
    key = scope.keys.event(vs)
    value = tr.get(key)
    return None if value is None else linked(tr, scope, [(key, value)])[0]


def get_event(engine: Engine, scope: ProjectScope, versionstamp: Versionstamp) -> RecordedEvent:
    """The event at ``versionstamp``; ``UnknownEvent`` if there is none."""

    def fn(tr: Transaction) -> RecordedEvent:
        scope.require(tr)
        found = event_at(tr, scope, versionstamp)
        if found is None:
            raise UnknownEvent(str(versionstamp))
        return found

    return engine.read(fn)


def raw_records(
    engine: Engine, scope: ProjectScope, after: Versionstamp | None, limit: int
) -> list[tuple[Versionstamp, bytes, bytes]]:
    """(versionstamp, chain hash, event bytes as stored) in log order, for audits."""
    pk = scope.keys
    check_limit(limit)
    begin, end = pk.event_span()
    if after is not None:
        begin = pk.event(after) + b"\x00"

    def fn(tr: Transaction) -> list[tuple[Versionstamp, bytes, bytes]]:
        scope.require(tr)
        out = []
        for key, value in tr.get_range(begin, end, limit):
            chain, data = codec.record_payload(value)
            out.append((vs_from_key(key), chain, data))
        return out

    return engine.read(fn)


def find_event(
    engine: Engine, scope: TenantScope, event_id: str
) -> tuple[str, Versionstamp] | None:
    """The project and versionstamp an event id landed at, or None."""
    validate.event_id(event_id)
    value = engine.read(lambda tr: tr.get(scope.keys.event_id(event_id)))
    if value is None:
        return None
    return codec.decode_event_id(event_id, value)


def get_cursor(engine: Engine, scope: ProjectScope, name: str) -> bytes | None:
    """A named, durable position kept for a reader of this project."""
    validate.agent_id(name)
    return engine.read(lambda tr: tr.get(scope.keys.cursor(name)))


def set_cursor(engine: Engine, scope: ProjectScope, name: str, value: bytes) -> None:
    """Store a reader's position (the project must exist)."""
    validate.agent_id(name)

    def fn(tr: Transaction) -> None:
        scope.require(tr)
        tr.set(scope.keys.cursor(name), value)

    engine.transact(fn)
