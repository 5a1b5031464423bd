"""Sandbox speed, against ``python3 -c pass`` as a subprocess on the same machine.

One run prints: cold compile time (into a fresh cache dir), cached load time,
the warm cost of a trivial script over 50 runs (median, p95) beside the
subprocess peer with the ratio, and four runs in parallel threads against one.
Runs are unmetered (the default: the deadline is the CPU limit); one more line
gives the same script with a fuel budget, on the fuel-metered build, whose
compile is not counted above. Suite-sized figures are in bench/critic.py.

    python bench/sandbox.py [--runs 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name
# would shadow the package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from sandbox import Limits, Sandbox  # noqa: E402


def _timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, round(0.95 * len(samples)) - 1)]


def _parallel(box: Sandbox, n: int) -> tuple[float, float]:
    """Wall seconds for ``n`` runs in ``n`` threads, and the CPU seconds each run used."""
    cpu: list[float] = []

    def one() -> None:
        start = time.thread_time()
        box.run("pass")
        cpu.append(time.thread_time() - start)

    threads = [threading.Thread(target=one) for _ in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, statistics.mean(cpu)


def _cpu_pressure() -> float | None:
    """The share of the last 10 s in which some task here waited for a CPU (Linux PSI)."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return float(line.split("avg10=")[1].split()[0]) / 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as cache:
        start = time.perf_counter()
        cold = Sandbox(cache_dir=cache)
        cold_s = time.perf_counter() - start
        assert not cold.load_info.from_cache
        start = time.perf_counter()
        box = Sandbox(cache_dir=cache)
        cached_s = time.perf_counter() - start
        assert box.load_info.from_cache

        assert box.run("pass").ok  # warm-up
        sandbox_runs = _timed(lambda: box.run("pass"), args.runs)
        fuel = Limits(fuel=10**10)
        assert box.run("pass", limits=fuel).ok  # compiles the metered flavour, then warm-up
        metered_runs = _timed(lambda: box.run("pass", limits=fuel), args.runs)
        peer_runs = _timed(
            lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.runs
        )
        pressure = _cpu_pressure()
        ones = [_parallel(box, 1) for _ in range(5)]
        fours = [_parallel(box, 4) for _ in range(5)]
        one, one_cpu = statistics.median(w for w, _ in ones), statistics.median(c for _, c in ones)
        four, four_cpu = (
            statistics.median(w for w, _ in fours),
            statistics.median(c for _, c in fours),
        )

    sb_med, pe_med = statistics.median(sandbox_runs), statistics.median(peer_runs)
    print(f"cold compile (hash check + compile + cache write): {cold_s * 1000:8.0f} ms")
    print(f"cached load  (hash checks + mmap deserialize):     {cached_s * 1000:8.0f} ms")
    print(f"trivial script, {args.runs} warm runs:")
    print(
        f"  sandbox.run('pass')        median {sb_med * 1000:6.1f} ms   p95 {_p95(sandbox_runs) * 1000:6.1f} ms"
    )
    print(
        f"  python3 -c pass (subproc)  median {pe_med * 1000:6.1f} ms   p95 {_p95(peer_runs) * 1000:6.1f} ms"
    )
    print(f"  ratio sandbox/subprocess   {sb_med / pe_med:.2f}x   (target <= 3x)")
    me_med = statistics.median(metered_runs)
    print(
        f"  with fuel (metered build)  median {me_med * 1000:6.1f} ms   "
        f"p95 {_p95(metered_runs) * 1000:6.1f} ms   {me_med / pe_med:.2f}x"
    )
    cores = os.cpu_count() or 1
    print(
        f"parallel: 1 run {one * 1000:.1f} ms, 4 runs in 4 threads {four * 1000:.1f} ms "
        f"= {four / one:.2f}x one   (target well under 4x; {4 / min(4, cores):.1f}x at best on {cores} free cores)"
    )
    print(
        f"  CPU per run: {one_cpu * 1000:.1f} ms alone, {four_cpu * 1000:.1f} ms with 4 in parallel "
        f"({four_cpu / one_cpu:.2f}x: runs do not slow each other down; a run holds the GIL only "
        "in its few host calls)"
    )
    print(
        f"  cores the 4 runs got: {4 * four_cpu / four:.2f} on average "
        f"(their CPU seconds over the wall time; {min(4, cores)} if the machine were free)"
    )
    if pressure is not None:
        print(
            f"  CPU pressure (PSI some avg10) {pressure:.0%}"
            + (
                ": the machine was busy, so the wall-clock ratio measures the scheduler"
                if pressure > 0.2
                else ""
            )
        )


if __name__ == "__main__":
    main()
