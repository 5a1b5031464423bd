"""Admitting one edge event: the screen's rules, then its blobs read, checked and copied.

``Gate.admit`` applies ``_screen``'s rules, refuses CONFLICT signals the hub
never wrote, reads every blob the event references from the edge (the
ledger checks its hash), checks it for its role (a StateChange's size, a
mission manifest's entries, which are checked even when the hub already
holds that blob), and queues the ones the hub lacks. A refused event leaves
nothing of itself on the hub: its blobs join the queue only once it is admitted.

``Gate.flush`` stores the queued blobs in few transactions of at most
``BLOB_GROUP_BYTES`` each (``Ledger.put_blobs``), before the events that
reference them are appended. One transaction per blob was most of a sync's
time (each is a commit, fsync'd); a group stays far under FoundationDB's
10 MB / 5 s per transaction (ADR 0015, wire). A crash between a flush and the
append leaves blobs the hub already holds, which the next run finds and skips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import ledger
from ledger import Ledger, RecordedEvent
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import records_pb2 as rpb
from sync._conflict import (
    CONFLICT_ID_PREFIX,
    RESOLUTION_ID_PREFIX,
    conflict_of,
    validate_event_id,
)
from sync._errors import ShipRefused, UnreadableConflict
from sync._screen import MANIFEST, BlobNeed, Refused, check_blob, check_event
from sync._sides import Sides

_RESERVED_IDS = (CONFLICT_ID_PREFIX, RESOLUTION_ID_PREFIX)
BLOB_GROUP_BYTES = 1_000_000  # blob bytes per hub transaction (a larger blob goes alone)
PREFETCH_BYTES = 8_000_000  # one-chunk blob bytes read ahead from the edge per batch


class Gate:
    """Admits edge events to one hub; remembers which blobs the hub is known to hold."""

    def __init__(self, io: Sides, clock: Callable[[], int]) -> None:
        self._io = io
        self._clock = clock
        self._hub_blobs: set[tuple[str, bytes]] = set()
        self._queued: dict[tuple[str, bytes], bytes] = {}  # admitted, not yet on the hub
        self._fetched: dict[tuple[str, bytes], bytes] = {}  # read ahead, not yet admitted

    def prefetch(self, tenant: str, records: Sequence[RecordedEvent]) -> None:
        """Read the one-chunk blobs that ``records``' StateChanges need and the hub lacks
        from the edge in a few batched reads, so ``admit`` need not read them one by one.

        Only a hint: anything it leaves out (a blob the edge lacks or holds damaged, a
        large one, one past ``PREFETCH_BYTES``) ``admit`` reads and judges itself.
        """
        self._fetched.clear()
        wanted: list[bytes] = []
        total = 0
        for rec in records:
            change = rec.event.state_change
            sha = change.new_sha256
            key = (tenant, sha)
            if (
                rec.event.WhichOneof("payload") != "state_change"
                or len(sha) != 32
                or not 0 < change.new_size <= ledger.BLOB_CHUNK
                or key in self._hub_blobs
                or key in self._queued
                or total + change.new_size > PREFETCH_BYTES
            ):
                continue
            if self._io.hub_call(
                "check a blob", tenant, "", partial(self._io.hub.has_blob, tenant, sha)
            ):
                self._hub_blobs.add(key)
                continue
            wanted.append(sha)
            total += change.new_size
        if not wanted:
            return
        try:
            found = self._io.retry.run(
                "read blobs", partial(self._io.edge.get_blobs, tenant, list(dict.fromkeys(wanted)))
            )
        except ledger.LedgerError:
            return  # admit meets the same trouble blob by blob and names it
        self._fetched = {
            (tenant, sha): data for sha, data in zip(dict.fromkeys(wanted), found, strict=True)
        }

    def admit(self, tenant: str, project: str, rec: RecordedEvent) -> tuple[pb.SwarmEvent, int]:
        """The event the hub will hold for ``rec`` and how many blobs it queued for the hub
        (``flush`` stores them); ``Refused`` naming the rule otherwise (and then nothing of
        it is queued or stored)."""
        event, needs = check_event(tenant, project, rec.event, self._clock())
        if event.WhichOneof("payload") == "signal" and event.signal.kind == pb.SIGNAL_KIND_CONFLICT:
            self._check_conflict_signal(tenant, event)
        elif event.event_id.startswith(_RESERVED_IDS):
            # Squatting a conflict's or a resolution's (derived) id would make the hub
            # skip recording it.
            raise Refused(
                f"ids {CONFLICT_ID_PREFIX}* and {RESOLUTION_ID_PREFIX}* are the hub's "
                "conflict records"
            )
        puts: dict[bytes, bytes] = {}
        for need in needs:
            key = (tenant, need.sha256)
            if key in self._hub_blobs or key in self._queued:  # checked when it was found
                continue
            fetched = self._fetched.pop(key, None)
            if fetched is not None:  # prefetch found the hub without it
                check_blob(need, fetched)
                puts[need.sha256] = fetched
                continue
            on_hub = self._io.hub_call(
                "check a blob", tenant, "", partial(self._io.hub.has_blob, tenant, need.sha256)
            )
            if on_hub and need.what != MANIFEST:
                self._hub_blobs.add((tenant, need.sha256))
                continue
            data = self._read_blob(self._io.hub if on_hub else self._io.edge, tenant, need)
            if data is None:
                continue
            check_blob(need, data)
            if on_hub:
                self._hub_blobs.add(key)
            else:
                puts[need.sha256] = data
        for sha, data in puts.items():
            self._queued[(tenant, sha)] = data
        return event, len(puts)

    def flush(self) -> None:
        """Store every queued blob on the hub, ``BLOB_GROUP_BYTES`` of them a transaction."""
        groups: list[list[tuple[tuple[str, bytes], bytes]]] = []
        size = 0
        for key, data in self._queued.items():
            if not groups or groups[-1][0][0][0] != key[0] or size + len(data) > BLOB_GROUP_BYTES:
                groups.append([])
                size = 0
            groups[-1].append((key, data))
            size += len(data)
        for group in groups:
            tenant = group[0][0][0]
            datas = [data for _, data in group]
            self._io.hub_call(
                "store blobs", tenant, "", partial(self._io.hub.put_blobs, tenant, datas)
            )
            for key, _ in group:
                self._hub_blobs.add(key)
                del self._queued[key]

    def _read_blob(self, source: Ledger, tenant: str, need: BlobNeed) -> bytes | None:
        side = "hub" if source is self._io.hub else "edge"
        try:
            return self._io.retry.run("read a blob", partial(source.get_blob, tenant, need.sha256))
        except ledger.UnknownBlob:
            if need.required:
                raise Refused(
                    f"its {need.what} blob {need.sha256.hex()} is not on the edge"
                ) from None
            return None
        except ledger.CorruptStore:
            raise Refused(
                f"its {need.what} blob {need.sha256.hex()} on the {side} does not match its hash"
            ) from None
        except ledger.LedgerError as exc:
            raise ShipRefused(side, "*", "read a blob", str(exc)) from exc

    def _check_conflict_signal(self, tenant: str, event: pb.SwarmEvent) -> None:
        """Conflict records are the hub's: an edge may send back only ones the hub wrote,
        and resolutions of those."""
        try:
            record = conflict_of(event)
        except UnreadableConflict as exc:
            raise Refused(str(exc)) from None
        if record.state == rpb.SYNC_CONFLICT_STATE_RESOLVED:
            target = record.resolves
            if not validate_event_id(target) or self._io.hub_event(tenant, target) is None:
                raise Refused(f"it resolves conflict {target[:80]!r}, which the hub never recorded")
        elif self._io.hub_event(tenant, event.event_id) is None:
            raise Refused("conflict records are written by the hub, which never recorded this one")
