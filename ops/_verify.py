"""Tamper evidence: re-walk a project's hash chain and check every other piece of state
against it — file heads, snapshots, blobs and the store itself — naming what is wrong."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256

from google.protobuf.message import DecodeError

import ledger
import replay
from ledger import Ledger, Versionstamp
from proto.swarm.v1 import events_pb2 as pb

GENESIS = ledger.GENESIS
ALTERED = "altered"
REMOVED = "removed"
REORDERED = "reordered"
INSERTED = "inserted"
CLOCK = "clock"  # the project clock disagrees with the log it counts
UNDECODABLE = "undecodable"  # a record that fits the chain but does not parse
HEAD = "head"  # a file head (path -> content hash) the log's StateChanges do not give
SNAPSHOT = "snapshot"  # a snapshot whose manifest or anchor disagrees with the log
BLOB = "blob"  # a blob missing, or whose bytes do not match its hash
STORAGE = "storage"  # the store itself: lost commits (seal), damaged pages
MOVED = "moved"  # an event whose key (versionstamp) is not where its id says it landed
_PAGE = 1000
# Signal attributes that name a blob by its hex sha256 (a mission's start manifest).
_BLOB_ATTRIBUTES = ("manifest",)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing that does not fit the chain, and what most likely happened."""

    kind: str  # one of the constants above
    position: int  # 0-based index of the record in log order; -1 when not about a record
    versionstamp: Versionstamp | None  # None when the problem is past the last record
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    records: int
    expected: int  # events the project's clock says were appended
    problems: tuple[Problem, ...] = ()  # the chain's first break, then every other finding
    notes: tuple[str, ...] = ()  # what could not be checked (no seal, old snapshots)
    checked: dict[str, int] = field(default_factory=dict)  # heads, snapshots, blobs checked

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> Problem | None:
        """The first problem: the chain's, when the chain is broken."""
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "records": self.records,
            "expected": self.expected,
            "problem": _problem_dict(self.problem),
            "problems": [_problem_dict(p) for p in self.problems],
            "notes": list(self.notes),
            "checked": dict(self.checked),
        }


def _problem_dict(p: Problem | None) -> dict[str, object] | None:
    if p is None:
        return None
    return {
        "kind": p.kind,
        "position": p.position,
        "versionstamp": str(p.versionstamp) if p.versionstamp else None,
        "detail": p.detail,
    }


def verify(
    led: Ledger,
    tenant: str,
    project: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """Check everything the project's state is made of against its hash chain.

    1. The log: ``chain_i = sha256(chain_{i-1} + bytes_i)`` from 32 zero bytes
       over every record (see ``_chain_problem`` for how a break is named),
       and the clock's count and last chain hash against the log's.
    2. The fold of the log's StateChanges against the file heads (a head
       repointed to other content, added or dropped), and at each snapshot
       against its manifest and the chain hash it was anchored to.
    3. Every blob the log or a snapshot names, and every blob of the tenant:
       present, and its bytes hashing to its name.
    4. The store itself (sqlite): its seal (commits lost with a cut WAL or an
       older copy) and its pages (``quick_check``).
    """
    expected = led.project_info(tenant, project).events
    records = _records(led, tenant, project, expected, progress)
    problems: list[Problem] = []
    notes: list[str] = []
    first = _chain_problem(records, expected)
    if first is not None:
        problems.append(first)
    else:
        problems += _clock_problems(led, tenant, project, records)
    fold = _Fold(records, set(ledger.snapshots(led, tenant, project)))
    problems += fold.problems
    problems += _moved_problems(led, tenant, project, fold.ids)
    problems += _head_problems(led, tenant, project, fold.files)
    problems += _snapshot_problems(led, tenant, project, fold, records, notes)
    problems += _blob_problems(led, tenant, fold.blobs)
    problems += _storage_problems(led, notes)
    checked = {
        "events": len(records),
        "ids": len(fold.ids),
        "heads": len(fold.files),
        "snapshots": len(fold.at_snapshot),
        "blobs": len(fold.blobs),
    }
    return VerifyReport(len(records), expected, tuple(problems), tuple(notes), checked)


def _records(
    led: Ledger,
    tenant: str,
    project: str,
    expected: int,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[Versionstamp, bytes, bytes]]:
    records: list[tuple[Versionstamp, bytes, bytes]] = []
    after: Versionstamp | None = None
    while True:
        page = led.raw_records(tenant, project, after=after, limit=_PAGE)
        records.extend(page)
        if progress is not None:
            progress(len(records), expected)
        if len(page) < _PAGE:
            return records
        after = page[-1][0]


def _chain_problem(
    records: list[tuple[Versionstamp, bytes, bytes]], expected: int
) -> Problem | None:
    """The first record that does not follow the chain, or a count the log does not hold.

    At the first break the neighbours tell the cases apart: if it and the next
    fit once exchanged, the pair was swapped; if the clock counts more events
    than were found, events were removed just before it; otherwise its bytes
    (or its stored hash) were altered. A count with no break means records were
    removed from the end (or inserted, when there are more than counted).
    """
    prev = GENESIS
    for i, (vs, chain, data) in enumerate(records):
        if sha256(prev + data).digest() == chain:
            prev = chain
            continue
        if i + 1 < len(records):
            nvs, nchain, ndata = records[i + 1]
            if sha256(prev + ndata).digest() == nchain and sha256(nchain + data).digest() == chain:
                return Problem(
                    REORDERED, i, vs, f"events at {vs} and {nvs} are in each other's places"
                )
        if expected > len(records):
            missing = expected - len(records)
            return Problem(
                REMOVED,
                i,
                vs,
                f"{missing} event(s) missing just before {vs}: the chain does not continue "
                f"from the previous record and the project counts {expected} events, "
                f"{len(records)} found",
            )
        if expected < len(records):
            return Problem(INSERTED, i, vs, f"event {vs} does not belong to the chain")
        return Problem(ALTERED, i, vs, f"event {vs}'s stored bytes do not hash to its chain entry")
    if expected > len(records):
        return Problem(
            REMOVED,
            len(records),
            None,
            f"{expected - len(records)} event(s) missing after the last record",
        )
    if expected < len(records):
        return Problem(
            INSERTED, expected, records[expected][0], "more records than the project counts"
        )
    return None


def _clock_problems(
    led: Ledger, tenant: str, project: str, records: list[tuple[Versionstamp, bytes, bytes]]
) -> list[Problem]:
    """The clock's chain hash must be the last record's: else the tail was replaced."""
    _, chain = ledger.clock_head(led, tenant, project)
    last = records[-1][1] if records else GENESIS
    if chain == last:
        return []
    return [
        Problem(
            CLOCK,
            len(records),
            None,
            f"the project clock's chain hash {chain.hex()[:16]}… is not the last record's "
            f"({last.hex()[:16]}…): the events at the end were replaced",
        )
    ]


class _Fold:
    """The log's StateChanges folded in order: the heads they give, the state at each
    snapshot's versionstamp, and every blob the events name."""

    def __init__(
        self, records: list[tuple[Versionstamp, bytes, bytes]], snapshots: set[Versionstamp]
    ) -> None:
        self.files: dict[str, tuple[Versionstamp, replay.Entry]] = {}
        self.at_snapshot: dict[Versionstamp, bytes] = {}  # vs -> the manifest it should hold
        self.blobs: dict[bytes, str] = {}  # sha256 -> what names it (for messages)
        self.ids: list[tuple[int, Versionstamp, str]] = []  # position, vs, event id
        self.problems: list[Problem] = []
        for i, (vs, _, data) in enumerate(records):
            try:
                event = pb.SwarmEvent.FromString(data)
            except DecodeError as exc:
                self.problems.append(
                    Problem(UNDECODABLE, i, vs, f"event {vs} does not parse: {exc}")
                )
                continue
            self.ids.append((i, vs, event.event_id))
            self._fold(vs, event)
            if vs in snapshots:
                self.at_snapshot[vs] = self.manifest()

    def _fold(self, vs: Versionstamp, event: pb.SwarmEvent) -> None:
        kind = event.WhichOneof("payload")
        if kind == "state_change":
            change = event.state_change
            if change.new_sha256:
                had = self.files.get(change.path)
                exe = replay.executable_after(had[1] if had else None, change)
                entry = replay.Entry(change.new_sha256, int(change.new_size), exe)
                self.files[change.path] = (vs, entry)
                self.blobs.setdefault(change.new_sha256, f"the content of {change.path!r} at {vs}")
            else:
                self.files.pop(change.path, None)
        elif kind == "decision" and event.decision.HasField("detail"):
            self.blobs.setdefault(event.decision.detail.sha256, f"the detail of decision {vs}")
        elif kind == "signal":
            edge = event.signal.conflict.edge_event_blob
            if len(edge) == 32:
                self.blobs.setdefault(edge, f"the edge event kept by conflict {vs}")
            for name in _BLOB_ATTRIBUTES:
                text = event.signal.attributes.get(name, "")
                if len(text) == 64:
                    with contextlib.suppress(ValueError):  # not hex: names no blob
                        self.blobs.setdefault(bytes.fromhex(text), f"the {name} of signal {vs}")

    def manifest(self) -> bytes:
        return replay.encode_manifest({p: entry for p, (_, entry) in self.files.items()})


def _moved_problems(
    led: Ledger, tenant: str, project: str, ids: list[tuple[int, Versionstamp, str]]
) -> list[Problem]:
    """Each event must sit at the versionstamp its id's idempotency record names: the chain
    covers an event's bytes, not its key."""
    try:
        landed = ledger.landed_at(led, tenant, [eid for _, _, eid in ids])
    except ledger.LedgerError as exc:
        return [Problem(MOVED, -1, None, f"the event id records: {exc}")]
    problems = []
    for (i, vs, eid), where in zip(ids, landed, strict=True):
        if where != (project, vs):
            said = "no record" if where is None else f"{where[0]!r} at {where[1]}"
            detail = f"event {eid} sits at {vs}, but its id record says it landed: {said}"
            problems.append(Problem(MOVED, i, vs, detail))
    return problems


def _head_problems(
    led: Ledger, tenant: str, project: str, files: dict[str, tuple[Versionstamp, replay.Entry]]
) -> list[Problem]:
    """Each stored file head must be what the last StateChange of its path made it."""
    try:
        heads = {f.path: f for f in led.files(tenant, project)}
    except ledger.CorruptRecord as exc:
        return [Problem(HEAD, -1, None, str(exc))]
    problems = []
    for path in sorted(set(heads) | set(files)):
        head, want = heads.get(path), files.get(path)
        if head is None and want is not None:
            detail = f"file head {path!r} is missing; the log's last change of it is {want[0]}"
        elif want is None and head is not None:
            detail = f"file head {path!r} exists but no change in the log creates it"
        elif (
            head is not None
            and want is not None
            and (head.versionstamp, head.sha256, head.size)
            != (want[0], want[1].sha256, want[1].size)
        ):
            detail = (
                f"file head {path!r} says content {head.sha256.hex()[:16]}… ({head.size} bytes, "
                f"event {head.versionstamp}); the log's last change of it says "
                f"{want[1].sha256.hex()[:16]}… ({want[1].size} bytes, event {want[0]})"
            )
        else:
            continue
        problems.append(Problem(HEAD, -1, want[0] if want else None, detail))
    return problems


def _head_of(head: ledger.FileState) -> tuple[Versionstamp, bytes, int]:
    return head.versionstamp, head.sha256, head.size


def _snapshot_problems(
    led: Ledger,
    tenant: str,
    project: str,
    fold: _Fold,
    records: list[tuple[Versionstamp, bytes, bytes]],
    notes: list[str],
) -> list[Problem]:
    """Each snapshot must hold the fold of the log at its versionstamp, and be anchored
    to the chain hash the log holds there."""
    chains = {vs: chain for vs, chain, _ in records}
    problems = []
    unanchored = 0
    for vs in ledger.snapshots(led, tenant, project):
        if vs not in chains:
            problems.append(
                Problem(SNAPSHOT, -1, vs, f"snapshot {vs} is of an event the log lacks")
            )
            continue
        try:
            snap = ledger.find_snapshot(led, tenant, project, vs, anchored=False)
        except ledger.LedgerError as exc:
            problems.append(Problem(SNAPSHOT, -1, vs, f"snapshot {vs}: {exc}"))
            continue
        if snap is None or snap.versionstamp != vs:  # its key's versionstamp element is damaged
            problems.append(Problem(SNAPSHOT, -1, vs, f"snapshot {vs}'s key is malformed"))
            continue
        fold.blobs.setdefault(snap.manifest_sha256, f"the manifest of snapshot {vs}")
        if snap.chain is None:
            unanchored += 1
        elif snap.chain != chains[vs]:
            problems.append(
                Problem(
                    SNAPSHOT,
                    -1,
                    vs,
                    f"snapshot {vs} was taken over chain hash {snap.chain.hex()[:16]}…, but the "
                    f"log's event there has {chains[vs].hex()[:16]}…: the log was rewritten",
                )
            )
        if snap.manifest != fold.at_snapshot.get(vs):
            problems.append(
                Problem(
                    SNAPSHOT,
                    -1,
                    vs,
                    f"snapshot {vs}'s manifest is not the state the log's changes give there",
                )
            )
    if unanchored:
        notes.append(f"{unanchored} snapshot(s) predate chain anchors (checked by content only)")
    return problems


def _blob_problems(led: Ledger, tenant: str, named: dict[bytes, str]) -> list[Problem]:
    """Every blob named, and every blob of the tenant: present, and matching its hash."""
    problems = []
    try:
        stored = ledger.blob_names(led, tenant)
    except ledger.LedgerError as exc:
        return [Problem(BLOB, -1, None, f"the tenant's blob list: {exc}")]
    for sha in sorted(set(named) | set(stored)):
        try:
            led.get_blob(tenant, sha)
        except ledger.UnknownBlob:
            problems.append(Problem(BLOB, -1, None, f"blob {sha.hex()} is missing ({named[sha]})"))
        except ledger.LedgerError as exc:
            what = f" ({named[sha]})" if sha in named else ""
            problems.append(Problem(BLOB, -1, None, f"{exc}{what}"))
    return problems


def _storage_problems(led: Ledger, notes: list[str]) -> list[Problem]:
    found, more = ledger.check_storage(led)
    notes.extend(more)
    return [Problem(STORAGE, -1, None, text) for text in found]
