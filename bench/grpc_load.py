"""Load on a real ``swarm serve``: idle streams by the thousand, then 50 live streams and 5 missions.

First, with the daemon otherwise quiet, two probe clients time health checks
and unary calls (ListLocks) for ``--probe-seconds``; then the same probe runs
while 1,000 idle streams are held open on a few multiplexed connections: 400
reflection streams and 200 health watches with no token at all (the attack
that froze the old thread-per-stream server) and 400 authenticated event
tails. Both sets of p50/p99 are printed side by side.

Starts the daemon as a process on a fresh sqlite ledger with five copies of
examples/sample_repo as workspaces. Five drivers keep one mission each
running (a rename there and back, again and again), 50 clients follow the
five projects' event streams live, and 4 clients make unary calls
(GetMission, ListFiles, ListLocks) whose latency is recorded. At the end it
prints stream throughput, unary p50/p99, errors (must be 0) and the
daemon's peak RSS, then the baseline: the same logs read in-process with
``Ledger.iter_events`` and over one gRPC stream, in the same run, with the
ratio.

    python bench/grpc_load.py                 # 60 s of load, as the issue asks
    python bench/grpc_load.py --seconds 10    # a quick look
    python bench/grpc_load.py --with-tests    # the critic runs the sample's tests in the sandbox
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc_reflection.v1alpha import reflection_pb2_grpc  # noqa: E402

import ledger  # noqa: E402
from proto.swarm.v1 import service_pb2 as api  # noqa: E402
from proto.swarm.v1 import service_pb2_grpc as api_grpc  # noqa: E402
from swarm.client import STREAM_BATCH  # noqa: E402
from swarm.daemon import Role, TokenStore  # noqa: E402

TENANT = "bench"
NAMES = ("calculate_total", "compute_order_total")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(samples: list[float], q: float) -> float:
    """The q-quantile of ``samples`` in milliseconds (nearest rank)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def probe(
    target: str, md: list[tuple[str, str]], project: str, seconds: float
) -> dict[str, list[float]]:
    """Two clients, each alternating Health/Check and ListLocks for ``seconds``; latencies."""
    out: dict[str, list[float]] = {"health": [], "unary": [], "errors": []}
    stop = time.perf_counter() + seconds

    def client() -> None:
        channel = grpc.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        health = health_pb2_grpc.HealthStub(channel)
        stub = api_grpc.SwarmStub(channel)
        ref = api.ProjectRef(project=project)
        while time.perf_counter() < stop:
            try:
                t0 = time.perf_counter()
                health.Check(health_pb2.HealthCheckRequest(service="swarm.v1.Swarm"), timeout=30)
                out["health"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                stub.ListLocks(api.ListLocksRequest(project=ref), metadata=md, timeout=30)
                out["unary"].append(time.perf_counter() - t0)
            except grpc.RpcError as exc:
                out["errors"].append(0.0)
                print(f"  probe: {exc.code().name} {exc.details()}", file=sys.stderr)
        channel.close()

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def unary_clients(
    target: str,
    token: str,
    projects: list[str],
    last_mission: Any,
    clients: int,
    stop: Any,
    out: Any,
) -> None:
    """In its own process: ``clients`` threads calling GetMission, ListFiles and ListLocks in
    turn until ``stop``; puts ({method: latencies}, errors) on ``out``."""
    md = [("authorization", f"Bearer {token}")]
    by_method: dict[str, list[float]] = {"GetMission": [], "ListFiles": [], "ListLocks": []}
    errors: list[str] = []

    def client() -> None:
        stub = api_grpc.SwarmStub(grpc.insecure_channel(target))
        k = 0
        while not stop.is_set():
            p = projects[k % len(projects)]
            ref = api.ProjectRef(project=p)
            mission = last_mission.get(p) if k % 3 == 0 else None  # an IPC read, not timed
            t0 = time.perf_counter()
            try:
                if mission is not None:
                    name = "GetMission"
                    req = api.GetMissionRequest(project=ref, mission_id=mission)
                    stub.GetMission(req, metadata=md, timeout=30)
                elif k % 3 == 1:
                    name = "ListFiles"
                    stub.ListFiles(api.ListFilesRequest(project=ref), metadata=md, timeout=30)
                else:
                    name = "ListLocks"
                    stub.ListLocks(api.ListLocksRequest(project=ref), metadata=md, timeout=30)
            except grpc.RpcError as exc:
                errors.append(f"unary: {exc.code().name} {exc.details()}")
                k += 1
                continue
            by_method[name].append(time.perf_counter() - t0)
            k += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((by_method, errors))


def server_p99(metrics_port: int, methods: tuple[str, ...]) -> dict[str, float]:
    """Each method's p99 as the daemon measured it: the upper bound of the histogram bucket
    that holds its 99th percentile (seconds)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30).read()
    buckets: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    for line in text.decode().splitlines():
        if not line.startswith("swarm_grpc_latency_seconds_bucket{"):
            continue
        labels, _, count = line.rpartition(" ")
        method = labels.split('method="', 1)[1].split('"', 1)[0]
        le = labels.split('le="', 1)[1].split('"', 1)[0]
        if method in buckets:
            buckets[method].append((float(le), float(count)))
    out = {}
    for method, rows in buckets.items():
        rows.sort()
        if rows and rows[-1][1] > 0:
            total = rows[-1][1]
            out[method] = next(le for le, n in rows if n >= 0.99 * total)
    return out


class IdleStreams:
    """Hold idle streams open on a private event loop until ``close``."""

    def __init__(self, target: str, md: list[tuple[str, str]], project: str) -> None:
        self._target, self._md, self._project = target, md, project
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._calls: list[Any] = []
        self._channels: list[Any] = []

    def open(self, reflection: int, watches: int, tails: int) -> int:
        """Open the streams; returns once every server stream has answered (so all are held)."""
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(
            self._open(reflection, watches, tails), self._loop
        ).result()

    async def _open(self, reflection: int, watches: int, tails: int) -> int:
        opts = [("grpc.use_local_subchannel_pool", 1)]
        self._channels = [grpc.aio.insecure_channel(self._target, options=opts) for _ in range(4)]
        ch = self._channels
        for i in range(reflection):  # no token, no request
            self._calls.append(
                reflection_pb2_grpc.ServerReflectionStub(ch[i % 4]).ServerReflectionInfo()
            )
        answering = []
        for i in range(watches):  # no token
            req = health_pb2.HealthCheckRequest(service="")
            answering.append(health_pb2_grpc.HealthStub(ch[i % 4]).Watch(req))
        for i in range(tails):
            req = api.StreamEventsRequest(
                project=api.ProjectRef(project=self._project), follow=True
            )
            answering.append(api_grpc.SwarmStub(ch[i % 4]).StreamEvents(req, metadata=self._md))
        self._calls += answering
        await asyncio.gather(*(c.read() for c in answering))
        return len(self._calls)

    def close(self) -> None:
        async def _close() -> None:
            for c in self._calls:
                c.cancel()
            for channel in self._channels:
                await channel.close()

        asyncio.run_coroutine_threadsafe(_close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--missions", type=int, default=5)
    parser.add_argument("--unary-clients", type=int, default=4)
    parser.add_argument("--with-tests", action="store_true")
    parser.add_argument("--idle-streams", type=int, default=1000, help="held in the probe phase")
    parser.add_argument("--probe-seconds", type=float, default=10.0)
    parser.add_argument(
        "--unbatched",
        action="store_true",
        help="the live streams and followers ask for one event per message (the old form)",
    )
    args = parser.parse_args()
    batch = 0 if args.unbatched else STREAM_BATCH

    work = Path(tempfile.mkdtemp(prefix="swarm-grpc-load-"))
    url = f"sqlite://{work / 'ledger.sqlite'}"
    workspaces = work / "workspaces"
    projects = [f"m{i}" for i in range(args.missions)]
    with ledger.open_ledger(url) as led:
        token, _ = TokenStore(led).create(TENANT, Role.IDE, "bench")
        for p in projects:
            led.create_project(TENANT, p)
            shutil.copytree(
                ROOT / "examples" / "sample_repo",
                workspaces / p,
                ignore=shutil.ignore_patterns("__pycache__", ".swarm"),
            )
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "swarm",
            "serve",
            "--ledger",
            url,
            "--listen",
            "127.0.0.1:0",
            "--workspaces",
            str(workspaces),
            "--json",
            "--log-level",
            "warning",
            "--metrics",
            "127.0.0.1:0",
            "--max-streams-per-tenant",
            str(args.idle_streams + args.streams + args.missions + 16),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=(work / "serve.log").open("w"),
        text=True,
    )
    assert daemon.stdout is not None
    ready = json.loads(daemon.stdout.readline())
    port, metrics_port = ready["port"], ready["metrics_port"]
    target = f"127.0.0.1:{port}"
    md = [("authorization", f"Bearer {token}")]
    stop = threading.Event()
    errors: list[str] = []
    streamed = [0] * args.streams
    missions_done = [0] * args.missions
    manager = multiprocessing.get_context("spawn").Manager()
    last_mission: Any = manager.dict()  # project -> its driver's latest mission (for GetMission)
    # Probe: health and unary latency without, then with, the idle streams.
    quiet = probe(target, md, projects[0], args.probe_seconds)
    idle = IdleStreams(target, md, projects[0])
    n_refl, n_watch = args.idle_streams * 2 // 5, args.idle_streams // 5
    held = idle.open(n_refl, n_watch, args.idle_streams - n_refl - n_watch)
    crowded = probe(target, md, projects[0], args.probe_seconds)
    idle.close()
    print(
        f"swarm serve on {target}; {args.streams} streams, {args.missions} missions, {args.seconds:.0f} s",
        file=sys.stderr,
    )

    def driver(i: int) -> None:
        stub = api_grpc.SwarmStub(grpc.insecure_channel(target))
        p = projects[i]
        ref = api.ProjectRef(project=p)
        n = 0
        while not stop.is_set():
            old, new = NAMES[n % 2], NAMES[(n + 1) % 2]
            try:
                m = stub.SubmitMission(
                    api.SubmitMissionRequest(
                        project=ref,
                        kind="rename",
                        params={"old": old, "new": new},
                        workspace=p,
                        skip_tests=not args.with_tests,
                        coders=2,
                    ),
                    metadata=md,
                    timeout=60,
                )
                last_mission[p] = m.mission_id
                for _ in stub.FollowMission(
                    api.FollowMissionRequest(project=ref, mission_id=m.mission_id, batch=batch),
                    metadata=md,
                    timeout=300,
                ):
                    pass
                got = stub.GetMission(
                    api.GetMissionRequest(project=ref, mission_id=m.mission_id),
                    metadata=md,
                    timeout=30,
                )
                if got.state != "succeeded":
                    errors.append(f"mission {m.mission_id} {got.state}: {got.reason}")
                    return
                missions_done[i] += 1
                n += 1
            except grpc.RpcError as exc:
                errors.append(f"driver {p}: {exc.code().name} {exc.details()}")
                return

    def streamer(i: int) -> None:
        stub = api_grpc.SwarmStub(grpc.insecure_channel(target))
        call = stub.StreamEvents(
            api.StreamEventsRequest(
                project=api.ProjectRef(project=projects[i % len(projects)]),
                follow=True,
                batch=batch,
            ),
            metadata=md,
            timeout=args.seconds + 120,
        )
        stop_cb = threading.Thread(target=lambda: (stop.wait(), call.cancel()), daemon=True)
        stop_cb.start()
        try:
            for message in call:
                streamed[i] += len(message.batch) or 1
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                errors.append(f"stream {i}: {exc.code().name} {exc.details()}")

    threads = [threading.Thread(target=streamer, args=(i,)) for i in range(args.streams)]
    threads += [threading.Thread(target=driver, args=(i,)) for i in range(args.missions)]
    # The unary clients run in a process of their own, so what they time is the daemon,
    # not this process's GIL shared with 50 stream readers and the drivers.
    mp = multiprocessing.get_context("spawn")
    results = mp.Queue()
    unary_stop = mp.Event()
    prober = mp.Process(
        target=unary_clients,
        args=(target, token, projects, last_mission, args.unary_clients, unary_stop, results),
    )
    prober.start()
    began = time.perf_counter()
    for t in threads:
        t.start()
    while time.perf_counter() - began < args.seconds:
        time.sleep(min(5.0, args.seconds))
        print(
            f"  {time.perf_counter() - began:5.1f} s  missions {sum(missions_done)}  streamed {sum(streamed)}  errors {len(errors)}",
            file=sys.stderr,
        )
    unary_stop.set()
    by_method, unary_errors = results.get(timeout=300)
    prober.join(60)
    latencies = [x for got in by_method.values() for x in got]
    errors.extend(unary_errors)
    stop.set()
    for t in threads:
        t.join(300)
    elapsed = time.perf_counter() - began
    served = server_p99(metrics_port, ("GetMission", "ListFiles", "ListLocks"))
    rss = peak_rss_mb(daemon.pid)

    # Baseline, same run: every project's whole log read in-process, then over one gRPC stream.
    with ledger.open_ledger(url) as led:
        t0 = time.perf_counter()
        local = sum(sum(1 for _ in led.iter_events(TENANT, p)) for p in projects)
        local_s = time.perf_counter() - t0
    stub = api_grpc.SwarmStub(grpc.insecure_channel(target))

    def over_grpc(per_message: int) -> tuple[int, float]:
        """Every project's log over one stream each: (events, seconds)."""
        t0 = time.perf_counter()
        n = 0
        for p in projects:
            req = api.StreamEventsRequest(project=api.ProjectRef(project=p), batch=per_message)
            for message in stub.StreamEvents(req, metadata=md, timeout=300):
                n += len(message.batch) or 1
        return n, time.perf_counter() - t0

    remote, remote_s = over_grpc(STREAM_BATCH)
    single, single_s = over_grpc(0)
    daemon.terminate()
    daemon.wait(60)

    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
    print(
        f"grpc_load: idle streams, {args.probe_seconds:.0f} s probes (2 clients, health + ListLocks)"
    )
    print(f"  {'':34}{'health p50':>11}{'p99':>9}{'unary p50':>11}{'p99':>9}  errors")
    for label, got in (
        ("no idle streams", quiet),
        (f"{held} idle streams ({n_refl + n_watch} no token)", crowded),
    ):
        print(
            f"  {label:<34}{pct(got['health'], 0.5):>9.2f}ms{pct(got['health'], 0.99):>7.2f}ms"
            f"{pct(got['unary'], 0.5):>9.2f}ms{pct(got['unary'], 0.99):>7.2f}ms  {len(got['errors'])}"
        )
    ratio = pct(crowded["unary"], 0.99) / pct(quiet["unary"], 0.99)
    print(f"  ratio unary p99 with / without idle streams: {ratio:.2f}x")
    print(
        f"grpc_load: {args.streams} streams, {args.missions} mission drivers, {elapsed:.1f} s, tests in sandbox: {args.with_tests}, "
        f"events per message: {'1' if args.unbatched else f'up to {batch}'}"
    )
    print(
        f"  missions completed        {sum(missions_done)}  ({sum(missions_done) / elapsed:.2f}/s)"
    )
    print(
        f"  events streamed (total)   {sum(streamed)}  ({sum(streamed) / elapsed:.0f} events/s across {args.streams} live streams)"
    )
    print(
        f"  unary calls               {len(lat)}  ({len(lat) / elapsed:.0f}/s)  p50 {p50:.2f} ms  p99 {p99:.2f} ms   (target p99 <= 50 ms)"
    )
    for name, got in sorted(by_method.items()):
        print(
            f"    {name:<12} {len(got):>6} calls  p50 {pct(got, 0.5):7.2f} ms  p99 {pct(got, 0.99):7.2f} ms"
            f"   daemon-side p99 <= {served.get(name, float('nan')) * 1000:.0f} ms (histogram bucket)"
        )
    print(f"  errors                    {len(errors)}")
    for e in errors[:5]:
        print(f"    {e}")
    print(f"  daemon peak RSS           {rss:.1f} MB")
    print(
        f"  baseline: full logs ({local} events) in-process {local / local_s:.0f} events/s, over one gRPC stream {remote / remote_s:.0f} events/s"
    )
    print(f"  same logs, one event per message (the old form): {single / single_s:.0f} events/s")
    print(
        f"  ratio gRPC stream (batch {STREAM_BATCH}) / in-process read: "
        f"{(remote / remote_s) / (local / local_s):.2f}x   (target >= 0.5x)"
    )
    print(
        f"  ratio one event per message / in-process read: {(single / single_s) / (local / local_s):.2f}x"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 1 if errors or quiet["errors"] or crowded["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
