"""Content-addressed blobs: stored once per tenant, in chunks under the value limit.

A blob is ``('blob', sha256, i)`` chunks of at most ``BLOB_CHUNK`` bytes and a
``('blobmeta', sha256)`` key (size, chunk count) that lands only after every
chunk has, so a present meta key means a complete blob. Every read is checked
against the hash it was asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from ledger import _codec as codec
from ledger._errors import CorruptRecord, CorruptStore, UnknownBlob
from ledger._keys import strinc, unpack
from ledger._port import Engine, Transaction
from ledger._scope import TenantScope
from ledger._types import BlobRef

BLOB_CHUNK = 90_000
_CHUNKS_PER_TRANSACTION = 80  # 7.2 MB, under the 10 MB transaction limit
_READ_GROUP = 500  # blobs looked up per read transaction
_Found = list[tuple[bytes, int, bytes | None]]  # sha, size, the one chunk (None: several)


def put(engine: Engine, scope: TenantScope, data: bytes) -> BlobRef:
    """Store ``data`` unless it is already stored; its ref either way."""
    tk = scope.keys
    sha = hashlib.sha256(data).digest()
    ref = BlobRef(sha, len(data))
    meta = tk.blob_meta(sha)
    if engine.read(lambda tr: tr.get(meta)) is not None:
        return ref
    chunks = [data[i : i + BLOB_CHUNK] for i in range(0, len(data), BLOB_CHUNK)] or [b""]
    step = _CHUNKS_PER_TRANSACTION
    for start in range(0, len(chunks), step):
        group = chunks[start : start + step]
        last = start + step >= len(chunks)

        def fn(
            tr: Transaction, group: list[bytes] = group, start: int = start, last: bool = last
        ) -> None:
            for i, chunk in enumerate(group, start):
                tr.set(tk.blob_chunk(sha, i), chunk)
            if last:  # the meta key lands only once every chunk has
                tr.set(meta, codec.encode_blob_meta(len(data), len(chunks)))

        engine.transact(fn)
    return ref


def put_many(engine: Engine, scope: TenantScope, items: Sequence[bytes]) -> list[BlobRef]:
    """Store many: one read finds the new ones, the new one-chunk blobs land together
    (up to 7.2 MB a transaction), a bigger one goes through ``put``."""
    tk = scope.keys
    refs = [BlobRef(hashlib.sha256(d).digest(), len(d)) for d in items]
    metas = [tk.blob_meta(r.sha256) for r in refs]
    have = engine.read(lambda tr: [tr.get(m) is not None for m in metas])
    small: dict[bytes, bytes] = {}
    for data, ref, present in zip(items, refs, have, strict=True):
        if present or ref.sha256 in small:
            continue
        if len(data) > BLOB_CHUNK:
            put(engine, scope, data)
        else:
            small[ref.sha256] = data
    parts: list[list[tuple[bytes, bytes]]] = [[]]
    size = 0
    for sha, data in small.items():
        if size + len(data) > _CHUNKS_PER_TRANSACTION * BLOB_CHUNK:
            parts.append([])
            size = 0
        parts[-1].append((sha, data))
        size += len(data)
    for part in parts:
        if not part:
            continue

        def fn(tr: Transaction, part: list[tuple[bytes, bytes]] = part) -> None:
            for sha, data in part:
                tr.set(tk.blob_chunk(sha, 0), data)
                tr.set(tk.blob_meta(sha), codec.encode_blob_meta(len(data), 1))

        engine.transact(fn)
    return refs


def has(engine: Engine, scope: TenantScope, sha256: bytes) -> bool:
    """Whether the tenant stores the complete blob ``sha256``."""
    return engine.read(lambda tr: tr.get(scope.keys.blob_meta(sha256))) is not None


def get(engine: Engine, scope: TenantScope, sha256: bytes) -> bytes:
    """The blob's bytes, read a transaction's worth of chunks at a time, checked."""
    tk = scope.keys
    meta = engine.read(lambda tr: tr.get(tk.blob_meta(sha256)))
    if meta is None:
        raise UnknownBlob(sha256.hex())
    size, count = codec.decode_blob_meta(meta, sha256)
    parts: list[bytes] = []
    step = _CHUNKS_PER_TRANSACTION
    for start in range(0, count, step):
        begin = tk.blob_chunk(sha256, start)
        end = tk.blob_chunk(sha256, min(start + step, count))

        def fn(tr: Transaction, b: bytes = begin, e: bytes = end) -> list[tuple[bytes, bytes]]:
            return tr.get_range(b, e)

        parts.extend(v for _, v in engine.read(fn))
    return _checked(sha256, size, b"".join(parts))


def get_many(engine: Engine, scope: TenantScope, shas: Sequence[bytes]) -> dict[bytes, bytes]:
    """Many blobs by hash: the one-chunk ones in batched reads, larger ones through
    ``get``; each checked, ``UnknownBlob`` for the first that is absent."""
    tk = scope.keys
    out: dict[bytes, bytes] = {}
    unique = list(dict.fromkeys(shas))
    for start in range(0, len(unique), _READ_GROUP):
        group = unique[start : start + _READ_GROUP]

        def fn(tr: Transaction, group: list[bytes] = group) -> _Found:
            metas = tr.get_many([tk.blob_meta(s) for s in group])
            found: _Found = []
            singles = []
            for sha, meta in zip(group, metas, strict=True):
                if meta is None:
                    raise UnknownBlob(sha.hex())
                size, count = codec.decode_blob_meta(meta, sha)
                if count == 1:
                    singles.append((sha, size))
                else:
                    found.append((sha, size, None))
            chunks = tr.get_many([tk.blob_chunk(s, 0) for s, _ in singles])
            found.extend((s, n, c) for (s, n), c in zip(singles, chunks, strict=True))
            return found

        for sha, size, data in engine.read(fn):
            out[sha] = get(engine, scope, sha) if data is None else _checked(sha, size, data)
    return out


def names(engine: Engine, scope: TenantScope) -> list[bytes]:
    """The sha256 of every complete blob the tenant stores (its meta key landed)."""
    tk = scope.keys
    begin = tk.blob_meta(b"")[:-2]  # the ('blobmeta',) prefix: drop the empty bytes element
    rows = engine.read(lambda tr: tr.get_range(begin, strinc(begin)))
    found = []
    for key, _ in rows:
        try:
            _, sha = unpack(key, len(tk.prefix))
        except Exception as exc:  # fdb.tuple raises several types on bad bytes
            raise CorruptRecord("blob meta key", key.hex(), repr(exc)) from None
        if not isinstance(sha, bytes):
            raise CorruptRecord("blob meta key", key.hex(), "its sha256 element is not bytes")
        found.append(sha)
    return found


def _checked(sha256: bytes, size: int, data: bytes) -> bytes:
    if len(data) != size or hashlib.sha256(data).digest() != sha256:
        raise CorruptStore(f"blob {sha256.hex()}", "content does not match its hash")
    return data
