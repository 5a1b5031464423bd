"""Append throughput of the ledger's sqlite engine against two peers, in one run.

    python bench/ledger_append.py                  # 100,000 events at batch 10 and 100, 5,000 at batch 1
    python bench/ledger_append.py --events 20000 --batch1-events 2000
    python bench/ledger_append.py --json           # one JSON document on stdout

The same ~500-byte SwarmEvents (Decisions from 8 agents over a few missions,
~20% StateChanges whose blobs are stored before the clock starts and whose
previous hashes chain correctly) go, at the same durability (WAL,
synchronous=FULL, each on a fresh file in the same folder), through:

* ours: ``Ledger.append`` on ``sqlite:///…?sync=full`` — the event, its
  time/agent/mission/path indexes, file heads, the idempotency record, the
  hash chain and the project clock, in one transaction per batch;
* eventsourcing: ``SQLiteApplicationRecorder.insert_events`` with one
  ``StoredEvent`` per event (aggregate = the agent, version = its count, the
  serialised event as state) — its primary key plus the global rowid order;
* raw sqlite3: one relational table with the secondary indexes the ledger
  keeps (event id unique, time, agent, mission, path), ``executemany`` per batch.

Every system is handed the protobuf messages and pays for serialising them.
Each system runs ``--rounds`` times per batch size (3 by default), the systems
interleaved in a rotating order on fresh files, and the median run counts, so
a slow spell of a shared machine lands on all three rather than on one.
It prints events/s and the ratios ours/eventsourcing and ours/raw per batch
size, our cost over the first and the last 10,000 events (it must stay flat),
and at batch 1 commit latency p50/p99 beside a bare write+fsync loop on the
same disk. Progress goes to stderr. Each run's files are removed as soon as it
is measured, and the bench folder at the end, so a run leaves nothing behind
(it left about 1.3 GB in the temporary folder before).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ledger
from proto.swarm.v1 import events_pb2 as pb

TENANT, PROJECT = "bench", "append"
AGENTS = ["scout-1", "scout-2", "coder-1", "coder-2", "coder-3", "coder-4", "critic-1", "critic-2"]
MISSIONS = [f"m-{i:03d}" for i in range(12)]
PATHS = [f"src/pkg{i % 7}/module_{i}.py" for i in range(40)]
CONTENTS = 64  # distinct blob contents the StateChanges cycle through
WINDOW = 10_000  # first/last window for the flatness check
TARGET_AT_100 = 0.5

RATIONALES = [
    "The call sites in {p} import calculate_total directly; renaming the definition without "
    "them would break the module at import time, so the change covers definition and callers "
    "together and leaves the re-export in __init__ for one release as a deprecated alias.",
    "Tests in {p} exercise the old name through a fixture; the critic ran them in the sandbox "
    "after the rename and all 42 passed, so the ticket is accepted and the lock released. "
    "Coverage of the touched lines is unchanged at 87 percent, no new warnings were emitted.",
    "Scout found 3 definitions and 17 references of the symbol across 9 files; two of the "
    "references in {p} are in strings (log messages), which a codemod must not touch, so they "
    "are listed as rejected alternatives and left for a human reviewer to decide on.",
]


# the events ------------------------------------------------------------------
def make_events(count: int, seed: int, blob_shas: list[tuple[bytes, int]]) -> list[pb.SwarmEvent]:
    """``count`` realistic events; StateChanges chain their paths' hashes from empty."""
    rng = random.Random(seed)
    heads: dict[str, int] = {}  # path -> index into blob_shas of its current content
    events: list[pb.SwarmEvent] = []
    trace = uuid.uuid4().hex
    for i in range(count):
        agent = rng.choice(AGENTS)
        mission = rng.choice(MISSIONS)
        common = {
            "event_id": ledger.new_event_id(),
            "agent_id": agent,
            "mission_id": mission,
            "trace_id": trace,
            "span_id": f"{i:016x}",
        }
        if rng.random() < 0.2:
            path = rng.choice(PATHS)
            previous = heads.get(path)
            new = rng.randrange(CONTENTS)
            if new == previous:
                new = (new + 1) % CONTENTS
            sha, size = blob_shas[new]
            heads[path] = new
            events.append(
                pb.SwarmEvent(
                    **common,
                    agent_role=pb.AGENT_ROLE_CODER,
                    state_change=pb.StateChange(
                        path=path,
                        previous_sha256=blob_shas[previous][0] if previous is not None else b"",
                        new_sha256=sha,
                        new_size=size,
                        content=pb.BlobRef(sha256=sha, size=size),
                        unified_diff=(
                            f"--- a/{path}\n+++ b/{path}\n@@ -10,3 +10,3 @@\n"
                            "-    return calculate_total(order)\n"
                            "+    return compute_order_total(order)\n"
                        )
                        * 2,
                        kind=pb.CHANGE_KIND_MODIFY
                        if previous is not None
                        else pb.CHANGE_KIND_CREATE,
                        reversible=True,
                    ),
                )
            )
        else:
            path = rng.choice(PATHS)
            events.append(
                pb.SwarmEvent(
                    **common,
                    agent_role=pb.AGENT_ROLE_SCOUT,
                    decision=pb.Decision(
                        kind=rng.choice(("scout.usages", "critic.verdict", "coder.plan")),
                        input=f"rename calculate_total to compute_order_total in {path}",
                        rationale=rng.choice(RATIONALES).format(p=path),
                        confidence=rng.random(),
                        outcome=rng.choice(("accept", "found", "reject")),
                    ),
                )
            )
    return events


def blob_contents(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [
        (
            f"def compute_order_total(order):  # v{i}\n" + "    x = 1\n" * rng.randint(5, 200)
        ).encode()
        for i in range(CONTENTS)
    ]


def index_values(ev: pb.SwarmEvent) -> tuple[str, str, str | None]:
    path = ev.state_change.path if ev.WhichOneof("payload") == "state_change" else None
    return ev.agent_id, ev.mission_id, path


# the systems -----------------------------------------------------------------
Appender = Callable[[Sequence[pb.SwarmEvent]], None]


class Ours:
    name = "ours"

    def __init__(self, folder: Path, contents: list[bytes]) -> None:
        self.led = ledger.open_ledger(f"sqlite://{folder / 'ours.sqlite'}?sync=full")
        self.led.create_tenant(TENANT)
        self.led.create_project(TENANT, PROJECT)
        for data in contents:  # outside the timed region
            self.led.put_blob(TENANT, data)

    def append(self, batch: Sequence[pb.SwarmEvent]) -> None:
        self.led.append(TENANT, PROJECT, batch)

    def close(self) -> None:
        self.led.close()


class EventSourcing:
    name = "eventsourcing"

    def __init__(self, folder: Path, contents: list[bytes]) -> None:
        from eventsourcing.persistence import StoredEvent
        from eventsourcing.sqlite import (
            SQLiteApplicationRecorder,
            SQLiteConnection,
            SQLiteConnectionPool,
            SQLiteDatastore,
        )

        class FullSyncPool(SQLiteConnectionPool):
            """Its pool with synchronous=FULL said out loud (WAL it sets itself)."""

            def _create_connection(self) -> SQLiteConnection:
                conn = super()._create_connection()
                conn._sqlite_conn.execute("PRAGMA synchronous = FULL")
                return conn

        path = str(folder / "eventsourcing.sqlite")
        self.datastore = SQLiteDatastore(path)
        self.datastore.pool = FullSyncPool(db_name=path)
        self.recorder = SQLiteApplicationRecorder(self.datastore)
        self.recorder.create_table()
        self.stored_event = StoredEvent
        self.versions: dict[str, int] = {}
        self.ids = {a: uuid.uuid5(uuid.NAMESPACE_URL, a) for a in AGENTS}
        with self.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA journal_mode")
            mode = c.fetchone()[0]
            c.execute("PRAGMA synchronous")
            sync = c.fetchone()[0]
        assert (mode, sync) == ("wal", 2), (mode, sync)

    def append(self, batch: Sequence[pb.SwarmEvent]) -> None:
        stored = []
        for ev in batch:
            version = self.versions.get(ev.agent_id, 0) + 1
            self.versions[ev.agent_id] = version
            stored.append(
                self.stored_event(
                    originator_id=self.ids[ev.agent_id],
                    originator_version=version,
                    topic="swarm.v1:" + (ev.WhichOneof("payload") or ""),
                    state=ev.SerializeToString(),
                )
            )
        self.recorder.insert_events(stored)

    def close(self) -> None:
        self.datastore.close()


class RawSqlite:
    name = "raw"

    def __init__(self, folder: Path, contents: list[bytes]) -> None:
        self.conn = sqlite3.connect(folder / "raw.sqlite", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.executescript(
            """
            CREATE TABLE events (
                seq INTEGER PRIMARY KEY,
                event_id TEXT NOT NULL UNIQUE,
                time_us INTEGER NOT NULL,
                agent TEXT NOT NULL,
                mission TEXT NOT NULL,
                path TEXT,
                body BLOB NOT NULL
            );
            CREATE INDEX events_time ON events (time_us);
            CREATE INDEX events_agent ON events (agent, seq);
            CREATE INDEX events_mission ON events (mission, seq);
            CREATE INDEX events_path ON events (path, seq) WHERE path IS NOT NULL;
            """
        )

    def append(self, batch: Sequence[pb.SwarmEvent]) -> None:
        now = time.time_ns() // 1000
        rows = [(ev.event_id, now, *index_values(ev), ev.SerializeToString()) for ev in batch]
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(
            "INSERT INTO events (event_id, time_us, agent, mission, path, body) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


SYSTEMS = (Ours, EventSourcing, RawSqlite)


# measuring -----------------------------------------------------------------------
@dataclass
class Run:
    system: str
    batch: int
    events: int
    seconds: float
    batch_seconds: list[float] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def window_us_per_event(self, first: bool) -> float | None:
        """Mean append cost per event over the first or last WINDOW events."""
        per = WINDOW // self.batch
        if len(self.batch_seconds) < 2 * per:
            return None
        part = self.batch_seconds[:per] if first else self.batch_seconds[-per:]
        return sum(part) / (per * self.batch) * 1e6


def run_one(
    system: type, folder: Path, contents: list[bytes], events: list[pb.SwarmEvent], batch: int
) -> Run:
    sub = Path(tempfile.mkdtemp(prefix=f"{system.name}-b{batch}-", dir=folder))
    times: list[float] = []
    step = max(1, len(events) // batch // 20)
    target = None
    try:
        target = system(sub, contents)
        started = time.perf_counter()
        for i in range(0, len(events), batch):
            t0 = time.perf_counter()
            target.append(events[i : i + batch])
            times.append(time.perf_counter() - t0)
            if (i // batch) % step == 0:
                print(
                    f"\r  {system.name:>13} batch {batch:>3}: {i + batch:>7}/{len(events)}",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
        total = time.perf_counter() - started
    finally:
        if target is not None:
            target.close()
        REMOVED.append(_size(sub))
        shutil.rmtree(sub, ignore_errors=True)  # each run's files go: ~1.3 GB a run otherwise
    print(file=sys.stderr)
    return Run(system.name, batch, len(events), total, times)


REMOVED: list[int] = []  # bytes of each run's files, removed once it was measured


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def fsync_loop(folder: Path, count: int) -> list[float]:
    """Latency of write+fsync of a small record to a file on the same disk."""
    path = folder / "fsync.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    record = b"x" * 100
    out = []
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            os.write(fd, record)
            os.fsync(fd)
            out.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--events",
        type=int,
        default=100_000,
        help="events per run at batch 10 and 100 (default 100,000)",
    )
    ap.add_argument(
        "--batch1-events",
        type=int,
        default=5_000,
        help="events per run at batch 1, one fsync each (default 5,000)",
    )
    ap.add_argument(
        "--batches", default="1,10,100", help="batch sizes, comma-separated (default 1,10,100)"
    )
    ap.add_argument(
        "--dir", type=Path, default=None, help="folder for the databases (default: a temporary one)"
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of each system per batch size, interleaved; the median counts (default 3)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    args = ap.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    if (
        args.events < 1
        or args.batch1_events < 1
        or args.rounds < 1
        or any(b < 1 or b > ledger.MAX_BATCH for b in batches)
    ):
        ap.error(f"event counts must be positive and batches between 1 and {ledger.MAX_BATCH}")

    folder = Path(tempfile.mkdtemp(prefix="swarm-bench-", dir=args.dir))
    contents = blob_contents(args.seed)
    shas = [(hashlib.sha256(c).digest(), len(c)) for c in contents]
    print(f"bench folder {folder}; building {args.events:,} events", file=sys.stderr)
    all_events = make_events(max(args.events, args.batch1_events), args.seed, shas)
    sizes = [len(e.SerializeToString()) for e in all_events[: args.events]]
    changes = sum(e.WhichOneof("payload") == "state_change" for e in all_events[: args.events])
    args.state_change_share = round(changes / min(args.events, len(all_events)), 3)

    runs: list[Run] = []
    try:
        for batch in batches:
            count = args.batch1_events if batch == 1 else args.events
            events = all_events[:count]
            # Rounds interleave the systems (in a rotating order), so a slow spell of a
            # shared machine lands on all of them; each system's median run is reported.
            for r in range(args.rounds):
                for i in range(len(SYSTEMS)):
                    system = SYSTEMS[(i + r) % len(SYSTEMS)]
                    runs.append(run_one(system, folder, contents, events, batch))
        fsyncs = fsync_loop(folder, min(args.batch1_events, 2000)) if 1 in batches else []
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    args.removed_bytes = sum(REMOVED)
    args.left_bytes = _size(folder) if folder.exists() else 0

    result = report(runs, fsyncs, sizes, args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 0


def median_runs(runs: list[Run]) -> dict[tuple[str, int], Run]:
    """Each (system, batch)'s run of median throughput."""
    grouped: dict[tuple[str, int], list[Run]] = {}
    for r in runs:
        grouped.setdefault((r.system, r.batch), []).append(r)
    return {k: sorted(v, key=lambda r: r.rate)[len(v) // 2] for k, v in grouped.items()}


def report(
    runs: list[Run], fsyncs: list[float], sizes: list[int], args: argparse.Namespace
) -> dict[str, object]:
    by = median_runs(runs)
    out: dict[str, object] = {
        "sqlite_version": sqlite3.sqlite_version,
        "event_bytes_mean": round(statistics.mean(sizes)),
        "state_change_share": args.state_change_share,
        "rounds": args.rounds,
        "run_files_removed_mb": round(args.removed_bytes / 1e6, 1),
        "left_in_temp_folder_bytes": args.left_bytes,
        "batches": [],
    }
    rows = []
    for batch in sorted({r.batch for r in runs}):
        ours, es, raw = (by[s, batch] for s in ("ours", "eventsourcing", "raw"))
        row: dict[str, object] = {
            "batch": batch,
            "events": ours.events,
            "events_per_s": {s: round(by[s, batch].rate) for s in ("ours", "eventsourcing", "raw")},
            "every_round_events_per_s": {
                s: [round(r.rate) for r in runs if (r.system, r.batch) == (s, batch)]
                for s in ("ours", "eventsourcing", "raw")
            },
            "ours_over_eventsourcing": round(ours.rate / es.rate, 2),
            "ours_over_raw": round(ours.rate / raw.rate, 2),
        }
        first, last = ours.window_us_per_event(True), ours.window_us_per_event(False)
        if first is not None and last is not None:
            row["ours_us_per_event_first_10k"] = round(first, 1)
            row["ours_us_per_event_last_10k"] = round(last, 1)
            row["last_over_first"] = round(last / first, 2)
        if batch == 1:
            row["commit_ms"] = {
                s: {
                    "p50": round(pct(by[s, 1].batch_seconds, 0.5) * 1e3, 3),
                    "p99": round(pct(by[s, 1].batch_seconds, 0.99) * 1e3, 3),
                }
                for s in ("ours", "eventsourcing", "raw")
            }
            if fsyncs:
                row["commit_ms"]["bare_fsync"] = {
                    "p50": round(pct(fsyncs, 0.5) * 1e3, 3),
                    "p99": round(pct(fsyncs, 0.99) * 1e3, 3),
                }  # type: ignore[index]
        rows.append(row)
    out["batches"] = rows
    out["target_at_batch_100"] = TARGET_AT_100
    at100 = next((r for r in rows if r["batch"] == 100), None)
    if at100 is None:
        out["target_met"] = None
    else:  # judged on the unrounded ratio: 0.496 prints as 0.50 but is not 0.5
        out["target_met"] = by["ours", 100].rate / by["eventsourcing", 100].rate >= TARGET_AT_100
    return out


def print_report(result: dict[str, object]) -> None:
    print(
        f"sqlite {result['sqlite_version']}, WAL + synchronous=FULL for all; events average "
        f"{result['event_bytes_mean']} bytes serialised, {result['state_change_share']:.0%} StateChanges"
    )
    print(
        f"{'batch':>5} {'events':>8} {'ours ev/s':>10} {'eventsrc ev/s':>14} {'raw ev/s':>10} {'ours/es':>8} {'ours/raw':>9}"
    )
    for row in result["batches"]:  # type: ignore[attr-defined]
        eps = row["events_per_s"]
        print(
            f"{row['batch']:>5} {row['events']:>8,} {eps['ours']:>10,} {eps['eventsourcing']:>14,} {eps['raw']:>10,} "
            f"{row['ours_over_eventsourcing']:>7.2f}x {row['ours_over_raw']:>8.2f}x"
        )
    print(
        f"each figure is the median of {result['rounds']} interleaved rounds; every round's ev/s:"
    )
    for row in result["batches"]:  # type: ignore[attr-defined]
        every = row["every_round_events_per_s"]
        print(f"  batch {row['batch']:>3}: " + "; ".join(f"{k} {every[k]}" for k in every))
    for row in result["batches"]:  # type: ignore[attr-defined]
        if "last_over_first" in row:
            print(
                f"ours, batch {row['batch']}: {row['ours_us_per_event_first_10k']} µs/event over the first 10,000, "
                f"{row['ours_us_per_event_last_10k']} over the last 10,000 (last/first {row['last_over_first']})"
            )
        if row["batch"] == 1:
            print(
                f"batch 1 ran {row['events']:,} events (one fsync'd commit each; --batch1-events to change)"
            )
            print("commit latency at batch 1 (ms):")
            for name, lat in row["commit_ms"].items():
                print(f"  {name:>13}: p50 {lat['p50']:.3f}  p99 {lat['p99']:.3f}")
    print(
        f"disk: {result['run_files_removed_mb']} MB of run files removed as each run finished; "
        f"{result['left_in_temp_folder_bytes']} bytes left in the temporary folder"
    )
    met = result["target_met"]
    if met is not None:
        print(
            f"target at batch 100: ours/eventsourcing >= {result['target_at_batch_100']}: {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
