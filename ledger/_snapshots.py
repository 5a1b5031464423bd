"""Replay snapshots: a manifest blob per snapshotted versionstamp.

A snapshot is the key ``('p', project, 'snap', vs)`` whose value is the
sha256 of a blob holding the manifest bytes (so a manifest of any size is
chunked by the blob store and checked against its hash on read). The
manifest's format is replay's business; the ledger only stores it.
"""

from __future__ import annotations

import hashlib

from ledger import _codec as codec
from ledger._errors import CorruptStore, UnknownBlob
from ledger._keys import strinc, vs_element, vs_from_key
from ledger._ledger import Ledger
from ledger._port import Transaction
from ledger._types import Versionstamp


def put_snapshot(
    led: Ledger, tenant: str, project: str, versionstamp: Versionstamp, manifest: bytes
) -> None:
    """Store ``manifest`` as the snapshot taken at ``versionstamp`` (idempotent)."""
    _, pk = led._keys(tenant, project)
    ref = led.put_blob(tenant, manifest)
    key = pk.snapshot_prefix() + vs_element(versionstamp)

    def fn(tr: Transaction) -> None:
        led._require_project(tr, pk, tenant, project)
        tr.set(key, ref.sha256)

    led.engine.transact(fn)


def snapshot_at_or_before(
    led: Ledger, tenant: str, project: str, versionstamp: Versionstamp | None = None
) -> tuple[Versionstamp, bytes] | None:
    """The newest snapshot at or before ``versionstamp`` (any, if None) and its manifest."""
    _, pk = led._keys(tenant, project)
    begin = pk.snapshot_prefix()
    end = strinc(begin) if versionstamp is None else begin + vs_element(versionstamp) + b"\x00"

    def fn(tr: Transaction) -> list[tuple[bytes, bytes]]:
        led._require_project(tr, pk, tenant, project)
        return tr.get_range(begin, end, limit=1, reverse=True)

    rows = led.engine.read(fn)
    if not rows:
        return None
    key, sha = rows[0]
    vs = vs_from_key(key)
    try:
        return vs, led.get_blob(tenant, sha)
    except UnknownBlob:
        raise CorruptStore(f"snapshot {vs}", f"manifest blob {sha.hex()} is missing") from None


def snapshots(led: Ledger, tenant: str, project: str) -> list[Versionstamp]:
    """Every snapshot's versionstamp, oldest first."""
    _, pk = led._keys(tenant, project)
    begin = pk.snapshot_prefix()

    def fn(tr: Transaction) -> list[tuple[bytes, bytes]]:
        led._require_project(tr, pk, tenant, project)
        return tr.get_range(begin, strinc(begin))

    return [vs_from_key(k) for k, _ in led.engine.read(fn)]


def get_blobs(led: Ledger, tenant: str, shas: list[bytes]) -> dict[bytes, bytes]:
    """Many small blobs in few read transactions (replay reads a whole tree at once).

    Blobs of one chunk are read in batches; larger ones go through ``get_blob``.
    Each blob is checked against its hash; a missing one raises ``UnknownBlob``.
    """
    tk = led._tenant(tenant)
    out: dict[bytes, bytes] = {}
    unique = list(dict.fromkeys(shas))
    step = 500
    for start in range(0, len(unique), step):
        group = unique[start : start + step]

        def fn(tr: Transaction, group: list[bytes] = group) -> list[tuple[bytes, bytes | None]]:
            metas = tr.get_many([tk.blob_meta(s) for s in group])
            found: list[tuple[bytes, bytes | None]] = []
            singles = []
            for sha, meta in zip(group, metas, strict=True):
                if meta is None:
                    raise UnknownBlob(sha.hex())
                if codec.decode_blob_meta(meta)[1] == 1:
                    singles.append(sha)
                else:
                    found.append((sha, None))
            chunks = tr.get_many([tk.blob_chunk(s, 0) for s in singles])
            found.extend(zip(singles, chunks, strict=True))
            return found

        for sha, data in led.engine.read(fn):
            if data is None:
                data = led.get_blob(tenant, sha)
            elif hashlib.sha256(data).digest() != sha:
                raise CorruptStore(f"blob {sha.hex()}", "content does not match its hash")
            out[sha] = data
    return out
