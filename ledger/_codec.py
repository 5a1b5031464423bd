"""Byte layouts of the ledger's values (keys are in ``_keys``)."""

from __future__ import annotations

import struct
from hashlib import sha256

from google.protobuf.message import DecodeError

from ledger._errors import ChainMismatch, CorruptRecord, CorruptStore
from ledger._keys import INCOMPLETE, pack, unpack
from ledger._types import (
    TR_VERSION_BYTES,
    FileState,
    Lock,
    RecordedEvent,
    Versionstamp,
    WorkspaceClaim,
)
from proto.swarm.v1 import events_pb2

RECORD_FORMAT = b"\x01"
CHAIN_BYTES = 32
GENESIS = b"\x00" * CHAIN_BYTES
_TIME = struct.Struct("<Bq")  # SwarmEvent.time_us: tag of field 9 as fixed64, then the value
_TIME_TAG = (9 << 3) | 1
_CLOCK = struct.Struct(">QQ")  # last time_us, event count; then the chain hash
_BLOB_META = struct.Struct(">QI")  # size, chunk count
_LOCK_TAIL = struct.Struct(">q")  # expiry after the 10-byte token
_UNFOLDED = struct.Struct(">I")
_OFFSET_ZERO = b"\x00\x00\x00\x00"  # set_versionstamped_value: placeholder at offset 0
# Times the ledger can have stamped: from the epoch to the last microsecond datetime holds.
_MAX_TIME_US = 253_402_300_799_999_999
_FILE_BYTES = 12 + 32 + 8
_LOCK_HEAD = 10 + _LOCK_TAIL.size
_CLOCK_BYTES = _CLOCK.size + CHAIN_BYTES

# Every decode_* below turns damaged bytes into CorruptRecord naming the record, so no
# caller sees a protobuf DecodeError, a struct.error or a short-slice TypeError.


def string_field(number: int, text: str) -> bytes:
    """A protobuf string field (wire type 2) with a length under 128 bytes."""
    data = text.encode()
    if len(data) > 127:
        raise ValueError("string_field covers ids only (under 128 bytes)")
    return bytes(((number << 3) | 2, len(data))) + data


def stamp_time(body: bytes, time_us: int) -> bytes:
    """``body`` with its time_us field set: protobuf keeps the last scalar it reads."""
    return body + _TIME.pack(_TIME_TAG, time_us)


def record(chain: bytes, data: bytes) -> bytes:
    return RECORD_FORMAT + chain + data


def decode_record(vs: Versionstamp, value: bytes) -> RecordedEvent:
    if value[:1] != RECORD_FORMAT or len(value) < 1 + CHAIN_BYTES:
        raise CorruptRecord("event", str(vs), f"unknown record format {value[:1].hex() or 'empty'}")
    try:
        event = events_pb2.SwarmEvent.FromString(value[1 + CHAIN_BYTES :])
    except DecodeError as exc:
        raise CorruptRecord("event", str(vs), f"its bytes do not parse: {exc}") from None
    if not 0 <= event.time_us <= _MAX_TIME_US:
        raise CorruptRecord("event", str(vs), f"time_us {event.time_us} is no time it was given")
    return RecordedEvent(vs, event, value[1 : 1 + CHAIN_BYTES])


def decode_linked(
    vs: Versionstamp, value: bytes, previous: bytes, previous_vs: Versionstamp | None
) -> RecordedEvent:
    """``decode_record`` of a record checked to follow ``previous``, the chain hash of the
    record before it (``previous_vs``; None: it opens the log), so damaged event bytes are
    refused before anything reads what they say."""
    if sha256(previous + value[1 + CHAIN_BYTES :]).digest() != value[1 : 1 + CHAIN_BYTES]:
        before = f"event {previous_vs}" if previous_vs is not None else "the log's start"
        raise ChainMismatch(
            str(vs),
            -1,
            f"it does not follow {before} in the hash chain: one of them was altered "
            "(`swarm audit verify` names which)",
        )
    return decode_record(vs, value)


def record_payload(value: bytes) -> tuple[bytes, bytes]:
    """(chain, event bytes) of a stored record, without parsing the event."""
    return value[1 : 1 + CHAIN_BYTES], value[1 + CHAIN_BYTES :]


def encode_clock(time_us: int, count: int, chain: bytes, unfolded: int = 0) -> bytes:
    """The project clock: last time, event count, chain hash, and the weight of the
    index rows not yet folded (see ``_index.fold``)."""
    return _CLOCK.pack(time_us, count) + chain + _UNFOLDED.pack(unfolded)


def decode_clock(value: bytes) -> tuple[int, int, bytes]:
    if len(value) < _CLOCK_BYTES:
        raise CorruptRecord("project clock", "", f"{len(value)} bytes, expected {_CLOCK_BYTES}+")
    time_us, count = _CLOCK.unpack_from(value)
    return time_us, count, value[_CLOCK.size : _CLOCK_BYTES]


def decode_unfolded(value: bytes) -> int:
    tail = value[_CLOCK_BYTES:]
    if tail and len(tail) != _UNFOLDED.size:
        raise CorruptRecord("project clock", "", f"a {len(tail)}-byte tail, expected 4")
    return _UNFOLDED.unpack(tail)[0] if tail else 0


def stamped_value(user_version: int, tail: bytes) -> bytes:
    """A value that starts with the transaction's 12-byte versionstamp."""
    return INCOMPLETE + user_version.to_bytes(2, "big") + tail + _OFFSET_ZERO


def stamped_token(tail: bytes) -> bytes:
    """A value that starts with the transaction's 10-byte versionstamp."""
    return INCOMPLETE + tail + _OFFSET_ZERO


def encode_file_tail(sha256: bytes, size: int) -> bytes:
    return sha256 + size.to_bytes(8, "big")


def decode_file(path: str, value: bytes) -> FileState:
    if len(value) != _FILE_BYTES:
        raise CorruptRecord("file head", repr(path), f"{len(value)} bytes, expected {_FILE_BYTES}")
    return FileState(
        path=path,
        versionstamp=Versionstamp(value[:12]),
        sha256=value[12:44],
        size=int.from_bytes(value[44:52], "big"),
    )


RECEIPT_BYTES = 16


def event_id_tail(project: str, receipt: bytes) -> bytes:
    """What follows the 12-byte versionstamp in an idempotency record: the project and,
    after a NUL no project name holds, the receipt of the append that wrote it."""
    return project.encode() + (b"\x00" + receipt if receipt else b"")


def decode_event_id(event_id: str, value: bytes) -> tuple[str, Versionstamp]:
    """The project and versionstamp an idempotency record says an event id landed at."""
    try:
        return value[12:].split(b"\x00", 1)[0].decode(), Versionstamp(value[:12])
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptRecord("event id record", repr(event_id), str(exc)) from None


def event_id_receipt(value: bytes) -> bytes:
    """The receipt an idempotency record holds (b"" in records written before receipts)."""
    _, _, receipt = value[12:].partition(b"\x00")
    return receipt


def encode_lock_tail(expires_us: int, holder: str) -> bytes:
    return _LOCK_TAIL.pack(expires_us) + holder.encode()


def decode_lock(path: str, value: bytes) -> Lock:
    try:
        (expires,) = _LOCK_TAIL.unpack_from(value, 10)
        holder = value[_LOCK_HEAD:].decode()
    except (struct.error, UnicodeDecodeError) as exc:
        raise CorruptRecord("lock", repr(path), str(exc)) from None
    return Lock(path=path, token=value[:10], expires_us=expires, holder=holder)


def encode_claim(claim: WorkspaceClaim) -> bytes:
    """A workspace claim as a tuple (root, name, tenant, project, claimed_us)."""
    return pack((claim.root, claim.name, claim.tenant, claim.project, claim.claimed_us))


def decode_claim(value: bytes) -> WorkspaceClaim:
    try:
        root, name, tenant, project, claimed_us = unpack(value)
    except (ValueError, TypeError) as exc:
        raise CorruptStore("workspace registry", f"a claim does not decode: {exc}") from None
    if not all(isinstance(x, str) for x in (root, name, tenant, project)) or not isinstance(
        claimed_us, int
    ):
        raise CorruptStore("workspace registry", "a claim holds the wrong types")
    return WorkspaceClaim(str(root), str(name), str(tenant), str(project), int(claimed_us))


def encode_blob_meta(size: int, chunks: int) -> bytes:
    return _BLOB_META.pack(size, chunks)


def decode_blob_meta(value: bytes, sha256: bytes = b"") -> tuple[int, int]:
    try:
        size, chunks = _BLOB_META.unpack(value)
    except struct.error as exc:
        raise CorruptRecord("blob meta", sha256.hex(), str(exc)) from None
    return size, chunks


# Unfolded index rows: for each (kind, value) a transaction touched, kind code (1),
# value length (2 BE), value UTF-8, count (2 BE), user versions (2 BE each).
INDEX_KINDS = ("path", "agent", "mission")
_KIND_CODES = {kind: code for code, kind in enumerate(INDEX_KINDS)}
_GROUP_HEAD = struct.Struct(">BH")
_COUNT = struct.Struct(">H")


def encode_index_groups(groups: dict[tuple[str, str], list[int]], part_bytes: int) -> list[bytes]:
    """One transaction's index entries, in parts of at most about ``part_bytes``."""
    parts: list[bytes] = []
    entries: list[bytes] = []
    size = 0
    for (kind, value), uvs in groups.items():
        name = value.encode()
        entry = (
            _GROUP_HEAD.pack(_KIND_CODES[kind], len(name))
            + name
            + struct.pack(f">H{len(uvs)}H", len(uvs), *uvs)
        )
        if entries and size + len(entry) > part_bytes:
            parts.append(b"".join(entries))
            entries, size = [], 0
        entries.append(entry)
        size += len(entry)
    if entries:
        parts.append(b"".join(entries))
    return parts


def decode_index_groups(data: bytes) -> list[tuple[str, str, bytes]]:
    """The entries ``encode_index_groups`` wrote: kind, value, and the count and user
    versions still packed (a folded segment's tail as is); CorruptStore if they do not parse."""
    out = []
    i = 0
    end = len(data)
    try:
        while i < end:
            code, n = _GROUP_HEAD.unpack_from(data, i)
            i += _GROUP_HEAD.size
            value = data[i : i + n].decode()
            i += n
            (count,) = _COUNT.unpack_from(data, i)
            j = i + _COUNT.size + 2 * count
            if j > end:
                raise IndexError("truncated user versions")
            out.append((INDEX_KINDS[code], value, data[i:j]))
            i = j
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise CorruptRecord("unfolded index row", "", str(exc)) from None
    return out


def user_versions(counted: bytes) -> tuple[int, ...]:
    """The user versions of a count-prefixed run (as ``decode_index_groups`` gives them)."""
    return struct.unpack_from(f">{(len(counted) - _COUNT.size) // 2}H", counted, _COUNT.size)


# Folded index rows: segments of one transaction's matching events each:
# its 10-byte versionstamp, a count (2 BE), user versions (2 BE each).
def folded_segment(tr_version: bytes, counted: bytes) -> bytes:
    return tr_version + counted


def segment_start(segment: bytes) -> Versionstamp:
    """The first versionstamp of a folded segment (the key of the row it opens)."""
    at = TR_VERSION_BYTES + _COUNT.size
    return Versionstamp(segment[:TR_VERSION_BYTES] + segment[at : at + 2])


def decode_folded(data: bytes) -> list[Versionstamp]:
    """Every versionstamp a folded index row holds, in order."""
    out: list[Versionstamp] = []
    i = 0
    try:
        while i < len(data):
            tr_version = data[i : i + TR_VERSION_BYTES]
            (count,) = _COUNT.unpack_from(data, i + TR_VERSION_BYTES)
            i += TR_VERSION_BYTES + _COUNT.size
            uvs = struct.unpack_from(f">{count}H", data, i)
            i += 2 * count
            out += [Versionstamp.of(tr_version, uv) for uv in uvs]
    except (struct.error, ValueError) as exc:
        raise CorruptRecord("index row", "", str(exc)) from None
    return out
