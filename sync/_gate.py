"""Admitting one edge event: the screen's rules, then its blobs read, checked and copied.

``Gate.admit`` applies ``_screen``'s rules, refuses CONFLICT signals the hub
never wrote, reads every blob the event references from the edge (the
ledger checks its hash), checks it for its role (a StateChange's size, a
mission manifest's entries, which are checked even when the hub already
holds that blob), and copies the ones the hub lacks. A refused event leaves
nothing of itself on the hub.
"""

from __future__ import annotations

from collections.abc import Callable
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


class Gate:
    """Admits edge events to one hub; remembers which blobs the hub is known to hold."""

    def __init__(self, io: Sides, clock: Callable[[], int]) -> None:
        self._io = io
        self._clock = clock
        self._hub_blobs: set[tuple[str, bytes]] = set()

    def admit(self, tenant: str, project: str, rec: RecordedEvent) -> tuple[pb.SwarmEvent, int]:
        """The event the hub will hold for ``rec`` and how many blobs were copied for it;
        ``Refused`` naming the rule otherwise (and then nothing of it is stored)."""
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
        puts: list[bytes] = []
        for need in needs:
            if (tenant, need.sha256) in self._hub_blobs:
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
                self._hub_blobs.add((tenant, need.sha256))
            else:
                puts.append(data)
        for data in puts:
            ref = self._io.hub_call(
                "store a blob", tenant, "", partial(self._io.hub.put_blob, tenant, data)
            )
            self._hub_blobs.add((tenant, ref.sha256))
        return event, len(puts)

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
