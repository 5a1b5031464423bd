"""Edge → hub shipping throughput beside a raw sqlite3 copy, and lag under a steady load.

    python bench/sync.py                        # 100,000 events, then 10 s of lag at 500 events/s
    python bench/sync.py --events 20000 --lag-seconds 5 --rate 200
    python bench/sync.py --json

Throughput: the same events (~300-byte Decisions, one in ten a StateChange
whose blob is stored on the edge) are first recorded in an edge ledger
(sqlite) and, as rows (event id, time, body), in a plain sqlite3 table. The
clock then runs over:

* ours: ``sync.Shipper.ship()`` to a fresh hub ledger file: per batch of
  1,000 it reads the edge's raw records, re-walks their hash chain, checks
  every event (the ledger's validators) and blob, copies the new blobs,
  appends to the hub (ids, indexes, file heads, hash chain, one
  transaction) and moves the edge's durable cursor;
* raw sqlite3: per batch of 1,000 it selects the rows after a cursor from
  the source file, ``INSERT OR IGNORE``s them into a destination table keyed
  by event id (so a re-sent batch lands once, like ours), commits, then
  commits the cursor in the source file.

Both run at WAL + synchronous=FULL on fresh files in the same folder. Lag: a
real ``swarm sync --follow`` process ships while this process appends at a
steady rate; the lag of an event is the time from its append returning to it
being readable on the hub (sampled every 50 ms). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ledger  # noqa: E402
import sync  # noqa: E402
from proto.swarm.v1 import events_pb2 as pb  # noqa: E402

T, P = "bench", "sync"
BATCH = 1000
WARMUP_S = 2.0  # appending before the lag is sampled, once the follower is up
CLI = "import sys; from swarm.cli import main; sys.exit(main())"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_events(led: ledger.Ledger, n: int) -> list[pb.SwarmEvent]:
    heads: dict[str, bytes] = {}
    out = []
    for i in range(n):
        if i % 10 == 9:
            path = f"src/pkg{i % 7}/mod_{i % 40}.py"
            blob = led.put_blob(T, f"# version {i}\n".encode() * 20)
            out.append(
                pb.SwarmEvent(
                    event_id=ledger.new_event_id(),
                    agent_role=pb.AGENT_ROLE_CODER,
                    agent_id=f"coder-{i % 4}",
                    mission_id=f"m-{i % 12}",
                    state_change=pb.StateChange(
                        path=path,
                        previous_sha256=heads.get(path, b""),
                        new_sha256=blob.sha256,
                        new_size=blob.size,
                        content=pb.BlobRef(sha256=blob.sha256, size=blob.size),
                    ),
                )
            )
            heads[path] = blob.sha256
        else:
            out.append(
                pb.SwarmEvent(
                    event_id=ledger.new_event_id(),
                    agent_role=pb.AGENT_ROLE_SCOUT,
                    agent_id=f"scout-{i % 8}",
                    mission_id=f"m-{i % 12}",
                    decision=pb.Decision(
                        kind="scout.usages",
                        input=f"where is calculate_total used? ({i})",
                        rationale="The call sites import it directly; " * 6,
                        confidence=0.8,
                    ),
                )
            )
    return out


class CountedCommits:
    """The hub's real engine, counting its write transactions (blob groups, appends)."""

    def __init__(self, inner: ledger.Engine) -> None:
        self.inner = inner
        self.name = inner.name
        self.count = 0

    def transact(self, fn: Any) -> Any:
        out = self.inner.transact(fn)
        self.count += 1
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def raw_copy(src_path: Path, dst_path: Path) -> float:
    src = sqlite3.connect(src_path, isolation_level=None)
    dst = sqlite3.connect(dst_path, isolation_level=None)
    for c in (src, dst):
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
    dst.execute(
        "CREATE TABLE events (event_id TEXT PRIMARY KEY, seq INTEGER, time_us INTEGER, body BLOB)"
    )
    src.execute("CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, seq INTEGER)")
    started = time.perf_counter()
    after = 0
    while True:
        rows = src.execute(
            "SELECT event_id, seq, time_us, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, BATCH),
        ).fetchall()
        if not rows:
            break
        dst.execute("BEGIN IMMEDIATE")
        dst.executemany("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?)", rows)
        dst.execute("COMMIT")
        after = rows[-1][1]
        src.execute("INSERT OR REPLACE INTO cursor VALUES ('hub', ?)", (after,))
    elapsed = time.perf_counter() - started
    src.close()
    dst.close()
    return elapsed


def throughput(folder: Path, n: int) -> dict[str, float]:
    edge_file, hub_file = folder / "edge.sqlite", folder / "hub.sqlite"
    edge = ledger.open_ledger(f"sqlite://{edge_file}?sync=normal")
    edge.create_tenant(T)
    edge.create_project(T, P)
    say(f"recording {n:,} events on the edge (not timed)...")
    events = make_events(edge, n)
    for i in range(0, n, BATCH):
        edge.append(T, P, events[i : i + BATCH])
    src_file = folder / "raw-src.sqlite"
    src = sqlite3.connect(src_file)
    src.execute(
        "CREATE TABLE events (event_id TEXT PRIMARY KEY, seq INTEGER UNIQUE, time_us INTEGER, body BLOB)"
    )
    src.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?)",
        (
            (r.event.event_id, i, r.time_us, r.event.SerializeToString())
            for i, r in enumerate(edge.iter_events(T, P), 1)
        ),
    )
    src.commit()
    src.close()
    edge.close()
    total = n + 1  # the edge's PROJECT_CREATED signal ships too

    say("raw sqlite3 copy...")
    cpu0 = time.process_time()
    raw_s = raw_copy(src_file, folder / "raw-dst.sqlite")
    raw_cpu = time.process_time() - cpu0
    say(f"  {total / raw_s:,.0f} rows/s")

    say("ours: sync.Shipper.ship() ...")
    edge = ledger.open_ledger(f"sqlite://{edge_file}")  # full sync for the cursor writes
    commits = CountedCommits(ledger.open_engine(f"sqlite://{hub_file}"))
    hub = ledger.Ledger(commits)
    shipped = 0

    def progress(p: sync.Progress) -> None:
        nonlocal shipped
        if p.handled - shipped >= 20_000:
            shipped = p.handled
            say(f"  {p.handled:,} shipped")

    started, cpu0 = time.perf_counter(), time.process_time()
    grant = sync.SyncGrant.of([T], holder="bench")
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=grant, progress=progress)
    report = shipper.ship()
    ours_s, ours_cpu = time.perf_counter() - started, time.process_time() - cpu0
    assert report.landed == total, (report.landed, total)
    edge.close()
    hub.close()
    return {
        "events": total,
        "ours_events_per_s": total / ours_s,
        "raw_rows_per_s": total / raw_s,
        "ratio_ours_over_raw": raw_s / ours_s,
        "ours_cpu_s": ours_cpu,
        "raw_cpu_s": raw_cpu,
        "ratio_cpu_ours_over_raw": raw_cpu / ours_cpu,
        "hub_commits": commits.count,
    }


def lag(folder: Path, seconds: float, rate: int) -> dict[str, float]:
    edge_url = f"sqlite://{folder / 'lag-edge.sqlite'}"
    hub_url = f"sqlite://{folder / 'lag-hub.sqlite'}"
    edge = ledger.open_ledger(edge_url)
    edge.create_tenant(T)
    edge.create_project(T, P)
    from swarm.daemon._tokens import Role, TokenStore

    with ledger.open_ledger(hub_url) as hub_setup:
        secret, _ = TokenStore(hub_setup).create(T, Role.SYNC, "bench")
    follower = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CLI,
            "sync",
            "--from",
            edge_url,
            "--to",
            hub_url,
            "--hub-name",
            "hq",
            "--follow",
            "--quiet",
        ],
        cwd=ROOT,
        env={**os.environ, "SWARM_SYNC_TOKEN": secret},
    )
    hub = ledger.open_ledger(hub_url)
    startup_s = _wait_started(edge, hub, follower)
    samples: list[float] = []
    sampled: list[tuple[str, float]] = []
    lock = threading.Lock()
    done = threading.Event()

    def checker() -> None:
        while not done.is_set() or sampled:
            with lock:
                pending = list(sampled)
            for eid, t0 in pending:
                try:
                    if hub.find_event(T, eid) is not None:
                        with lock:
                            sampled.remove((eid, t0))
                        samples.append(time.perf_counter() - t0)
                except ledger.UnknownTenant:
                    pass
            time.sleep(0.001)

    th = threading.Thread(target=checker, daemon=True)
    th.start()
    say(
        f"lag: follower up in {startup_s:.2f} s; appending {rate} events/s, {WARMUP_S:.0f} s "
        f"unsampled, then {seconds:.0f} s sampled while `swarm sync --follow` ships..."
    )
    batch = max(1, rate // 50)  # 50 appends a second
    interval = batch / rate
    warm_until = time.perf_counter() + WARMUP_S
    start = time.perf_counter()
    next_at = start
    last_sample = 0.0
    start_sampled = start
    appended = 0
    while time.perf_counter() - start < seconds + WARMUP_S:
        evs = [
            pb.SwarmEvent(
                event_id=str(uuid.uuid4()),
                agent_id="scout-1",
                decision=pb.Decision(kind="lag", rationale="steady load " * 20),
            )
            for _ in range(batch)
        ]
        edge.append(T, P, evs)
        now = time.perf_counter()
        if now < warm_until:  # the follower's first rounds (imports, caches) are not lag
            start_sampled = now
            appended = 0
        appended += batch
        if now >= warm_until and now - last_sample >= 0.05:
            with lock:
                sampled.append((evs[-1].event_id, now))
            last_sample = now
        next_at += interval
        time.sleep(max(0.0, next_at - time.perf_counter()))
    achieved = appended / (time.perf_counter() - start_sampled)
    done.set()
    th.join(timeout=30)
    follower.terminate()
    follower.wait(timeout=30)
    edge.close()
    hub.close()
    samples.sort()
    return {
        "follower_startup_s": startup_s,
        "rate_events_per_s": achieved,
        "lag_samples": len(samples),
        "lag_p50_ms": 1000 * statistics.median(samples),
        "lag_p99_ms": 1000 * samples[min(len(samples) - 1, int(0.99 * len(samples)))],
        "lag_max_ms": 1000 * samples[-1],
    }


def _wait_started(
    edge: ledger.Ledger, hub: ledger.Ledger, follower: subprocess.Popen[bytes]
) -> float:
    """Seconds from now until the follower has shipped a first event (it is up), reported
    apart from the lag: sampled from a cold start, the lag was mostly the start-up."""
    t0 = time.perf_counter()
    probe = pb.SwarmEvent(
        event_id=str(uuid.uuid4()),
        agent_id="scout-1",
        decision=pb.Decision(kind="lag", rationale="up?"),
    )
    edge.append(T, P, [probe])
    while True:
        try:
            if hub.find_event(T, probe.event_id) is not None:
                return time.perf_counter() - t0
        except ledger.UnknownTenant:
            pass
        if follower.poll() is not None:
            raise SystemExit(f"the follower exited with {follower.returncode} before shipping")
        if time.perf_counter() - t0 > 120:
            raise SystemExit("the follower shipped nothing in 120 s")
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--lag-seconds", type=float, default=10.0)
    parser.add_argument(
        "--rate", type=int, default=500, help="events/s appended during the lag run"
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="folder for the files (default: a temp dir)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        result = {
            "throughput": throughput(folder, args.events),
            "lag": lag(folder, args.lag_seconds, args.rate),
        }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    t, lg = result["throughput"], result["lag"]
    print(
        f"shipping {int(t['events']):,} events, sqlite ledger -> sqlite ledger (WAL, synchronous=FULL, batch {BATCH})"
    )
    print(f"  ours (sync.Shipper)        {t['ours_events_per_s']:>10,.0f} events/s")
    print(f"  raw sqlite3 row copy       {t['raw_rows_per_s']:>10,.0f} rows/s")
    print(f"  ratio ours/raw             {t['ratio_ours_over_raw']:>10.3f}   (target >= 0.3)")
    print(
        f"  CPU seconds: ours {t['ours_cpu_s']:.2f}, raw {t['raw_cpu_s']:.2f}, ratio raw/ours "
        f"{t['ratio_cpu_ours_over_raw']:.3f} (steadier than wall time on a shared machine)"
    )
    print(f"  hub write transactions     {int(t['hub_commits']):>10,}")
    print(
        f"lag with the edge appending {lg['rate_events_per_s']:,.0f} events/s, `swarm sync --follow` in its own process"
    )
    print(
        f"  p50 {lg['lag_p50_ms']:.1f} ms   p99 {lg['lag_p99_ms']:.1f} ms   max {lg['lag_max_ms']:.1f} ms   ({int(lg['lag_samples'])} samples, after {WARMUP_S:.0f} s of warm-up)"
    )
    print(
        f"  follower start-up (spawn to first event on the hub): {lg['follower_startup_s']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
