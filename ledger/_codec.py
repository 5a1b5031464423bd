"""Byte layouts of the ledger's values (keys are in ``_keys``)."""

from __future__ import annotations

import struct

from ledger._errors import CorruptStore
from ledger._keys import INCOMPLETE
from ledger._types import FileState, Lock, RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2

RECORD_FORMAT = b"\x01"
CHAIN_BYTES = 32
GENESIS = b"\x00" * CHAIN_BYTES
_TIME = struct.Struct("<Bq")  # SwarmEvent.time_us: tag of field 9 as fixed64, then the value
_TIME_TAG = (9 << 3) | 1
_CLOCK = struct.Struct(">QQ")  # last time_us, event count; then the chain hash
_BLOB_META = struct.Struct(">QI")  # size, chunk count
_LOCK_TAIL = struct.Struct(">q")  # expiry after the 10-byte token
_OFFSET_ZERO = b"\x00\x00\x00\x00"  # set_versionstamped_value: placeholder at offset 0


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
        raise CorruptStore(f"event {vs}", f"unknown record format {value[:1].hex()}")
    event = events_pb2.SwarmEvent.FromString(value[1 + CHAIN_BYTES :])
    return RecordedEvent(vs, event, value[1 : 1 + CHAIN_BYTES])


def record_payload(value: bytes) -> tuple[bytes, bytes]:
    """(chain, event bytes) of a stored record, without parsing the event."""
    return value[1 : 1 + CHAIN_BYTES], value[1 + CHAIN_BYTES :]


def encode_clock(time_us: int, count: int, chain: bytes) -> bytes:
    return _CLOCK.pack(time_us, count) + chain


def decode_clock(value: bytes) -> tuple[int, int, bytes]:
    time_us, count = _CLOCK.unpack_from(value)
    return time_us, count, value[_CLOCK.size :]


def stamped_value(user_version: int, tail: bytes) -> bytes:
    """A value that starts with the transaction's 12-byte versionstamp."""
    return INCOMPLETE + user_version.to_bytes(2, "big") + tail + _OFFSET_ZERO


def stamped_token(tail: bytes) -> bytes:
    """A value that starts with the transaction's 10-byte versionstamp."""
    return INCOMPLETE + tail + _OFFSET_ZERO


def encode_file_tail(sha256: bytes, size: int) -> bytes:
    return sha256 + size.to_bytes(8, "big")


def decode_file(path: str, value: bytes) -> FileState:
    return FileState(
        path=path,
        versionstamp=Versionstamp(value[:12]),
        sha256=value[12:44],
        size=int.from_bytes(value[44:52], "big"),
    )


def encode_lock_tail(expires_us: int, holder: str) -> bytes:
    return _LOCK_TAIL.pack(expires_us) + holder.encode()


def decode_lock(path: str, value: bytes) -> Lock:
    (expires,) = _LOCK_TAIL.unpack_from(value, 10)
    return Lock(path=path, token=value[:10], expires_us=expires, holder=value[18:].decode())


def encode_blob_meta(size: int, chunks: int) -> bytes:
    return _BLOB_META.pack(size, chunks)


def decode_blob_meta(value: bytes) -> tuple[int, int]:
    size, chunks = _BLOB_META.unpack(value)
    return size, chunks


def encode_user_versions(uvs: list[int]) -> bytes:
    return b"".join(uv.to_bytes(2, "big") for uv in uvs)


def decode_user_versions(value: bytes) -> list[int]:
    return [int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value), 2)]
