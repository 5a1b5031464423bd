"""Replay snapshots: a manifest blob per snapshotted versionstamp.

A snapshot is the key ``('p', project, 'snap', vs)`` whose value is the
sha256 of a blob holding the manifest bytes (so a manifest of any size is
chunked by the blob store and checked against its hash on read). The
manifest's format is replay's business; the ledger only stores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger import _blobs
from ledger import _codec as codec
from ledger._errors import CorruptRecord, CorruptStore, UnknownBlob, UnknownEvent
from ledger._keys import strinc, vs_element, vs_from_key
from ledger._ledger import Ledger
from ledger._port import Transaction
from ledger._types import Versionstamp


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stored snapshot: where, its manifest, and the chain hash it was anchored to."""

    versionstamp: Versionstamp
    manifest: bytes
    manifest_sha256: bytes
    chain: bytes | None  # None for a snapshot taken before anchors were stored


def put_snapshot(
    led: Ledger, tenant: str, project: str, versionstamp: Versionstamp, manifest: bytes
) -> None:
    """Store ``manifest`` as the snapshot taken at ``versionstamp`` (idempotent), anchored
    to the chain hash the event there holds now."""
    scope = led.scope(tenant, project)
    ref = led.put_blob(tenant, manifest)
    key = scope.keys.snapshot_prefix() + vs_element(versionstamp)

    def fn(tr: Transaction) -> None:
        scope.require(tr)
        record = tr.get(scope.keys.event(versionstamp))
        if record is None:
            raise UnknownEvent(str(versionstamp))
        chain, _ = codec.record_payload(record)
        tr.set(key, ref.sha256 + chain)

    led.engine.transact(fn)


def find_snapshot(
    led: Ledger,
    tenant: str,
    project: str,
    versionstamp: Versionstamp | None = None,
    *,
    anchored: bool = True,
) -> Snapshot | None:
    """The newest snapshot at or before ``versionstamp`` (any, if None), its manifest read
    and checked against its hash; with ``anchored``, only one that holds a chain anchor."""
    scope = led.scope(tenant, project)
    begin = scope.keys.snapshot_prefix()
    end = strinc(begin) if versionstamp is None else begin + vs_element(versionstamp) + b"\x00"

    def fn(tr: Transaction) -> list[tuple[bytes, bytes]]:
        scope.require(tr)
        return tr.get_range(begin, end, reverse=True)

    for key, value in led.engine.read(fn):
        vs = vs_from_key(key)
        if len(value) not in (32, 64):
            raise CorruptRecord(
                "snapshot", str(vs), f"{len(value)} bytes, expected 32 or 64"
            ).in_project(tenant, project)
        if anchored and len(value) == 32:
            continue
        sha, chain = value[:32], value[32:] or None
        try:
            manifest = led.get_blob(tenant, sha)
        except UnknownBlob:
            raise CorruptRecord(
                "snapshot", str(vs), f"its manifest blob {sha.hex()} is missing"
            ).in_project(tenant, project) from None
        except CorruptStore as exc:
            raise CorruptRecord(
                "snapshot", str(vs), f"its manifest blob is damaged ({exc})"
            ).in_project(tenant, project) from None
        return Snapshot(vs, manifest, sha, chain)
    return None


def snapshot_at_or_before(
    led: Ledger, tenant: str, project: str, versionstamp: Versionstamp | None = None
) -> tuple[Versionstamp, bytes] | None:
    """The newest snapshot at or before ``versionstamp`` (any, if None) and its manifest."""
    found = find_snapshot(led, tenant, project, versionstamp, anchored=False)
    return None if found is None else (found.versionstamp, found.manifest)


def snapshots(led: Ledger, tenant: str, project: str) -> list[Versionstamp]:
    """Every snapshot's versionstamp, oldest first."""
    scope = led.scope(tenant, project)
    begin = scope.keys.snapshot_prefix()

    def fn(tr: Transaction) -> list[tuple[bytes, bytes]]:
        scope.require(tr)
        return tr.get_range(begin, strinc(begin))

    return [vs_from_key(k) for k, _ in led.engine.read(fn)]


def blob_names(led: Ledger, tenant: str) -> list[bytes]:
    """The sha256 of every blob the tenant stores (complete ones: their meta key landed)."""
    return _blobs.names(led.engine, led.tenant_scope(tenant))


def get_blobs(led: Ledger, tenant: str, shas: list[bytes]) -> dict[bytes, bytes]:
    """Many small blobs in few read transactions (replay reads a whole tree at once).

    Blobs of one chunk are read in batches; larger ones go through ``get_blob``.
    Each blob is checked against its hash; a missing one raises ``UnknownBlob``.
    """
    return _blobs.get_many(led.engine, led.tenant_scope(tenant), shas)
