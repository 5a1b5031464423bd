"""The indexer: follows each project's log from a durable cursor and keeps its points in step.

The cursor (the last versionstamp indexed) is a point in Qdrant beside the
points it covers, written only after a batch's points are: a process killed
mid-batch redoes the batch from the old cursor, and because every point id is
a function of (tenant, project, kind, path, symbol, content) the redo writes the
same points again, never a second copy. Dropping the collections drops the
cursors with them, so the next pass rebuilds everything from the log.

A batch folds its StateChanges to each path's last state before it reads
any file, so a rebuild (one pass over the whole log) and incremental indexing
(many small passes) leave the same points. A mission touched by the batch gets
its lesson rewritten from its whole story.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.memory._chunks import code_chunks
from swarm.memory._lessons import lesson_of
from swarm.memory._store import Embed, MemoryStore

BATCH = 256
#: Only these files become code points (the scout's languages).
CODE_SUFFIXES = (".py",)
MAX_FILE_BYTES = 1 << 20
_log = structlog.get_logger("swarm.memory")


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What one pass did."""

    events: int = 0
    files: int = 0
    code_points: int = 0
    removed: int = 0
    lessons: int = 0

    def __add__(self, other: IndexStats) -> IndexStats:
        return IndexStats(
            self.events + other.events,
            self.files + other.files,
            self.code_points + other.code_points,
            self.removed + other.removed,
            self.lessons + other.lessons,
        )


Progress = Callable[[str, str, IndexStats], None]


class Indexer:
    """Keeps ``store`` a projection of ``led`` (the model is loaded on the first embed)."""

    def __init__(self, led: ledger.Ledger, store: MemoryStore, embed: Embed | None = None) -> None:
        self.led = led
        self.store = store
        self._embed = embed
        # One pass at a time per process (a follower thread and a search's catch-up):
        # two passes over one batch would agree, but each would embed it.
        self._lock = threading.RLock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self._embed is None:
            from swarm.memory._embed import embedder

            self._embed = embedder().embed
        return self._embed(texts)

    def catch_up(
        self, tenant: str, project: str, *, batch: int = BATCH, progress: Progress | None = None
    ) -> IndexStats:
        """Index every event of the project after its cursor; returns what was done."""
        with self._lock:
            return self._catch_up(tenant, project, batch, progress)

    def _catch_up(
        self, tenant: str, project: str, batch: int, progress: Progress | None
    ) -> IndexStats:
        total = IndexStats()
        while True:
            raw = self.store.get_cursor(tenant, project)
            after = ledger.Versionstamp.parse(raw) if raw else None
            events = self.led.read(tenant, project, after=after, limit=batch)
            if not events:
                return total
            total += self._apply(tenant, project, events)
            self.store.set_cursor(tenant, project, str(events[-1].versionstamp))
            if progress is not None:
                progress(tenant, project, total)
            if len(events) < batch:
                return total

    def catch_up_all(
        self, tenants: Iterable[str] | None = None, *, progress: Progress | None = None
    ) -> IndexStats:
        """Every project of every tenant (or of ``tenants``)."""
        total = IndexStats()
        for tenant in tenants if tenants is not None else self.led.tenants():
            for project in self.led.projects(tenant):
                total += self.catch_up(tenant, project, progress=progress)
        return total

    def _apply(self, tenant: str, project: str, events: list[ledger.RecordedEvent]) -> IndexStats:
        files: dict[str, tuple[bytes | None, str]] = {}
        missions: list[str] = []
        for rec in events:
            ev = rec.event
            if rec.kind == "state_change":
                sc = ev.state_change
                gone = sc.kind == pb.CHANGE_KIND_DELETE or not sc.new_sha256
                files[sc.path] = (None if gone else sc.new_sha256, str(rec.versionstamp))
            if ev.mission_id and ev.mission_id not in missions:
                missions.append(ev.mission_id)
        written = removed = lessons = 0
        for path, (sha, vs) in sorted(files.items()):
            chunks = []
            if sha is not None and path.endswith(CODE_SUFFIXES):
                source = self.led.get_blob(tenant, sha)
                if len(source) <= MAX_FILE_BYTES:
                    chunks = code_chunks(source)
            w, r = self.store.replace_code(tenant, project, path, chunks, vs, self.embed)
            written, removed = written + w, removed + r
        for mid in missions:
            doc = lesson_of(self.led, tenant, project, mid)
            if doc is not None:
                self.store.put_lesson(tenant, project, doc, self.embed)
                lessons += 1
        return IndexStats(len(events), len(files), written, removed, lessons)

    def follow(self, stop: threading.Event, *, idle_s: float = 5.0) -> None:
        """Index as appends land, until ``stop`` is set: woken by each project's watch.

        Projects that appear later are found on the next wake (or within ``idle_s``).
        """
        wake = threading.Event()
        watched: set[tuple[str, str]] = set()
        while not stop.is_set():
            wake.clear()  # before the pass: an append during it wakes the next one
            for tenant in self.led.tenants():
                for project in self.led.projects(tenant):
                    if (tenant, project) not in watched:
                        watched.add((tenant, project))
                        _watch(self.led, tenant, project, wake, stop, idle_s)
            try:
                self.catch_up_all()
            except ledger.LedgerError as exc:  # a damaged record: say so, keep following
                _log.warning("memory indexing failed", error=str(exc))
            wake.wait(idle_s)


def _watch(
    led: ledger.Ledger,
    tenant: str,
    project: str,
    wake: threading.Event,
    stop: threading.Event,
    idle_s: float,
) -> None:
    """A thread that sets ``wake`` after each append to the project (race-free: the head is
    read and the watch armed in one transaction)."""

    def run() -> None:
        after = led.head(tenant, project)
        while not stop.is_set():
            try:
                if led.wait_for_append(tenant, project, after, idle_s):
                    after = led.head(tenant, project)
                    wake.set()
            except ledger.LedgerError:
                return

    threading.Thread(target=run, name=f"swarm-memory:{tenant}/{project}", daemon=True).start()
