"""Shipping one ledger's projects to another: in order, in bounded batches, exactly once.

For each (tenant, project) of the edge that the grant covers, the shipper
reads the raw records after the edge's cursor for this hub, checks their hash
chain from the one stored at the cursor (``_chain``), checks each event and
the blobs it references (``_screen``), appends them to the hub in one
transaction per batch with their original ids and times (the hub's
``append`` lands an id once, so a batch re-sent after a crash or an
ambiguous commit changes nothing), and only then moves the cursor.

What cannot land as sent is recorded instead, on hub and edge (see
``_conflict``): an edge StateChange that does not start from the hub's head
of its file (``file``), an id the hub holds with other content
(``event_id``), and with ``skip_refused`` an event the hub refused
(``refused``). Without it, a refused event stops its project just before
it, and the report names the event and the rule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

from google.protobuf.message import DecodeError

import ledger
from ledger import Ledger, RecordedEvent, Versionstamp, wall_clock_us
from proto.swarm.v1 import events_pb2 as pb
from sync._chain import GENESIS, walk_chain
from sync._conflict import ConflictRecord
from sync._cursor import Cursor, check_hub_name, cursor_name, load_cursor, store_cursor
from sync._errors import (
    CorruptCursor,
    EdgeTampered,
    HubUnavailable,
    InvalidSyncArgument,
    ShipRefused,
)
from sync._gate import Gate
from sync._grant import SyncGrant, is_reserved
from sync._park import Parker
from sync._retry import RetryPolicy
from sync._screen import Refusal, Refused, canonical
from sync._sides import Sides

# FoundationDB allows 10 MB and 5 s per transaction and does best under 1 MB; an
# event costs its bytes plus its id record, indexes and keys (158 bytes measured
# for bench/sync.py's events), which EVENT_OVERHEAD bounds with room to spare.
DEFAULT_BATCH_EVENTS = 1000
DEFAULT_BATCH_BYTES = 1_000_000
EVENT_OVERHEAD = 512
_CONFLICT_ROUNDS = 16
_WAIT_SLICE_S = 0.5  # a hub that moves under us this often is reported, not chased


class _Admitted(NamedTuple):
    """An edge record that passed the checks, and the event the hub will hold for it."""

    rec: RecordedEvent
    event: pb.SwarmEvent


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
    # Edge changes that found the hub already at their content (both sides made the
    # same edit): converged, so neither landed nor a conflict; their event ids.
    converged: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)  # skipped (skip_refused) ones
    stopped: Refusal | None = None  # the refused event this project stopped before
    cursor: Versionstamp | None = None


@dataclass(frozen=True, slots=True)
class SyncReport:
    projects: tuple[ProjectReport, ...]
    passed_over: tuple[tuple[str, str], ...] = ()  # (edge tenant, why it was not shipped)

    @property
    def stopped(self) -> list[Refusal]:
        return [p.stopped for p in self.projects if p.stopped is not None]

    @property
    def refused(self) -> list[Refusal]:
        return [r for p in self.projects for r in p.refused]

    @property
    def landed(self) -> int:
        return sum(p.landed for p in self.projects)

    @property
    def duplicates(self) -> int:
        return sum(p.duplicates for p in self.projects)

    @property
    def conflicts(self) -> list[ConflictRecord]:
        return [c for p in self.projects for c in p.conflicts]

    @property
    def converged(self) -> list[str]:
        return [eid for p in self.projects for eid in p.converged]


class Shipper:
    """Ships an edge ledger to a hub ledger; one instance per (edge, hub) pair.

    ``grant`` says which tenants may be written on the hub (see ``SyncGrant``;
    the CLI builds it from a sync token checked against the hub). ``hub_name``
    keys the edge's cursor, so one edge can ship to several hubs.
    ``skip_refused`` records each refused event on the hub and ships on past
    it, instead of stopping its project there. ``retry`` governs transient
    errors on either side; ``clock`` stamps the cursor's ``updated_us``, bounds
    how far ahead an edge time may be, and is the seam tests may fake.
    """

    def __init__(
        self,
        edge: Ledger,
        hub: Ledger,
        *,
        hub_name: str,
        grant: SyncGrant,
        skip_refused: bool = False,
        batch_events: int = DEFAULT_BATCH_EVENTS,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        retry: RetryPolicy | None = None,
        clock: Callable[[], int] = wall_clock_us,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if edge is hub:
            raise InvalidSyncArgument("the edge and the hub are the same ledger")
        if not isinstance(grant, SyncGrant):
            raise InvalidSyncArgument("a sync needs a SyncGrant naming the tenants it may write")
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
        self.grant = grant
        self.skip_refused = skip_refused
        self.batch_events = batch_events
        self.batch_bytes = batch_bytes
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._progress = progress
        self._hub_projects: set[tuple[str, str]] = set()
        self._io = Sides(edge, hub, self.retry)
        self._gate = Gate(self._io, clock)
        self._parker = Parker(self._io, self.hub_name)

    # what to ship ---------------------------------------------------------------
    def targets(
        self, tenant: str | None = None, project: str | None = None
    ) -> list[tuple[str, str]]:
        """The (tenant, project) pairs to ship: the named ones, or every edge project the
        grant covers. Naming a tenant the grant does not cover raises ``Unauthorised``."""
        if project is not None and tenant is None:
            raise InvalidSyncArgument("a project is named within a tenant: give the tenant too")
        if tenant is not None:
            self.grant.check(tenant)
            tenants = [tenant]
        else:
            edge_tenants = self._io.edge_call("list tenants", self.edge.tenants)
            tenants = [t for t in edge_tenants if self.grant.allows(t)]
        found: list[tuple[str, str]] = []
        for t in tenants:
            try:
                projects = self._io.edge_call("list projects", partial(self.edge.projects, t))
            except ShipRefused as exc:
                raise InvalidSyncArgument(f"the edge has no tenant {t!r}") from exc
            if project is not None:
                if project not in projects:
                    raise InvalidSyncArgument(f"the edge has no project {project!r} in {t!r}")
                projects = [project]
            found.extend((t, p) for p in projects)
        return found

    def passed_over(self) -> list[tuple[str, str]]:
        """The edge's tenants a full ship leaves out, each with the reason."""
        out = []
        for t in self._io.edge_call("list tenants", self.edge.tenants):
            if is_reserved(t):
                out.append((t, "the service's own tenant: never synced"))
            elif not self.grant.allows(t):
                out.append((t, f"{self.grant.holder} does not cover it"))
        return out

    def cursor(self, tenant: str, project: str) -> Cursor:
        return self._io.edge_call(
            "read cursor", lambda: load_cursor(self.edge, tenant, project, self.hub_name)
        )

    # shipping -------------------------------------------------------------------
    def ship(self, tenant: str | None = None, project: str | None = None) -> SyncReport:
        """Ship everything the edge holds now (for the named tenant/project, or all it may)."""
        targets = self.targets(tenant, project)
        passed = tuple(self.passed_over()) if tenant is None else ()
        return SyncReport(tuple(self.ship_project(t, p) for t, p in targets), passed)

    def ship_project(self, tenant: str, project: str) -> ProjectReport:
        """Ship one project's events after the cursor; the cursor moves after each batch.

        Raises ``Unauthorised`` (before reading anything) when the grant does
        not cover ``tenant``, and ``EdgeTampered`` where the edge's hash chain
        breaks (the events before that point are shipped).
        """
        self.grant.check(tenant)
        report = ProjectReport(tenant, project)
        cursor = self.cursor(tenant, project)
        report.cursor = cursor.versionstamp
        anchor, tail_us = self._anchor(tenant, project, cursor)
        self._ensure_hub_project(tenant, project)
        while True:
            raw = self._io.edge_call(
                "read edge events",
                partial(
                    self.edge.raw_records,
                    tenant,
                    project,
                    after=cursor.versionstamp,
                    limit=self.batch_events,
                ),
            )
            if not raw:
                self._check_tail(tenant, project, cursor.versionstamp, tail_us)
                return report
            records, broken = walk_chain(anchor, raw)
            batch = self._cut(records)
            if len(batch) < len(records):
                broken = None  # past this batch: the next round meets it
            handled = self._ship_batch(tenant, project, batch, report)
            if handled:
                last = batch[handled - 1]
                anchor, tail_us = last.chain, last.time_us
                cursor = Cursor(
                    self.hub_name, last.versionstamp, cursor.handled + handled, self._clock()
                )
                self._io.edge_call(
                    "store cursor", partial(store_cursor, self.edge, tenant, project, cursor)
                )
                report.cursor = cursor.versionstamp
                report.batches += 1
                self._report_progress(report, cursor)
            if report.stopped is not None:
                return report
            if broken is not None:
                raise EdgeTampered(tenant, project, str(broken.versionstamp), broken.detail)
            self.grant.check(tenant)  # a token revoked mid-sync stops it here

    def _report_progress(self, report: ProjectReport, cursor: Cursor) -> None:
        if self._progress is not None:
            self._progress(
                Progress(
                    report.tenant,
                    report.project,
                    cursor.versionstamp,
                    cursor.handled,
                    report.landed,
                    report.duplicates,
                    len(report.conflicts),
                )
            )

    def _anchor(self, tenant: str, project: str, cursor: Cursor) -> tuple[bytes, int]:
        """The chain hash the next record must continue (the one stored at the cursor), and
        the time of the cursor's event (0 at the start)."""
        if cursor.versionstamp is None:
            return GENESIS, 0
        vs = cursor.versionstamp
        try:
            page = self.retry.run(
                "read the cursor's event",
                partial(self.edge.raw_records, tenant, project, after=_before(vs), limit=1),
            )
        except ledger.LedgerError as exc:
            raise ShipRefused("edge", project, "read the cursor's event", str(exc)) from exc
        if not page or page[0][0] != vs:
            raise CorruptCursor(
                tenant,
                project,
                cursor_name(self.hub_name),
                f"it names event {vs}, which the edge does not hold",
            )
        _, chain, data = page[0]
        try:
            return chain, pb.SwarmEvent.FromString(data).time_us
        except DecodeError:
            raise EdgeTampered(tenant, project, str(vs), "its bytes are not a SwarmEvent") from None

    def _check_tail(
        self, tenant: str, project: str, shipped: Versionstamp | None, tail_us: int
    ) -> None:
        """With the whole log shipped, the edge's clock must name the last event's time:
        records cut from the end of a log leave no break in its chain, but the clock
        (written in the same transaction as every append) remembers them."""
        info = self._io.edge_call(
            "read the edge project", partial(self.edge.project_info, tenant, project)
        )
        if info.head == shipped and info.last_time_us != tail_us:
            raise EdgeTampered(
                tenant,
                project,
                str(shipped or "(start)"),
                f"its clock says the last event was at {info.last_time_us} µs but its log ends "
                f"at {tail_us} µs: events were removed from its end",
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
        """Create the hub's project, dated just before the edge's, so edge times stay valid."""
        if (tenant, project) in self._hub_projects:
            return
        info = self._io.edge_call(
            "read the edge project", partial(self.edge.project_info, tenant, project)
        )
        # Never later than now: a far-future edge date would push the hub's clock on.
        created = max(1, min(info.created_us - 1, self._clock()))

        def create() -> None:
            self.hub.create_tenant(tenant)
            dated = Ledger(self.hub.engine, clock=lambda: created)
            dated.create_project(tenant, project, exist_ok=True)

        self._io.hub_call("create the hub's project", tenant, project, create)
        self._hub_projects.add((tenant, project))

    def _ship_batch(
        self, tenant: str, project: str, batch: Sequence[RecordedEvent], report: ProjectReport
    ) -> int:
        """Check and land ``batch`` in order; how many records were dealt with (all, unless
        a refused event stopped the project)."""
        handled = 0
        segment: list[_Admitted] = []
        self._gate.prefetch(tenant, batch)
        for rec in batch:
            try:
                event, copied = self._gate.admit(tenant, project, rec)
            except Refused as refused:
                done = self._land(tenant, project, segment, report)
                handled += done
                if done < len(segment) or not self._refuse(tenant, project, rec, refused, report):
                    return handled
                handled += 1
                segment = []
                continue
            report.blobs += copied
            segment.append(_Admitted(rec, event))
        return handled + self._land(tenant, project, segment, report)

    def _land(
        self, tenant: str, project: str, batch: list[_Admitted], report: ProjectReport
    ) -> int:
        """Append ``batch`` to the hub, parking what cannot land; how many were dealt with.

        The blobs its events reference are stored first (``Gate.flush``)."""
        self._gate.flush()
        pending = batch
        done = 0
        rounds = 0
        park: Callable[[_Admitted], bool]
        while pending:
            try:
                appended = self._io.hub_call(
                    "append to the hub",
                    tenant,
                    project,
                    partial(
                        self.hub.append,
                        tenant,
                        project,
                        [item.event for item in pending],
                        check_fencing=False,
                    ),
                    passthrough=(
                        ledger.HashChainBroken,
                        ledger.TransactionTooLarge,
                        ledger.InvalidEvent,
                    ),
                )
            except ledger.TransactionTooLarge as exc:
                if len(pending) == 1:
                    raise ShipRefused(tenant, project, "append to the hub", str(exc)) from exc
                half = len(pending) // 2
                part = self._land(tenant, project, pending[:half], report)
                done += part
                if part < half:
                    return done
                pending = pending[half:]
                continue
            except ledger.HashChainBroken as exc:
                rounds += 1
                if rounds > _CONFLICT_ROUNDS:
                    raise ShipRefused(tenant, project, "append to the hub", str(exc)) from exc
                found = self._first_conflict(tenant, project, pending)
                if found is None:
                    continue  # the hub moved between the append and our look: try again
                index, same = found
                park = partial(self._parker_for(same), tenant, project, report=report)
            except ledger.InvalidEvent as exc:
                index = _index_of(tenant, project, pending, exc)
                park = partial(self._unlandable, tenant, project, exc=exc, report=report)
            else:
                self._count(tenant, project, pending, appended, report)
                return done + len(pending)
            part = self._around(tenant, project, pending, index, park, report)
            done += part
            if part <= index:
                return done  # a refusal stopped the project
            pending = pending[index + 1 :]
        return done

    def _around(
        self,
        tenant: str,
        project: str,
        pending: list[_Admitted],
        index: int,
        park: Callable[[_Admitted], bool],
        report: ProjectReport,
    ) -> int:
        """Land the events before ``pending[index]``, then ``park`` that one; how many were
        dealt with (``index + 1`` unless a refusal stopped the project)."""
        part = self._land(tenant, project, pending[:index], report)
        if part < index or not park(pending[index]):
            return part
        return part + 1

    def _count(
        self,
        tenant: str,
        project: str,
        items: list[_Admitted],
        appended: list[ledger.Appended],
        report: ProjectReport,
    ) -> None:
        """Tally what landed; an id the hub already held with other content is a conflict."""
        for item, a in zip(items, appended, strict=True):
            if not a.duplicate:
                report.landed += 1
                continue
            held = self._io.hub_call(
                "read a landed event",
                tenant,
                project,
                partial(self.hub.get_event, tenant, project, a.versionstamp),
            )
            if canonical(held.event) == canonical(item.event):
                report.duplicates += 1
            else:
                report.conflicts.append(
                    self._parker.id_conflict(tenant, project, item.rec, held, "in this project")
                )

    def _file_conflict(
        self, tenant: str, project: str, item: _Admitted, *, report: ProjectReport
    ) -> bool:
        report.conflicts.append(self._parker.file_conflict(tenant, project, item.rec))
        return True

    def _parker_for(self, converged: bool) -> Callable[..., bool]:
        return self._converged if converged else self._file_conflict

    def _converged(
        self, tenant: str, project: str, item: _Admitted, *, report: ProjectReport
    ) -> bool:
        """The hub's head already holds this change's content: nothing to ship or record."""
        report.converged.append(item.event.event_id)
        return True

    def _unlandable(
        self,
        tenant: str,
        project: str,
        item: _Admitted,
        *,
        exc: ledger.InvalidEvent,
        report: ProjectReport,
    ) -> bool:
        """The hub's ledger refused one event of a batch: its id lives in another project
        (a conflict), or a rule the screen missed (a refusal). False: the project stops."""
        found = self._io.hub_event(tenant, item.event.event_id)
        if found is not None and found[0] != project:
            owner, vs = found
            held = self._io.hub_call(
                "read a landed event",
                tenant,
                owner,
                partial(self.hub.get_event, tenant, owner, vs),
            )
            record = self._parker.id_conflict(
                tenant, project, item.rec, held, f"in project {owner!r}"
            )
            report.conflicts.append(record)
            return True
        return self._refuse(tenant, project, item.rec, Refused(exc.reason), report)

    def _first_conflict(
        self, tenant: str, project: str, batch: Sequence[_Admitted]
    ) -> tuple[int, bool] | None:
        """The index of the first StateChange the hub's heads refuse, walking the batch, and
        whether it converged (it ends at the content the hub's head already has)."""
        heads: dict[str, bytes] = {}
        for i, item in enumerate(batch):
            if item.event.WhichOneof("payload") != "state_change":
                continue
            change = item.event.state_change
            if self._io.hub_event(tenant, item.event.event_id) is not None:
                continue
            if change.path not in heads:
                state = self._io.hub_call(
                    "read a file head",
                    tenant,
                    project,
                    partial(self.hub.file_state, tenant, project, change.path),
                )
                heads[change.path] = state.sha256 if state is not None else b""
            if change.previous_sha256 != heads[change.path]:
                return i, change.new_sha256 == heads[change.path]
            heads[change.path] = change.new_sha256
        return None

    def _refuse(
        self, tenant: str, project: str, rec: RecordedEvent, refused: Refused, report: ProjectReport
    ) -> bool:
        """Skip and record a refused event (``skip_refused``: True), or stop before it."""
        eid = rec.event.event_id
        refusal = Refusal(tenant, project, eid, rec.versionstamp, refused.rule, self.skip_refused)
        if not self.skip_refused:
            report.stopped = refusal
            return False
        self._parker.refusal(tenant, project, rec, refused.rule)
        report.refused.append(refusal)
        return True

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
        A project stopped at a refused event is tried again only when the edge
        records something new in it (the operator may ship with
        ``skip_refused`` meanwhile).
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
            floors = {
                (p.tenant, p.project): self._io.edge_call(
                    "read the edge head", partial(self.edge.head, p.tenant, p.project)
                )
                for p in report.projects
                if p.stopped is not None
            }
            self._wait_any(self.targets(tenant, project), stop, wake_timeout_s, floors)

    def _wait_any(
        self,
        targets: list[tuple[str, str]],
        stop: threading.Event,
        timeout: float,
        floors: dict[tuple[str, str], Versionstamp | None] | None = None,
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

        floors = floors or {}
        afters = [
            (t, p, floors[(t, p)] if (t, p) in floors else self.cursor(t, p).versionstamp)
            for t, p in targets
        ]
        if len(afters) == 1:
            waiter(*afters[0])
            return
        threads = [threading.Thread(target=waiter, args=a, daemon=True) for a in afters]
        for th in threads:
            th.start()
        for th in threads:
            th.join()


def _index_of(tenant: str, project: str, pending: list[_Admitted], exc: ledger.InvalidEvent) -> int:
    """Which of ``pending`` the hub's ledger refused (``ShipRefused`` if none is named)."""
    for i, item in enumerate(pending):
        if item.event.event_id == exc.event_id:
            return i
    raise ShipRefused(tenant, project, "append to the hub", str(exc)) from exc


def _before(vs: Versionstamp) -> Versionstamp | None:
    """The largest versionstamp below ``vs`` (reads ``after`` it start at ``vs``)."""
    n = int.from_bytes(vs.raw, "big")
    return Versionstamp((n - 1).to_bytes(12, "big")) if n else None
