"""Which API token took a person's lock, so only it (or an admin) may renew or release it.

Why: a lock's fencing token is the versionstamp of the transaction that
granted it, which is also the cursor of its LOCK_ACQUIRED event, so anyone
who can read the log knows it; and ``human:<name>`` is only a name. The
daemon therefore records the token id that took each API lock, in the
system tenant (unreachable through the API), next to the token records:
``l.<sha256(tenant, project, path)>`` → ``<token_id> <fencing token hex>``.
A record whose fencing token is not the lock's current one is stale (the
lock lapsed and was taken again) and binds nobody.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import ledger
from swarm.daemon._errors import PermissionDenied
from swarm.daemon._tokens import SYSTEM_TENANT, TOKENS_PROJECT, Role, TokenInfo


@dataclass(frozen=True, slots=True)
class LockOwner:
    """The API token that took a lock, and the lock's fencing token then."""

    token_id: str
    fencing: bytes


def _key(tenant: str, project: str, path: str) -> str:
    digest = hashlib.sha256("\0".join((tenant, project, path)).encode()).hexdigest()
    return f"l.{digest}"


class LockOwners:
    """Record and check the token behind each lock taken through the API."""

    def __init__(self, led: ledger.Ledger) -> None:
        self._led = led

    def owner(self, tenant: str, project: str, lock: ledger.Lock) -> LockOwner | None:
        """Who took ``lock`` through the API; None if no record binds it."""
        raw = self._led.get_cursor(SYSTEM_TENANT, TOKENS_PROJECT, _key(tenant, project, lock.path))
        if not raw:
            return None
        token_id, _, fencing = raw.decode().partition(" ")
        owner = LockOwner(token_id, bytes.fromhex(fencing))
        return owner if owner.fencing == lock.token else None

    def record(self, tenant: str, project: str, lock: ledger.Lock, token_id: str) -> None:
        value = f"{token_id} {lock.token.hex()}".encode()
        self._led.set_cursor(SYSTEM_TENANT, TOKENS_PROJECT, _key(tenant, project, lock.path), value)

    def forget(self, tenant: str, project: str, path: str) -> None:
        self._led.set_cursor(SYSTEM_TENANT, TOKENS_PROJECT, _key(tenant, project, path), b"")

    def may_see_token(self, who: TokenInfo, tenant: str, project: str, lock: ledger.Lock) -> bool:
        """Admins see every fencing token; anyone else only those of locks they took."""
        if who.role >= Role.ADMIN:
            return True
        owner = self.owner(tenant, project, lock)
        return owner is not None and owner.token_id == who.token_id

    def check(self, who: TokenInfo, tenant: str, project: str, path: str, verb: str) -> None:
        """PermissionDenied unless ``who`` took the live lock on ``path`` (or is an admin).

        No live lock passes: the ledger then says the lock is not held. A live
        lock with no record (taken before owners were recorded) binds to admins.
        """
        if who.role >= Role.ADMIN:
            return
        lock = self._led.get_lock(tenant, project, path)
        if lock is None:
            return
        owner = self.owner(tenant, project, lock)
        if owner is not None and owner.token_id == who.token_id:
            return
        taker = f"token {owner.token_id}" if owner is not None else "no recorded token"
        raise PermissionDenied(
            f"the lock on {path!r} is held by {lock.holder!r} through {taker}; only that token "
            f"or an admin may {verb} it (this is token {who.token_id})",
            tenant=who.tenant,
            role=who.role.label,
        )
