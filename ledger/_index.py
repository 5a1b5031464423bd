"""The path/agent/mission index: written by appends, folded now and then, walked by history.

An append writes its index entries into one unfolded row at the end of the
project's key space, ``('ixr', vs, part)``, rather than one row per (kind,
value) spread across it: a commit then dirties a page or two instead of
dozens. Once the unfolded rows weigh enough they are folded into ``('ix',
kind, value, first vs)`` rows, a segment per transaction. A walk reads the
folded rows of one (kind, value) and then the unfolded ones, which are newer.
"""

from __future__ import annotations

from collections.abc import Iterator

from ledger import _codec as codec
from ledger._keys import VERSIONSTAMP_CODE, ProjectKeys, vs_element
from ledger._port import Transaction
from ledger._types import Versionstamp

# Unfolded rows are folded into 'ix' once their weight (bytes, plus a charge per
# row) passes this: it bounds what a history query decodes and what a fold rewrites.
FOLD_WEIGHT = 16_384
_UNFOLDED_ROW_WEIGHT = 64
_UNFOLDED_PART_BYTES = 60_000
_FOLDED_ROW_BYTES = 60_000


def write_unfolded(
    tr: Transaction, pk: ProjectKeys, groups: dict[tuple[str, str], list[int]], unfolded: int
) -> int:
    """Write this transaction's index entries (folding first if the unfolded rows weigh
    enough); returns the unfolded weight the project clock keeps."""
    if unfolded >= FOLD_WEIGHT:
        fold(tr, pk)
        unfolded = 0
    for part, data in enumerate(codec.encode_index_groups(groups, _UNFOLDED_PART_BYTES)):
        tr.set_versionstamped_key(pk.recent_incomplete(part), data)
        unfolded += len(data) + _UNFOLDED_ROW_WEIGHT
    return unfolded


def fold(tr: Transaction, pk: ProjectKeys) -> None:
    """Fold the unfolded index rows into 'ix': one row per (kind, value) they name,
    keyed by its first versionstamp, holding a segment per transaction."""
    merged: dict[tuple[str, str], list[bytes]] = {}
    for key, data in tr.get_range(*pk.recent_span()):
        tr_version = _recent_versionstamp(pk, key).tr_version
        for kind, value, uvs in codec.decode_index_groups(data):
            segment = codec.folded_segment(tr_version, uvs)
            merged.setdefault((kind, value), []).append(segment)
    for (kind, value), segments in merged.items():
        for row in _fill(segments, _FOLDED_ROW_BYTES):
            first = codec.segment_start(row[0])
            tr.set(pk.index_key(kind, value, first), b"".join(row))
    tr.clear_range(*pk.recent_span())


def stamps(
    tr: Transaction,
    pk: ProjectKeys,
    kind: str,
    value: str,
    after: Versionstamp | None,
    end: bytes,
    limit: int,
    reverse: bool,
) -> Iterator[Versionstamp]:
    """Candidate versionstamps of (``kind``, ``value``) in order, folded then unfolded
    (reversed if ``reverse``); the caller drops those outside after/before."""
    first, last = pk.recent_span()
    if after is not None:  # unfolded rows of earlier transactions cannot match
        first = pk.recent + VERSIONSTAMP_CODE + after.tr_version
    recent = [
        Versionstamp.of(_recent_versionstamp(pk, key).tr_version, uv)
        for key, data in tr.get_range(first, last)
        for k, v, uvs in codec.decode_index_groups(data)
        if k == kind and v == value
        for uv in codec.user_versions(uvs)
    ]
    if reverse:
        yield from reversed(recent)
    prefix = pk.index_prefix(kind, value)
    begin = prefix
    if after is not None:  # start at the row holding the stamps just after it
        start = tr.get_range(prefix, prefix + vs_element(after) + b"\x00", 1, True)
        begin = start[0][0] if start else prefix
    # Each row holds at least one stamp and only the first and last can be
    # cut by after/before, so limit + 2 rows hold the page.
    for _, row in tr.get_range(begin, end, limit + 2 if limit else 0, reverse):
        found = codec.decode_folded(row)
        yield from reversed(found) if reverse else found
    if not reverse:
        yield from recent


def _recent_versionstamp(pk: ProjectKeys, key: bytes) -> Versionstamp:
    """The transaction an unfolded index row belongs to (its key: prefix, vs, part)."""
    start = len(pk.recent) + 1
    return Versionstamp(key[start : start + 12])


def _fill(parts: list[bytes], limit: int) -> Iterator[list[bytes]]:
    """``parts`` in order, grouped so each group's bytes stay within ``limit``."""
    group: list[bytes] = []
    size = 0
    for part in parts:
        if group and size + len(part) > limit:
            yield group
            group, size = [], 0
        group.append(part)
        size += len(part)
    if group:
        yield group
