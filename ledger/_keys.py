"""The ledger's key space, declared once.

Every key is a tenant's directory prefix followed by a FoundationDB tuple.
Versionstamps are the tuple's type code 0x33 and their 12 bytes; this module
writes that element itself because ``fdb.tuple`` can only encode a
``Versionstamp`` once the C client is loaded. ``docs/keyspace.md`` lists every
key with a byte example; ``tests/ledger/test_keys.py`` checks the examples.

Within one tenant prefix ``T``::

    T ('proj', project)                   → ProjectMeta    project registry
    T ('eid', event_id)                   → vs(12) project [NUL receipt(16)]  idempotency record
    T ('blobmeta', sha256)                → size, chunks   present once complete
    T ('blob', sha256, i)                 → chunk ≤ 90 KB
    T ('p', project, 'clock')             → time, count, chain   the one key every append reads
    T ('p', project, 'head')              → vs(10)         bumped by every append; watched
    T ('p', project, 'ev', vs)            → record         the log
    T ('p', project, 'at', time_us, vs)   → ''             first event of each transaction
    T ('p', project, 'ix', kind, value, vs) → user versions  path/agent/mission history
    T ('p', project, 'file', path)        → vs, sha256, size  materialised head
    T ('p', project, 'lock', path)        → token, expiry, holder
    T ('p', project, 'cursor', name)      → bytes          a reader's durable position
    T ('p', project, 'snap', vs)          → manifest       replay snapshots

In the workspace registry's own directory subspace ``W`` (no tenant's)::

    W ('name', root, name)                → claim          who owns a workspace folder
    W ('project', tenant, project)        → claim          which folder a project owns
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import fdb.tuple as fdbtuple

from ledger._errors import CorruptRecord
from ledger._types import TR_VERSION_BYTES, Versionstamp

VERSIONSTAMP_CODE = b"\x33"
INCOMPLETE = b"\xff" * TR_VERSION_BYTES

# Index kinds under ('ix', kind, value, vs).
IX_PATH = "path"
IX_AGENT = "agent"
IX_MISSION = "mission"
INDEX_KINDS = (IX_PATH, IX_AGENT, IX_MISSION)


def pack(items: tuple[object, ...], prefix: bytes = b"") -> bytes:
    """The tuple encoding of ``items`` after ``prefix`` (``fdb.tuple.pack``, typed)."""
    return cast(bytes, fdbtuple.pack(items, prefix=prefix))


def unpack(key: bytes, prefix_len: int = 0) -> tuple[object, ...]:
    return cast(tuple[object, ...], fdbtuple.unpack(key, prefix_len))


def str_element(text: str) -> bytes:
    """A unicode string as a tuple element (type 0x02, NULs escaped), as fdb.tuple packs it."""
    return b"\x02" + text.encode().replace(b"\x00", b"\x00\xff") + b"\x00"


def bytes_element(data: bytes) -> bytes:
    """A byte string as a tuple element (type 0x01, NULs escaped), as fdb.tuple packs it."""
    return b"\x01" + data.replace(b"\x00", b"\x00\xff") + b"\x00"


_EID = pack(("eid",))
_BLOBMETA = pack(("blobmeta",))


def vs_element(vs: Versionstamp) -> bytes:
    """A complete versionstamp as a tuple element."""
    return VERSIONSTAMP_CODE + vs.raw


@lru_cache(maxsize=4096)
def _index_element(kind: str, value: str) -> bytes:
    """The (kind, value) part of an index key: few distinct ones recur in every append."""
    return str_element(kind) + str_element(value)


def incomplete_key(prefix: bytes, user_version: int, suffix: bytes = b"") -> bytes:
    """``prefix`` + an incomplete versionstamp element (+ ``suffix``), ready for
    set_versionstamped_key."""
    offset = len(prefix) + 1
    return (
        prefix
        + VERSIONSTAMP_CODE
        + INCOMPLETE
        + user_version.to_bytes(2, "big")
        + suffix
        + struct.pack("<I", offset)
    )


def vs_from_key(key: bytes) -> Versionstamp:
    """The versionstamp that ends a key."""
    return Versionstamp(key[-12:])


def strinc(prefix: bytes) -> bytes:
    """The first key after every key that starts with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        raise ValueError("a key of only 0xFF bytes has no successor prefix")
    return stripped[:-1] + bytes([stripped[-1] + 1])


@dataclass(frozen=True, slots=True)
class TenantKeys:
    """Keys of one tenant, under its directory prefix."""

    prefix: bytes

    def project_meta(self, project: str) -> bytes:
        return pack(("proj", project), self.prefix)

    def projects(self) -> tuple[bytes, bytes]:
        start = self.prefix + pack(("proj",))
        return start, strinc(start)

    def event_id(self, event_id: str) -> bytes:
        return self.prefix + _EID + str_element(event_id)

    def blob_meta(self, sha256: bytes) -> bytes:
        return self.prefix + _BLOBMETA + bytes_element(sha256)

    def blob_chunk(self, sha256: bytes, index: int) -> bytes:
        return pack(("blob", sha256, index), self.prefix)

    def blob_chunks(self, sha256: bytes) -> tuple[bytes, bytes]:
        start = self.prefix + pack(("blob", sha256))
        return start, strinc(start)

    def project(self, project: str) -> ProjectKeys:
        return ProjectKeys.of(self.prefix, project)


@dataclass(frozen=True, slots=True)
class ProjectKeys:
    """Keys of one project; prefixes are computed once, keys are concatenations."""

    base: bytes
    clock: bytes
    head: bytes
    events: bytes  # prefix of ('ev', vs)
    at: bytes  # prefix of ('at', ...)
    files: bytes  # prefix of ('file', ...)
    locks: bytes  # prefix of ('lock', ...)
    index: bytes  # prefix of ('ix', ...)
    recent: bytes  # prefix of ('ixr', vs, part): index entries not yet folded into 'ix'

    @classmethod
    def of(cls, tenant_prefix: bytes, project: str) -> ProjectKeys:
        base = pack(("p", project), tenant_prefix)
        return cls(
            base=base,
            clock=base + pack(("clock",)),
            head=base + pack(("head",)),
            events=base + pack(("ev",)),
            at=base + pack(("at",)),
            files=base + pack(("file",)),
            locks=base + pack(("lock",)),
            index=base + pack(("ix",)),
            recent=base + pack(("ixr",)),
        )

    # the log ---------------------------------------------------------------
    def event(self, vs: Versionstamp) -> bytes:
        return self.events + vs_element(vs)

    def event_incomplete(self, user_version: int) -> bytes:
        return incomplete_key(self.events, user_version)

    def event_span(self) -> tuple[bytes, bytes]:
        """Every event key: the events prefix up to its successor."""
        return self.events, strinc(self.events)

    # time ------------------------------------------------------------------
    def at_prefix(self, time_us: int) -> bytes:
        return self.at + pack((time_us,))

    def at_incomplete(self, time_us: int, user_version: int) -> bytes:
        return incomplete_key(self.at_prefix(time_us), user_version)

    # indexes ---------------------------------------------------------------
    def index_prefix(self, kind: str, value: str) -> bytes:
        return self.index + _index_element(kind, value)

    def index_key(self, kind: str, value: str, vs: Versionstamp) -> bytes:
        return self.index_prefix(kind, value) + vs_element(vs)

    def recent_incomplete(self, part: int) -> bytes:
        """This transaction's row of unfolded index entries (part n of a large one)."""
        return incomplete_key(self.recent, 0, pack((part,)))

    def recent_span(self) -> tuple[bytes, bytes]:
        return self.recent, strinc(self.recent)

    # state -----------------------------------------------------------------
    def file(self, path: str) -> bytes:
        return self.files + str_element(path)

    def lock(self, path: str) -> bytes:
        return self.locks + str_element(path)

    def cursor(self, name: str) -> bytes:
        return self.base + pack(("cursor", name))

    def snapshot_prefix(self) -> bytes:
        """Prefix of ('snap', vs) keys, where replay keeps its manifests."""
        return self.base + pack(("snap",))

    def path_of(self, key: bytes, prefix: bytes) -> str:
        """The path element of a ('file'|'lock', path) key; ``CorruptRecord`` if it has none."""
        try:
            (path,) = unpack(key, len(prefix))
        except Exception as exc:  # fdb.tuple raises several types on bad bytes
            raise CorruptRecord("key", key.hex(), f"not a tuple-encoded path: {exc!r}") from None
        if not isinstance(path, str):
            raise CorruptRecord("key", key.hex(), f"its path element is {type(path).__name__}")
        return path


@dataclass(frozen=True, slots=True)
class WorkspaceKeys:
    """The workspace registry: a directory subspace of its own, outside every tenant's,
    because one folder must never be claimed by two tenants."""

    prefix: bytes

    def by_name(self, root: str, name: str) -> bytes:
        return pack(("name", root, name), self.prefix)

    def by_project(self, tenant: str, project: str) -> bytes:
        return pack(("project", tenant, project), self.prefix)
