"""File locks: leases with fencing tokens, recorded as Signals in the file's history.

A grant's fencing token is the versionstamp of the transaction that made it,
so tokens only grow and need no counter of their own; a holder that renews
or re-acquires a live lease keeps its token. A StateChange must carry the
current token of its file's lock (``_append`` checks it).
"""

from __future__ import annotations

from typing import NamedTuple

from ledger import _codec as codec
from ledger import _validate as validate
from ledger._append import append_in, landed_here, new_salt
from ledger._errors import InvalidArgument, LockHeld, LockNotHeld
from ledger._ids import new_event_id
from ledger._keys import strinc
from ledger._port import Engine, Transaction, VersionstampFuture
from ledger._prepare import prepare, system_event
from ledger._scope import Clock, ProjectScope
from ledger._types import Lock
from proto.swarm.v1 import events_pb2


def _check_ttl(ttl_s: float) -> None:
    if not ttl_s > 0:
        raise InvalidArgument(f"lock ttl must be positive, got {ttl_s}")


def _current(tr: Transaction, scope: ProjectScope, path: str) -> Lock | None:
    """The lock stored on ``path`` (live or lapsed), after checking the project exists."""
    scope.require(tr)
    raw = tr.get(scope.keys.lock(path))
    return codec.decode_lock(path, raw) if raw is not None else None


def acquire(
    engine: Engine,
    scope: ProjectScope,
    clock: Clock,
    path: str,
    holder: str,
    ttl_s: float,
    on_behalf: Behalf,
) -> Lock:
    """``Ledger.acquire_lock``: extend a live lease of ``holder``'s, else grant a new one."""
    validate.file_path(path)
    validate.agent_id(holder)
    _check_ttl(ttl_s)
    now = clock()
    expires = now + int(ttl_s * 1_000_000)
    acquired = prepare(
        scope,
        _lock_event(scope, path, holder, events_pb2.SIGNAL_KIND_LOCK_ACQUIRED, expires, on_behalf),
    )
    expired_id = new_event_id()
    salt = new_salt()
    key = scope.keys.lock(path)
    tail = codec.encode_lock_tail(expires, holder)

    def fn(tr: Transaction) -> tuple[Lock | None, VersionstampFuture | None]:
        current = _current(tr, scope, path)
        if current is not None and current.live(now):
            if current.holder != holder:
                raise LockHeld(path, current.holder, current.expires_us)
            tr.set(key, current.token + tail)
            return Lock(path, holder, current.token, expires), None
        batch = [acquired]
        if current is not None:  # a lapsed lease: record whose it was before taking over
            kind = events_pb2.SIGNAL_KIND_LOCK_EXPIRED
            lapsed = _lock_event(scope, path, current.holder, kind, current.expires_us, NOBODY)
            lapsed.event_id = expired_id
            batch.insert(0, prepare(scope, lapsed))
        append_in(tr, scope, batch, now, salt=salt)
        tr.set_versionstamped_value(key, codec.stamped_token(tail))
        return None, tr.get_versionstamp()

    lock, future = engine.transact(fn)
    if lock is not None:
        return lock
    assert future is not None
    return Lock(path, holder, future.result(), expires)


def renew(
    engine: Engine,
    scope: ProjectScope,
    clock: Clock,
    path: str,
    holder: str,
    token: bytes,
    ttl_s: float,
) -> Lock:
    """``Ledger.renew_lock``: extend a lease the caller still holds (same token)."""
    validate.file_path(path)
    _check_ttl(ttl_s)
    expires = clock() + int(ttl_s * 1_000_000)

    def fn(tr: Transaction) -> Lock:
        current = _current(tr, scope, path)
        if current is None or current.holder != holder or current.token != token:
            raise LockNotHeld(path, holder)
        tr.set(scope.keys.lock(path), token + codec.encode_lock_tail(expires, holder))
        return Lock(path, holder, token, expires)

    return engine.transact(fn)


def release(
    engine: Engine,
    scope: ProjectScope,
    clock: Clock,
    path: str,
    holder: str,
    token: bytes,
    on_behalf: Behalf,
) -> None:
    """``Ledger.release_lock``: clear the lock and record its release, if the token's."""
    validate.file_path(path)
    validate.agent_id(holder)
    now = clock()
    kind = events_pb2.SIGNAL_KIND_LOCK_RELEASED
    released = prepare(scope, _lock_event(scope, path, holder, kind, now, on_behalf))
    salt = new_salt()

    def fn(tr: Transaction) -> None:
        current = _current(tr, scope, path)
        if current is None or current.holder != holder or current.token != token:
            if landed_here(tr, scope, released, salt):
                return  # this call's release committed; FoundationDB reported it unknown
            raise LockNotHeld(path, holder)
        tr.clear(scope.keys.lock(path))
        append_in(tr, scope, [released], now, salt=salt)

    engine.transact(fn)


def get(engine: Engine, scope: ProjectScope, clock: Clock, path: str) -> Lock | None:
    """The live lock on ``path``, if any."""
    validate.file_path(path)
    now = clock()
    raw = engine.read(lambda tr: tr.get(scope.keys.lock(path)))
    lock = codec.decode_lock(path, raw) if raw is not None else None
    return lock if lock is not None and lock.live(now) else None


def live(engine: Engine, scope: ProjectScope, clock: Clock) -> list[Lock]:
    """Every live lock of the project."""
    pk = scope.keys
    now = clock()
    rows = engine.read(lambda tr: tr.get_range(pk.locks, strinc(pk.locks)))
    found = [codec.decode_lock(pk.path_of(k, pk.locks), v) for k, v in rows]
    return [lock for lock in found if lock.live(now)]


class Behalf(NamedTuple):
    """Who a lock event is for: the holder's role and mission, when the caller knows them
    (a lapsed lease's event knows only its holder)."""

    role: int = events_pb2.AGENT_ROLE_UNSPECIFIED
    mission_id: str = ""


NOBODY = Behalf()


def _lock_event(
    scope: ProjectScope, path: str, holder: str, kind: int, expires_us: int, on_behalf: Behalf
) -> events_pb2.SwarmEvent:
    event = system_event(
        scope,
        events_pb2.Signal(
            kind=kind,  # type: ignore[arg-type]
            subject=path,
            attributes={"holder": holder, "expires_us": str(expires_us)},
        ),
    )
    event.agent_id = holder
    event.mission_id = on_behalf.mission_id
    unsaid = on_behalf.role == events_pb2.AGENT_ROLE_UNSPECIFIED
    human = unsaid and holder.startswith("human:")
    event.agent_role = events_pb2.AGENT_ROLE_HUMAN if human else on_behalf.role  # type: ignore[assignment]
    return event
