"""Recording what could not land as sent, on the hub and then the edge (see ``_conflict``)."""

from __future__ import annotations

from collections.abc import Callable
from hashlib import sha256

from ledger import RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from sync._conflict import (
    EVENT_ID,
    REFUSED,
    ConflictRecord,
    conflict_event,
    conflict_id,
    event_id_conflict_event,
    refusal_event,
)
from sync._errors import SyncError
from sync._screen import canonical
from sync._sides import Sides


class Parker:
    """Writes conflict and refusal records for one hub; each lands once (derived ids)."""

    def __init__(self, io: Sides, hub_name: str) -> None:
        self._io = io
        self.hub_name = hub_name

    def refusal(self, tenant: str, project: str, rec: RecordedEvent, rule: str) -> ConflictRecord:
        """Record that the hub refused ``rec`` by ``rule`` and the operator skipped it."""
        eid = rec.event.event_id
        cid = conflict_id(self.hub_name, tenant, project, eid or str(rec.versionstamp), REFUSED)
        digest = sha256(rec.event.SerializeToString()).digest()
        return self._park(
            tenant, project, cid, lambda: refusal_event(cid, self.hub_name, rec, digest, rule)
        )

    def file_conflict(self, tenant: str, project: str, rec: RecordedEvent) -> ConflictRecord:
        """Record a file conflict on the hub, then the same event on the edge; both idempotent."""
        cid = conflict_id(self.hub_name, tenant, project, rec.event.event_id)

        def make() -> pb.SwarmEvent:
            # Keep the edge's whole version on the hub, since its event cannot enter the log.
            blob = self._io.hub_call(
                "store the edge's version",
                tenant,
                project,
                lambda: self._io.hub.put_blob(tenant, rec.event.SerializeToString()),
            )
            path = rec.event.state_change.path
            state = self._io.hub_call(
                "read a file head",
                tenant,
                project,
                lambda: self._io.hub.file_state(tenant, project, path),
            )
            return conflict_event(
                cid,
                self.hub_name,
                rec,
                blob.sha256,
                state.sha256 if state is not None else b"",
                state.versionstamp if state is not None else None,
            )

        return self._park(tenant, project, cid, make)

    def id_conflict(
        self, tenant: str, project: str, rec: RecordedEvent, held: RecordedEvent, where: str
    ) -> ConflictRecord:
        """The hub holds ``rec``'s id as another event (``held``): keep both, record it."""
        cid = conflict_id(self.hub_name, tenant, project, rec.event.event_id, EVENT_ID)

        def make() -> pb.SwarmEvent:
            data = rec.event.SerializeToString()
            blob = self._io.hub_call(
                "store the edge's version",
                tenant,
                project,
                lambda: self._io.hub.put_blob(tenant, data),
            )
            return event_id_conflict_event(
                cid,
                self.hub_name,
                rec,
                blob.sha256,
                sha256(canonical(rec.event)).digest(),
                sha256(canonical(held.event)).digest(),
                held.versionstamp,
                where,
            )

        return self._park(tenant, project, cid, make)

    def _park(
        self, tenant: str, project: str, cid: str, make: Callable[[], pb.SwarmEvent]
    ) -> ConflictRecord:
        """Append the record ``make`` builds to the hub unless it is there, then the same
        event (same id, same facts) to the edge, so its user sees it offline."""
        if self._io.hub_event(tenant, cid) is None:
            event = make()
            self._io.hub_call(
                "record a conflict",
                tenant,
                project,
                lambda: self._io.hub.append(tenant, project, [event], check_fencing=False),
            )
        landed = self._io.hub_call(
            "read a conflict",
            tenant,
            project,
            lambda: self._io.hub.get_event(tenant, project, self._where(tenant, cid)),
        )
        copy = pb.SwarmEvent()
        copy.CopyFrom(landed.event)
        copy.time_us = 0
        self._io.edge_call(
            "record a conflict on the edge",
            lambda: self._io.edge.append(tenant, project, [copy], check_fencing=False),
        )
        return ConflictRecord.from_event(landed)

    def _where(self, tenant: str, event_id: str) -> Versionstamp:
        found = self._io.hub.find_event(tenant, event_id)
        if found is None:  # pragma: no cover - we appended it just before
            raise SyncError(f"conflict {event_id} vanished from the hub")
        return found[1]
