"""Bearer tokens: created and revoked as events, looked up by hash before the tenant is known.

A token is ``swt_<token_id>_<secret>``; only ``sha256(token)`` is stored. The
store lives in the system tenant ``swarm-system``, project ``tokens``: every
creation and revocation is a Decision event there (the audit trail), and the
current state is a small durable map kept with the ledger's named cursors:
``h.<sha256 hex>`` → the token's record, a ``TokenRecord`` message (what a
request is checked against; records written before records.proto are JSON
and still read), and ``i.<token_id>`` → its hash (so an admin can revoke by
id). Each creation and revocation writes its event and its map keys in one
ledger transaction, so a crash leaves either all of them or none.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from google.protobuf.message import DecodeError

import ledger
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import records_pb2 as rpb
from swarm.daemon._errors import (
    DaemonError,
    InvalidExpiry,
    InvalidRole,
    Unauthenticated,
    UnknownToken,
)

SYSTEM_TENANT = "swarm-system"
TOKENS_PROJECT = "tokens"
TOKEN_PREFIX = "swt_"
_MAX_TOKEN_CHARS = 256


class CorruptToken(DaemonError):
    """A stored token record the store cannot read (a DaemonError: INTERNAL on the wire,
    since it is the store's fault, not the caller's)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the token store holds an unreadable record: {detail}")
        self.detail = detail


class Role(enum.IntEnum):
    """What a token may do; each role from OPS up includes the ones below it."""

    SYNC = 0  # `swarm sync` into its tenant on this ledger only; no daemon call accepts it
    OPS = 1  # read and audit
    IDE = 2  # run missions, hold locks
    ADMIN = 3  # manage tokens

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except (KeyError, AttributeError):
            raise InvalidRole(text) from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as the store knows it (never its secret)."""

    token_id: str
    tenant: str
    role: Role
    label: str
    created_us: int
    revoked_us: int = 0
    expires_us: int = 0  # 0 = never

    @property
    def live(self) -> bool:
        """Not revoked (an expired token is still live, and refused by ``check``)."""
        return self.revoked_us == 0

    def expired(self, now_us: int) -> bool:
        return self.expires_us != 0 and now_us >= self.expires_us

    def encode(self) -> bytes:
        """The stored form: a ``TokenRecord`` message."""
        return rpb.TokenRecord(
            token_id=self.token_id,
            tenant=self.tenant,
            role=_STORED_ROLES[self.role],
            label=self.label,
            created_us=self.created_us,
            revoked_us=self.revoked_us,
            expires_us=self.expires_us,
        ).SerializeToString(deterministic=True)

    @classmethod
    def decode(cls, raw: bytes) -> TokenInfo:
        """The token ``raw`` records (a ``TokenRecord``, or the legacy JSON form);
        ``CorruptToken`` naming what is wrong otherwise. Nothing absent is defaulted."""
        if raw[:1] == b"{":  # a protobuf message never starts with '{' (field 15, group)
            return cls._decode_json(raw)
        try:
            msg = rpb.TokenRecord.FromString(raw)
        except DecodeError as exc:
            raise CorruptToken(f"not a TokenRecord ({exc})") from None
        role = _ROLES_STORED.get(msg.role)
        if role is None or not msg.token_id or not msg.tenant:
            raise CorruptToken(f"token {msg.token_id!r} lacks its id, tenant or role")
        return cls(
            msg.token_id,
            msg.tenant,
            role,
            msg.label,
            msg.created_us,
            msg.revoked_us,
            msg.expires_us,
        )

    @classmethod
    def _decode_json(cls, raw: bytes) -> TokenInfo:
        try:
            d = json.loads(raw)
            return cls(
                token_id=d["token_id"],
                tenant=d["tenant"],
                role=Role.parse(d["role"]),
                label=d["label"],
                created_us=int(d["created_us"]),
                revoked_us=int(d["revoked_us"]),
                # The legacy form left expires_us out before tokens could expire: never.
                expires_us=int(d.get("expires_us", 0)),
            )
        except (ValueError, KeyError, TypeError, InvalidRole) as exc:
            raise CorruptToken(f"legacy JSON record: {exc!r}") from None


_STORED_ROLES = {
    Role.SYNC: rpb.STORED_TOKEN_ROLE_SYNC,
    Role.OPS: rpb.STORED_TOKEN_ROLE_OPS,
    Role.IDE: rpb.STORED_TOKEN_ROLE_IDE,
    Role.ADMIN: rpb.STORED_TOKEN_ROLE_ADMIN,
}
_ROLES_STORED = {v: k for k, v in _STORED_ROLES.items()}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Create, revoke, list and check tokens, all kept in the ledger."""

    def __init__(self, led: ledger.Ledger) -> None:
        self._led = led
        led.create_tenant(SYSTEM_TENANT)
        led.create_project(SYSTEM_TENANT, TOKENS_PROJECT, exist_ok=True)

    def create(
        self, tenant: str, role: Role, label: str = "", *, expires_us: int = 0
    ) -> tuple[str, TokenInfo]:
        """A new token for ``tenant`` (created if absent); returns the secret once, and its info.

        ``expires_us`` (a wall-clock time, 0 = never) must lie in the future.
        """
        if expires_us < 0 or (expires_us and expires_us <= ledger.wall_clock_us()):
            raise InvalidExpiry(expires_us)
        self._led.create_tenant(tenant)  # validates the id, idempotent
        token_id = secrets.token_hex(6)
        secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        digest = token_hash(secret)
        now = ledger.wall_clock_us()
        info = TokenInfo(token_id, tenant, role, label, created_us=now, expires_us=expires_us)
        self._record(
            "token.create",
            info,
            now,
            {f"h.{digest}": info.encode(), f"i.{token_id}": digest.encode()},
        )
        return secret, info

    def revoke(self, tenant: str, token_id: str) -> TokenInfo:
        """Revoke a token of ``tenant`` at once; a token of another tenant is unknown here."""
        if not token_id or len(token_id) > 64 or not token_id.isalnum():
            raise UnknownToken(tenant, token_id)
        digest = self._led.get_cursor(SYSTEM_TENANT, TOKENS_PROJECT, f"i.{token_id}")
        raw = (
            self._led.get_cursor(SYSTEM_TENANT, TOKENS_PROJECT, f"h.{digest.decode()}")
            if digest
            else None
        )
        if digest is None or raw is None:
            raise UnknownToken(tenant, token_id)
        info = TokenInfo.decode(raw)
        if info.tenant != tenant:
            raise UnknownToken(tenant, token_id)
        if not info.live:
            return info
        now = ledger.wall_clock_us()
        revoked = replace(info, revoked_us=now)
        # The event and the record in one transaction: a crash leaves both or neither.
        self._record("token.revoke", info, now, {f"h.{digest.decode()}": revoked.encode()})
        return revoked

    def tokens(self, tenant: str | None = None) -> list[TokenInfo]:
        """Every token (of ``tenant``), oldest first, folded from the audit events."""
        ids: dict[str, tuple[str, str]] = {}
        for rec in self._led.iter_events(SYSTEM_TENANT, TOKENS_PROJECT):
            ev = rec.event
            if ev.WhichOneof("payload") != "decision" or not ev.decision.kind.startswith("token."):
                continue
            attrs = ev.decision.attributes
            if tenant is None or attrs["tenant"] == tenant:
                ids[attrs["token_id"]] = (attrs["tenant"], attrs["token_id"])
        out = []
        for token_id in ids:
            digest = self._led.get_cursor(SYSTEM_TENANT, TOKENS_PROJECT, f"i.{token_id}")
            if digest is None:
                continue
            raw = self._led.get_cursor(SYSTEM_TENANT, TOKENS_PROJECT, f"h.{digest.decode()}")
            if raw is not None:
                out.append(TokenInfo.decode(raw))
        return out

    def check(self, token: str) -> TokenInfo:
        """The live token's info; ``Unauthenticated`` naming why otherwise."""
        if not token:
            raise Unauthenticated("no bearer token: send metadata 'authorization: Bearer <token>'")
        if len(token) > _MAX_TOKEN_CHARS or not token.startswith(TOKEN_PREFIX):
            raise Unauthenticated("malformed bearer token (expected swt_…)")
        raw = self._led.get_cursor(SYSTEM_TENANT, TOKENS_PROJECT, f"h.{token_hash(token)}")
        if raw is None:
            raise Unauthenticated("unknown bearer token")
        info = TokenInfo.decode(raw)
        if not info.live:
            raise Unauthenticated(f"token {info.token_id} was revoked")
        return self.check_expiry(info)

    @staticmethod
    def check_expiry(info: TokenInfo) -> TokenInfo:
        """``info`` unless the token has expired by now (``Unauthenticated`` saying so)."""
        if info.expired(ledger.wall_clock_us()):
            when = datetime.fromtimestamp(info.expires_us / 1e6, tz=UTC).isoformat()
            raise Unauthenticated(f"token {info.token_id} expired at {when}")
        return info

    def _record(self, kind: str, info: TokenInfo, now: int, cursors: dict[str, bytes]) -> None:
        """Append the audit event of ``kind`` for ``info`` (at ``now``) and write ``cursors``
        (the token map's keys) in the same transaction."""
        event = pb.SwarmEvent(
            event_id=ledger.new_event_id(),
            agent_role=pb.AGENT_ROLE_SYSTEM,
            agent_id="swarm-admin",
            time_us=now,  # the time the record holds; the ledger keeps it unless the clock stepped
            decision=pb.Decision(
                kind=kind,
                outcome=kind.split(".", 1)[1] + "d",
                attributes={
                    "tenant": info.tenant,
                    "token_id": info.token_id,
                    "role": info.role.label,
                    "label": info.label,
                    "expires_us": str(info.expires_us),
                },
            ),
        )
        self._led.append(SYSTEM_TENANT, TOKENS_PROJECT, [event], cursors=cursors)
