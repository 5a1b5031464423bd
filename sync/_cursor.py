"""The edge's durable record of how far it has shipped to one hub."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from google.protobuf.message import DecodeError

import ledger
from ledger import Ledger, Versionstamp
from proto.swarm.v1 import records_pb2 as rpb
from sync._errors import CorruptCursor, InvalidSyncArgument

CURSOR_PREFIX = "sync.to."
_HUB_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_LEGACY_FORMAT = 1  # the JSON cursors written before records.proto


def check_hub_name(name: str) -> str:
    """A hub's name keys the edge's cursor; keep it short and plain."""
    if not isinstance(name, str) or _HUB_NAME.fullmatch(name) is None:
        raise InvalidSyncArgument(
            f"hub name {name!r}: use 1-64 of a-z 0-9 _ . -, starting with a letter or digit"
        )
    return name


def hub_name_for(url: str) -> str:
    """A stable name for the hub a URL names (its digest), for when none is given."""
    return "hub-" + hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where shipping to ``hub`` stands: the last edge event the hub is known to hold.

    ``handled`` counts edge events dealt with (landed, already there, or
    parked as a conflict); ``updated_us`` is when the cursor last moved.
    """

    hub: str
    versionstamp: Versionstamp | None
    handled: int
    updated_us: int

    def encode(self) -> bytes:
        """The stored form: a ``SyncCursor`` message."""
        return rpb.SyncCursor(
            hub=self.hub,
            versionstamp=self.versionstamp.raw if self.versionstamp else b"",
            handled=self.handled,
            updated_us=self.updated_us,
        ).SerializeToString(deterministic=True)

    @classmethod
    def decode(cls, hub: str, raw: bytes) -> Cursor:
        """The cursor ``raw`` holds for ``hub`` (a ``SyncCursor``, or the legacy JSON form);
        ``ValueError`` naming what is wrong otherwise."""
        if raw[:1] == b"{":  # a protobuf message never starts with '{' (field 15, group)
            return cls._decode_json(hub, raw)
        try:
            msg = rpb.SyncCursor.FromString(raw)
        except DecodeError as exc:
            raise ValueError(f"not a SyncCursor ({exc})") from None
        if msg.hub != hub:
            raise ValueError(f"it is the cursor of hub {msg.hub!r}")
        vs = Versionstamp(msg.versionstamp) if msg.versionstamp else None
        return cls(hub, vs, msg.handled, msg.updated_us)

    @classmethod
    def _decode_json(cls, hub: str, raw: bytes) -> Cursor:
        doc = json.loads(raw)
        if doc.get("format") != _LEGACY_FORMAT or doc.get("hub") != hub:
            raise ValueError(f"format {doc.get('format')!r} for hub {doc.get('hub')!r}")
        vs = Versionstamp.parse(doc["vs"]) if doc["vs"] else None
        return cls(hub, vs, int(doc["handled"]), int(doc["updated_us"]))


def cursor_name(hub: str) -> str:
    return CURSOR_PREFIX + hub


def load_cursor(edge: Ledger, tenant: str, project: str, hub: str) -> Cursor:
    """The stored cursor, or the start of the log when sync never ran for this hub."""
    name = cursor_name(hub)
    raw = edge.get_cursor(tenant, project, name)
    if raw is None:
        return Cursor(hub, None, 0, 0)
    try:
        return Cursor.decode(hub, raw)
    except (ValueError, KeyError, TypeError, AttributeError, ledger.InvalidArgument) as exc:
        raise CorruptCursor(tenant, project, name, str(exc)) from exc


def store_cursor(edge: Ledger, tenant: str, project: str, cursor: Cursor) -> None:
    edge.set_cursor(tenant, project, cursor_name(cursor.hub), cursor.encode())
