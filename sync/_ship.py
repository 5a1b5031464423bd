"""Shipping one ledger's projects to another: in order, in bounded batches, exactly once.

For each (tenant, project) of the edge, the shipper reads the events after
the edge's cursor for this hub, ships the blobs they reference, appends them
to the hub in one transaction per batch with their original ids (the hub's
``append`` lands an id once, so a batch re-sent after a crash or an
ambiguous commit changes nothing), and only then moves the cursor. An edge
StateChange that does not start from the hub's head of its file is not
shipped: a Conflict is recorded on both sides instead (see ``_conflict``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

import ledger
from ledger import Ledger, RecordedEvent, Versionstamp, wall_clock_us
from proto.swarm.v1 import events_pb2 as pb
from sync._conflict import ConflictRecord, conflict_event, conflict_id
from sync._cursor import Cursor, check_hub_name, load_cursor, store_cursor
from sync._errors import HubUnavailable, InvalidSyncArgument, ShipRefused, SyncError
from sync._retry import RetryPolicy

# FoundationDB allows 10 MB per transaction; an event costs its bytes plus its
# id record, indexes and key overhead, which EVENT_OVERHEAD bounds generously.
DEFAULT_BATCH_EVENTS = 1000
DEFAULT_BATCH_BYTES = 4_000_000
EVENT_OVERHEAD = 1024
T = TypeVar("T")
_CONFLICT_ROUNDS = 16
_WAIT_SLICE_S = 0.5  # a hub that moves under us this often is reported, not chased


@dataclass(frozen=True, slots=True)
class Progress:
    """What one batch did, for a progress line (the CLI prints it on stderr)."""

    tenant: str
    project: str
    cursor: Versionstamp | None
    handled: int  # edge events dealt with for this hub so far, all runs
    landed: int  # in this run
    duplicates: int
    conflicts: int


@dataclass(slots=True)
class ProjectReport:
    """What one ``ship`` did for one project."""

    tenant: str
    project: str
    landed: int = 0  # events new to the hub
    duplicates: int = 0  # events the hub already held (an earlier, interrupted run)
    blobs: int = 0  # blobs copied to the hub
    batches: int = 0
    conflicts: list[ConflictRecord] = field(default_factory=list)
    cursor: Versionstamp | None = None


@dataclass(frozen=True, slots=True)
class SyncReport:
    projects: tuple[ProjectReport, ...]

    @property
    def landed(self) -> int:
        return sum(p.landed for p in self.projects)

    @property
    def duplicates(self) -> int:
        return sum(p.duplicates for p in self.projects)

    @property
    def conflicts(self) -> list[ConflictRecord]:
        return [c for p in self.projects for c in p.conflicts]


class Shipper:
    """Ships an edge ledger to a hub ledger; one instance per (edge, hub) pair.

    ``hub_name`` keys the edge's cursor, so one edge can ship to several hubs.
    ``retry`` governs transient errors on either side; ``clock`` stamps the
    cursor's ``updated_us`` and is the seam tests may fake.
    """

    def __init__(
        self,
        edge: Ledger,
        hub: Ledger,
        *,
        hub_name: str,
        batch_events: int = DEFAULT_BATCH_EVENTS,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        retry: RetryPolicy | None = None,
        clock: Callable[[], int] = wall_clock_us,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if edge is hub:
            raise InvalidSyncArgument("the edge and the hub are the same ledger")
        if not 1 <= batch_events <= ledger.MAX_BATCH:
            raise InvalidSyncArgument(
                f"batch_events must be between 1 and {ledger.MAX_BATCH}, got {batch_events}"
            )
        if not ledger.VALUE_LIMIT <= batch_bytes <= ledger.TRANSACTION_LIMIT // 2:
            raise InvalidSyncArgument(
                f"batch_bytes must be between {ledger.VALUE_LIMIT} and "
                f"{ledger.TRANSACTION_LIMIT // 2}, got {batch_bytes}"
            )
        self.edge = edge
        self.hub = hub
        self.hub_name = check_hub_name(hub_name)
        self.batch_events = batch_events
        self.batch_bytes = batch_bytes
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._progress = progress
        self._hub_projects: set[tuple[str, str]] = set()
        self._hub_blobs: set[tuple[str, bytes]] = set()

    # what to ship ---------------------------------------------------------------
    def targets(
        self, tenant: str | None = None, project: str | None = None
    ) -> list[tuple[str, str]]:
        """The edge's (tenant, project) pairs to ship, narrowed by the arguments."""
        if project is not None and tenant is None:
            raise InvalidSyncArgument("a project is named within a tenant: give the tenant too")
        tenants = [tenant] if tenant is not None else self._edge("list tenants", self.edge.tenants)
        found: list[tuple[str, str]] = []
        for t in tenants:
            try:
                projects = self._edge("list projects", partial(self.edge.projects, t))
            except ShipRefused as exc:
                raise InvalidSyncArgument(f"the edge has no tenant {t!r}") from exc
            if project is not None:
                if project not in projects:
                    raise InvalidSyncArgument(f"the edge has no project {project!r} in {t!r}")
                projects = [project]
            found.extend((t, p) for p in projects)
        return found

    def cursor(self, tenant: str, project: str) -> Cursor:
        return self._edge(
            "read cursor", lambda: load_cursor(self.edge, tenant, project, self.hub_name)
        )

    # shipping -------------------------------------------------------------------
    def ship(self, tenant: str | None = None, project: str | None = None) -> SyncReport:
        """Ship everything the edge holds now (for the named tenant/project, or all)."""
        return SyncReport(tuple(self.ship_project(t, p) for t, p in self.targets(tenant, project)))

    def ship_project(self, tenant: str, project: str) -> ProjectReport:
        """Ship one project's events after the cursor; the cursor moves after each batch."""
        report = ProjectReport(tenant, project)
        cursor = self.cursor(tenant, project)
        report.cursor = cursor.versionstamp
        self._ensure_hub_project(tenant, project)
        while True:
            after = cursor.versionstamp
            records = self._edge(
                "read edge events",
                partial(self.edge.read, tenant, project, after=after, limit=self.batch_events),
            )
            if not records:
                return report
            batch = self._cut(records)
            self._ship_blobs(tenant, batch, report)
            self._land(tenant, project, batch, report)
            cursor = Cursor(
                self.hub_name,
                batch[-1].versionstamp,
                cursor.handled + len(batch),
                self._clock(),
            )
            self._edge("store cursor", partial(store_cursor, self.edge, tenant, project, cursor))
            report.cursor = cursor.versionstamp
            report.batches += 1
            if self._progress is not None:
                self._progress(
                    Progress(
                        tenant,
                        project,
                        cursor.versionstamp,
                        cursor.handled,
                        report.landed,
                        report.duplicates,
                        len(report.conflicts),
                    )
                )

    def _cut(self, records: list[RecordedEvent]) -> list[RecordedEvent]:
        """The longest prefix whose estimated transaction size fits ``batch_bytes``."""
        total = 0
        for i, rec in enumerate(records):
            total += rec.event.ByteSize() + EVENT_OVERHEAD
            if total > self.batch_bytes and i > 0:
                return records[:i]
        return records

    def _ensure_hub_project(self, tenant: str, project: str) -> None:
        if (tenant, project) in self._hub_projects:
            return

        def create() -> None:
            self.hub.create_tenant(tenant)
            self.hub.create_project(tenant, project, exist_ok=True)

        self._hub("create the hub's project", tenant, project, create)
        self._hub_projects.add((tenant, project))

    def _ship_blobs(
        self, tenant: str, batch: Sequence[RecordedEvent], report: ProjectReport
    ) -> None:
        """Copy every blob the batch references to the hub first, so its appends can land."""
        wanted: list[tuple[bytes, bool]] = []  # (sha256, required)
        for rec in batch:
            ev = rec.event
            kind = ev.WhichOneof("payload")
            if kind == "state_change" and ev.state_change.new_sha256:
                wanted.append((ev.state_change.new_sha256, True))
            elif kind == "decision" and len(ev.decision.detail.sha256) == 32:
                # The ledger does not require a Decision's detail to be stored; ship it if it is.
                wanted.append((ev.decision.detail.sha256, False))
        for sha, required in wanted:
            if (tenant, sha) in self._hub_blobs:
                continue
            if not self._hub("check a blob", tenant, "", partial(self.hub.has_blob, tenant, sha)):
                try:
                    data = self._edge("read a blob", partial(self.edge.get_blob, tenant, sha))
                except ShipRefused as exc:
                    if not required and isinstance(exc.__cause__, ledger.UnknownBlob):
                        continue
                    raise
                self._hub("store a blob", tenant, "", partial(self.hub.put_blob, tenant, data))
                report.blobs += 1
            self._hub_blobs.add((tenant, sha))

    def _land(
        self, tenant: str, project: str, batch: list[RecordedEvent], report: ProjectReport
    ) -> None:
        """Append ``batch`` to the hub; park StateChanges that conflict with the hub's heads."""
        pending = batch
        rounds = 0
        while pending:
            events = [rec.event for rec in pending]
            try:
                appended = self._hub(
                    "append to the hub",
                    tenant,
                    project,
                    partial(self.hub.append, tenant, project, events, check_fencing=False),
                    passthrough=(ledger.HashChainBroken, ledger.TransactionTooLarge),
                )
            except ledger.TransactionTooLarge:
                if len(pending) == 1:
                    raise
                half = len(pending) // 2
                self._land(tenant, project, pending[:half], report)
                pending = pending[half:]
                continue
            except ledger.HashChainBroken as exc:
                rounds += 1
                if rounds > _CONFLICT_ROUNDS:
                    raise ShipRefused(tenant, project, "append to the hub", str(exc)) from exc
                index = self._first_conflict(tenant, project, pending)
                if index is None:
                    continue  # the hub moved between the append and our look: try again
                if index > 0:
                    self._land(tenant, project, pending[:index], report)
                report.conflicts.append(self._record_conflict(tenant, project, pending[index]))
                pending = pending[index + 1 :]
                continue
            for a in appended:
                if a.duplicate:
                    report.duplicates += 1
                else:
                    report.landed += 1
            return

    def _first_conflict(
        self, tenant: str, project: str, batch: Sequence[RecordedEvent]
    ) -> int | None:
        """The index of the first StateChange the hub's heads refuse, walking the batch."""
        heads: dict[str, bytes] = {}
        for i, rec in enumerate(batch):
            if rec.kind != "state_change":
                continue
            change = rec.event.state_change
            landed = self._hub(
                "look up an event",
                tenant,
                project,
                partial(self.hub.find_event, tenant, rec.event.event_id),
            )
            if landed is not None:
                continue
            if change.path not in heads:
                state = self._hub(
                    "read a file head",
                    tenant,
                    project,
                    partial(self.hub.file_state, tenant, project, change.path),
                )
                heads[change.path] = state.sha256 if state is not None else b""
            if change.previous_sha256 != heads[change.path]:
                return i
            heads[change.path] = change.new_sha256
        return None

    def _record_conflict(self, tenant: str, project: str, rec: RecordedEvent) -> ConflictRecord:
        """Record the conflict on the hub, then the same event on the edge; both idempotent."""
        cid = conflict_id(self.hub_name, tenant, project, rec.event.event_id)
        found = self._hub(
            "look up a conflict", tenant, project, lambda: self.hub.find_event(tenant, cid)
        )
        if found is None:
            # Keep the edge's whole version on the hub, since its event cannot enter the log.
            blob = self._hub(
                "store the edge's version",
                tenant,
                project,
                lambda: self.hub.put_blob(tenant, rec.event.SerializeToString()),
            )
            path = rec.event.state_change.path
            state = self._hub(
                "read a file head",
                tenant,
                project,
                lambda: self.hub.file_state(tenant, project, path),
            )
            event = conflict_event(
                cid,
                self.hub_name,
                rec,
                blob.sha256,
                state.sha256 if state is not None else b"",
                state.versionstamp if state is not None else None,
            )
            self._hub(
                "record a conflict",
                tenant,
                project,
                lambda: self.hub.append(tenant, project, [event], check_fencing=False),
            )
        # The edge gets the event exactly as the hub holds it (same id, same facts).
        landed = self._hub(
            "read a conflict",
            tenant,
            project,
            lambda: self.hub.get_event(tenant, project, self._where(tenant, cid)),
        )
        copy = pb.SwarmEvent()
        copy.CopyFrom(landed.event)
        copy.time_us = 0
        self._edge(
            "record a conflict on the edge",
            lambda: self.edge.append(tenant, project, [copy], check_fencing=False),
        )
        return ConflictRecord.from_event(landed)

    def _where(self, tenant: str, event_id: str) -> Versionstamp:
        found = self.hub.find_event(tenant, event_id)
        if found is None:  # pragma: no cover - we appended it just before
            raise SyncError(f"conflict {event_id} vanished from the hub")
        return found[1]

    # following ------------------------------------------------------------------
    def follow(
        self,
        tenant: str | None = None,
        project: str | None = None,
        *,
        stop: threading.Event | None = None,
        wake_timeout_s: float = 5.0,
        on_report: Callable[[SyncReport], None] | None = None,
        on_unavailable: Callable[[HubUnavailable], None] | None = None,
    ) -> None:
        """Ship, then wait for the edge's next append (a watch), and again, until ``stop``.

        While the hub is unreachable the edge keeps its events (store and
        forward) and the shipper tries again after the retry policy's cap.
        ``wake_timeout_s`` bounds each wait, so new projects are noticed too.
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                report = self.ship(tenant, project)
            except HubUnavailable as exc:
                if on_unavailable is not None:
                    on_unavailable(exc)
                stop.wait(self.retry.cap_s)
                continue
            if on_report is not None:
                on_report(report)
            self._wait_any(self.targets(tenant, project), stop, wake_timeout_s)

    def _wait_any(
        self, targets: list[tuple[str, str]], stop: threading.Event, timeout: float
    ) -> None:
        """Block until any target project has an event past its cursor, ``stop``, or timeout.

        Each project is watched by ``wait_for_append`` in short slices, so the
        waiters notice ``stop`` or a sibling's wake-up within half a second
        and never pile up under a busy edge.
        """
        if not targets:
            stop.wait(timeout)
            return
        woke = threading.Event()
        deadline = time.monotonic() + timeout

        def waiter(t: str, p: str, after: Versionstamp | None) -> None:
            while not (woke.is_set() or stop.is_set()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                try:
                    if self.edge.wait_for_append(t, p, after, min(left, _WAIT_SLICE_S)):
                        woke.set()
                except ledger.LedgerError:
                    woke.set()  # let the main loop meet the error
                    return

        afters = [(t, p, self.cursor(t, p).versionstamp) for t, p in targets]
        if len(afters) == 1:
            waiter(*afters[0])
            return
        threads = [threading.Thread(target=waiter, args=a, daemon=True) for a in afters]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    # error handling ---------------------------------------------------------------
    def _hub(
        self,
        operation: str,
        tenant: str,
        project: str,
        fn: Callable[[], T],
        passthrough: tuple[type[ledger.LedgerError], ...] = (),
    ) -> T:
        try:
            return self.retry.run(operation, fn)
        except passthrough:
            raise
        except ledger.LedgerError as exc:
            raise ShipRefused(tenant, project or "*", operation, str(exc)) from exc

    def _edge(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return self.retry.run(operation, fn)
        except ledger.LedgerError as exc:
            raise ShipRefused("edge", "*", operation, str(exc)) from exc
