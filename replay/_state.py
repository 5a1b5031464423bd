"""Folding a project's StateChanges into its files at any point, with snapshots.

Every fold is checked against the project's hash chain as it reads: it starts
from the newest snapshot whose chain anchor the log still holds (or from the
log's first event), and re-hashes each record after it, so a record altered,
removed or reordered in that stretch is ``ledger.ChainMismatch`` naming it.
``State.verification`` says exactly what was checked.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from google.protobuf.message import DecodeError

import ledger
from ledger import Ledger, RecordedEvent, Versionstamp, find_snapshot, put_snapshot
from proto.swarm.v1 import events_pb2 as pb
from replay._errors import (
    ChainBroken,
    TimeBeforeProject,
    TimeInFuture,
    UnknownPoint,
)
from replay._time import parse_time

DEFAULT_SNAPSHOT_EVERY = 1000
_MANIFEST_MAGIC = b"SWM1"  # no file executable: the form snapshots had before modes
_MANIFEST_MODES = b"SWM2"  # as SWM1, each entry followed by a flags byte (1: executable)
_ENTRY = struct.Struct(">H32sQ")  # path length, sha256, size; then the path
_EXECUTABLE = 1

Progress = Callable[[str, int, int], None]  # (stage, done, total)
_Start = tuple[Versionstamp | None, dict[str, "Entry"], bytes]  # where a fold starts


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a state: its content hash, size and executable bit."""

    sha256: bytes
    size: int
    executable: bool = False


@dataclass(frozen=True, slots=True)
class State:
    """The project's files as they were just after the event at ``versionstamp``."""

    versionstamp: Versionstamp
    time_us: int
    files: Mapping[str, Entry]
    snapshot: Versionstamp | None  # the snapshot the fold started from, if any
    events_folded: int  # events read after the snapshot
    chain_checked: bool = False  # those events were re-hashed along the chain

    @property
    def verification(self) -> str:
        """What was checked against the hash chain to give this state, in one sentence."""
        if not self.chain_checked:
            return "not checked against the hash chain"
        if self.snapshot is None:
            return (
                f"all {self.events_folded} events up to it re-hashed along the hash chain "
                "from the log's start"
            )
        return (
            f"the {self.events_folded} events after snapshot {self.snapshot} re-hashed along "
            "the hash chain from the chain hash that snapshot was anchored to, which the log "
            "still holds; the events before it were checked when it was taken "
            "(`swarm audit verify` re-checks the whole log)"
        )


def encode_manifest(files: Mapping[str, Entry]) -> bytes:
    """Path → (sha256, size, executable) in path order; deterministic, so equal states share
    a blob. A state with no executable file keeps the SWM1 form older snapshots hold."""
    modes = any(e.executable for e in files.values())
    parts = [_MANIFEST_MODES if modes else _MANIFEST_MAGIC]
    for path in sorted(files):
        entry = files[path]
        raw = path.encode()
        parts.append(_ENTRY.pack(len(raw), entry.sha256, entry.size))
        parts.append(raw)
        if modes:
            parts.append(b"\x01" if entry.executable else b"\x00")
    return b"".join(parts)


def decode_manifest(data: bytes) -> dict[str, Entry]:
    if data[:4] not in (_MANIFEST_MAGIC, _MANIFEST_MODES):
        raise ChainBroken("<manifest>", "?", "snapshot manifest has an unknown format")
    modes = data[:4] == _MANIFEST_MODES
    files: dict[str, Entry] = {}
    offset = 4
    try:
        while offset < len(data):
            length, sha, size = _ENTRY.unpack_from(data, offset)
            offset += _ENTRY.size
            end = offset + length + modes
            if end > len(data):
                raise ValueError("an entry runs past the end")
            flags = data[end - 1] if modes else 0
            if flags & ~_EXECUTABLE:
                raise ValueError(f"unknown flags {flags:#x}")
            path = data[offset : offset + length].decode()
            files[path] = Entry(sha, size, bool(flags & _EXECUTABLE))
            offset = end
    except (struct.error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ChainBroken("<manifest>", "?", f"snapshot manifest does not parse: {exc}") from None
    return files


def apply_change(files: dict[str, Entry], rec: RecordedEvent) -> None:
    """Fold one StateChange into ``files``, refusing it if its previous hash disagrees."""
    change = rec.event.state_change
    current = files.get(change.path)
    have = current.sha256 if current is not None else b""
    if change.previous_sha256 != have:
        raise ChainBroken(
            change.path,
            str(rec.versionstamp),
            f"it says the previous content was {change.previous_sha256.hex() or 'absent'}, "
            f"but replay has {have.hex() or 'absent'}",
        )
    if change.new_sha256:
        files[change.path] = Entry(
            change.new_sha256, int(change.new_size), executable_after(current, change)
        )
    else:
        files.pop(change.path, None)


def executable_after(current: Entry | None, change: pb.StateChange) -> bool:
    """The file's executable bit after ``change``: the one it sets, else the one it had
    (a change that does not say leaves the mode as it was)."""
    if change.HasField("executable"):
        return change.executable
    return current.executable if current is not None else False


def fold(
    records: Iterable[RecordedEvent], start: Mapping[str, Entry] | None = None
) -> dict[str, Entry]:
    """The files after applying every StateChange in ``records`` to ``start``."""
    files = dict(start or {})
    for rec in records:
        if rec.kind == "state_change":
            apply_change(files, rec)
    return files


def _subject(event: pb.SwarmEvent | None) -> str:
    """What a broken record was about, for ChainBroken's path: its file, else its kind."""
    if event is None:
        return "<unparseable event>"
    if event.WhichOneof("payload") == "state_change":
        return event.state_change.path
    return f"<{event.WhichOneof('payload') or 'empty'} event>"


class Replayer:
    """Materialise one project's past from its ledger alone.

    It reads events, snapshots and blobs; it never calls a model, a tool or
    the sandbox. ``clock`` (microseconds) decides what "now" means for
    relative times and the future check.
    """

    def __init__(
        self,
        led: Ledger,
        tenant: str,
        project: str,
        *,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        clock: Callable[[], int] = ledger.wall_clock_us,
        progress: Progress | None = None,
    ) -> None:
        if snapshot_every < 1:
            raise ValueError(f"snapshot_every must be at least 1, got {snapshot_every}")
        self.led = led
        self.tenant = tenant
        self.project = project
        self.snapshot_every = snapshot_every
        self._clock = clock
        self._progress = progress
        self.info = led.project_info(tenant, project)  # raises UnknownProject early

    # resolving points -------------------------------------------------------------
    def at_time(self, text: str) -> Versionstamp:
        """The last event at or before the time ``text`` (ISO 8601 or ``-2h``)."""
        now = self._clock()
        when = parse_time(text, now)
        if when > now:
            raise TimeInFuture(text, when, now)
        created = self.info.created_us
        if when < created:
            raise TimeBeforeProject(text, when, created)
        vs = self.led.versionstamp_at(self.tenant, self.project, when)
        if vs is None:
            raise TimeBeforeProject(text, when, created)
        return vs

    def at_event(self, text: str) -> Versionstamp:
        """A versionstamp of this project's log, from its 24 hex digits."""
        try:
            vs = Versionstamp.parse(text)
            self.led.get_event(self.tenant, self.project, vs)
        except ledger.InvalidArgument as exc:
            raise UnknownPoint(str(exc)) from None
        except ledger.UnknownEvent:
            raise UnknownPoint(f"event {text} is not in project {self.project!r}") from None
        return vs

    def at_mission_step(self, mission: str, step: int) -> Versionstamp:
        """The ``step``-th event (1-based) of ``mission``."""
        if step < 1:
            raise UnknownPoint(f"mission step {step}: steps count from 1")
        events = self.led.history(
            self.tenant, self.project, mission=mission, limit=min(step, 10_000)
        )
        if len(events) < step:
            raise UnknownPoint(f"mission {mission!r} has {len(events)} events, so no step {step}")
        return events[step - 1].versionstamp

    def latest(self) -> Versionstamp:
        head = self.led.head(self.tenant, self.project)
        if head is None:  # a project's log opens with PROJECT_CREATED: it was emptied
            raise ledger.CorruptRecord(
                "log", "", "holds no events, not even the one that created the project"
            ).in_project(self.tenant, self.project)
        return head

    # states ------------------------------------------------------------------------
    def state_at(self, vs: Versionstamp) -> State:
        """The files just after event ``vs``: nearest snapshot plus the tail after it, every
        record of that tail checked against the hash chain."""
        event = self.led.get_event(self.tenant, self.project, vs)
        start, files, previous = self._start(vs)
        folded = 0
        if start != vs:
            for rec in self._verified(start, previous):
                if rec.versionstamp > vs:
                    break
                folded += 1
                if rec.kind == "state_change":
                    apply_change(files, rec)
                if self._progress is not None and folded % 1000 == 0:
                    self._progress("fold", folded, 0)
        return State(vs, event.time_us, files, start, folded, chain_checked=True)

    def _start(
        self, vs: Versionstamp | None
    ) -> tuple[Versionstamp | None, dict[str, Entry], bytes]:
        """Where a fold starts: the newest anchored snapshot at or before ``vs`` whose
        anchor the log still holds, its files and chain hash; else the log's start."""
        snap = find_snapshot(self.led, self.tenant, self.project, vs)
        if snap is None:
            return None, {}, ledger.GENESIS
        assert snap.chain is not None  # find_snapshot gives anchored ones only
        held = ledger.stored_chain(self.led, self.tenant, self.project, snap.versionstamp)
        if held != snap.chain:
            raise ChainBroken(
                "<snapshot>",
                str(snap.versionstamp),
                f"the snapshot there was taken over chain hash {snap.chain.hex()[:16]}…, but "
                f"the log's event holds {held.hex()[:16] + '…' if held else 'nothing'}: the "
                "log before the snapshot was rewritten",
            )
        return snap.versionstamp, decode_manifest(snap.manifest), snap.chain

    def _verified(self, after: Versionstamp | None, previous: bytes) -> Iterator[RecordedEvent]:
        """The events after ``after``, each checked to follow ``previous`` along the chain."""
        base = "the log's start" if after is None else f"snapshot {after}"
        records = ledger.stored_records(self.led, self.tenant, self.project, after=after)
        for n, (vs, chain, data) in enumerate(records):
            try:
                event = pb.SwarmEvent.FromString(data)
            except DecodeError as exc:
                event = None
                problem = f"its bytes do not parse ({exc})"
            if ledger.link(previous, data) != chain:
                raise ChainBroken(
                    _subject(event),
                    str(vs),
                    f"record {n} after {base} does not follow the hash chain: its bytes or "
                    "chain hash were altered, or records before it removed or reordered",
                )
            if event is None:  # it fits the chain, so the ledger wrote it this way
                raise ChainBroken("<event>", str(vs), problem)
            previous = chain
            yield RecordedEvent(vs, event, chain)

    def take_snapshots(self, upto: Versionstamp | None = None) -> list[Versionstamp]:
        """Snapshot every ``snapshot_every`` events and at each mission's end, up to ``upto``.

        It continues from the newest anchored snapshot, checking each event it folds
        against the hash chain, so calling it again is cheap and a snapshot is only
        ever the fold of a verified stretch. Returns the versionstamps it snapshotted.
        """
        start, files, previous = self._start(None)
        taken: list[Versionstamp] = []
        since = 0
        total = self.info.events
        for seen, rec in enumerate(self._verified(start, previous), 1):
            if upto is not None and rec.versionstamp > upto:
                break
            since += 1
            if rec.kind == "state_change":
                apply_change(files, rec)
            mission_end = (
                rec.kind == "signal" and rec.event.signal.kind == pb.SIGNAL_KIND_MISSION_FINISHED
            )
            if since >= self.snapshot_every or mission_end:
                put_snapshot(
                    self.led, self.tenant, self.project, rec.versionstamp, encode_manifest(files)
                )
                taken.append(rec.versionstamp)
                since = 0
            if self._progress is not None and seen % 1000 == 0:
                self._progress("snapshot", seen, total)
        return taken
