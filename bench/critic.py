"""The critic's test runs on real packages: a full suite in the sandbox beside host CPython,
and the share of a real mission's wall time that goes to test runs. One run.

Packages, downloaded by this script as sdists from PyPI
(``pip download --no-binary :all: --no-deps NAME==VER`` into ``--cache``), whose
unittest suites run under WASI CPython (no threads, subprocesses or sockets):

* more-itertools 10.5.0: 817 tests (``tests/``, unittest, plus the package's doctests);
* idna 3.10: 6,256 tests (``tests/``, unittest; one generated test per UTS #46 vector).

For each package it prints:

* the full suite on host CPython (``python -m unittest discover -s tests -t .``, a
  subprocess, bytecode writing off as in the sandbox) and in the sandbox
  (``Sandbox.run_tests`` with the default, unmetered limits; the same tests are
  counted), best of ``--rounds`` interleaved rounds, with the ratio (target <= 2x),
  and the CPU seconds of each beside it (steadier than wall time on a shared box);
  and, for comparison, one run with a fuel budget (the fuel-metered build the old
  default used);
* one mission with the critic's tests on: a rename of an internal function
  (``start_mission`` + ``run_mission`` on a fresh copy and a fresh sqlite ledger), its
  wall time, and how much of it the sandbox's test runs took. The test runs are timed
  around ``Sandbox.run`` for runs of the test driver (those given a report channel), so
  the figure holds whatever the critic decides to run.

Host and sandbox run in turn, never together; the machine's other load shows in both.
``--runtime optimised`` (the -O3 build of docs/adr/0010-sandbox-speed.md, made by
``python -m sandbox.build_runtime``), ``--runtime BUILD_FOLDER``, or
``--runtime python.wasm --mount /lib/python3.11=Lib ...`` adds a row per package
for that interpreter on the same sandbox and limits.

    python bench/critic.py [--rounds 3] [--cache DIR] [--runtime optimised] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Run as a script, this file's folder comes first on sys.path and bench/sandbox.py
# would shadow the package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import ledger  # noqa: E402
import sandbox  # noqa: E402
from swarm.brain import EditRequest  # noqa: E402
from swarm.missions import MissionOptions, run_mission, start_mission  # noqa: E402


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    rename: tuple[str, str]  # the mission: an internal function, renamed

    @property
    def folder(self) -> str:
        return f"{self.name}-{self.version}"


PACKAGES = (
    Package("more-itertools", "10.5.0", ("_sample_unweighted", "_sample_plain")),
    Package("idna", "3.10", ("_combining_class", "_combining_class_of")),
)
_RAN = re.compile(rb"^Ran (\d+) tests? in", re.MULTILINE)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fetch(pkg: Package, cache: Path) -> Path:
    """The sdist in ``cache``, downloaded from PyPI the first time."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"{pkg.folder}.tar.gz")) + sorted(
        cache.glob(f"{pkg.name.replace('-', '_')}-{pkg.version}.tar.gz")
    )
    if found:
        return found[0]
    log(f"downloading {pkg.name}=={pkg.version} (sdist) into {cache}")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet"),
            *("--no-binary", ":all:", "--no-deps", "-d", str(cache)),
            f"{pkg.name}=={pkg.version}",
        ],
        check=True,
    )
    return fetch(pkg, cache)


def unpack(sdist: Path, into: Path) -> Path:
    """A fresh copy of the sdist's tree under ``into``."""
    with tarfile.open(sdist) as tar:
        tar.extractall(into, filter="data")
    (root,) = [p for p in into.iterdir() if p.is_dir()]
    return root


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # CPU seconds of the process (host) or the thread running the guest (sandbox)
    tests: int


def host_suite(root: Path) -> Timing:
    """The suite on host CPython, as a subprocess."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)  # the package under test comes from its own folder
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."],
        cwd=root,
        env=env,
        capture_output=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ran = _RAN.search(done.stderr)
    if ran is None:
        raise SystemExit(f"host suite in {root} did not run:\n{done.stderr.decode()[-2000:]}")
    return Timing(seconds, cpu, int(ran.group(1)))


def sandbox_suite(box: sandbox.Sandbox, root: Path, fuel: int | None) -> Timing:
    """The suite in the sandbox (the guest runs on this thread, so its CPU is this thread's)."""
    cpu = time.thread_time()
    start = time.perf_counter()
    report = box.run_tests(root, limits=sandbox.Limits(timeout=900, fuel=fuel))
    seconds = time.perf_counter() - start
    cpu = time.thread_time() - cpu
    if not report.complete:
        raise SystemExit(f"sandbox suite in {root} incomplete: {report.run.detail}")
    return Timing(seconds, cpu, report.total)


@contextmanager
def timed_test_runs() -> Iterator[list[float]]:
    """Wall seconds of every test-driver run through ``Sandbox.run`` while inside."""
    runs: list[float] = []
    lock = threading.Lock()
    original: Callable[..., sandbox.RunResult] = sandbox.Sandbox.run

    def run(self: sandbox.Sandbox, *args: Any, **kwargs: Any) -> sandbox.RunResult:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            # The test driver's runs are the ones given a report channel (ADR 0009).
            if kwargs.get("report_channel") is not None:
                with lock:
                    runs.append(time.perf_counter() - start)

    sandbox.Sandbox.run = run  # type: ignore[method-assign]
    try:
        yield runs
    finally:
        sandbox.Sandbox.run = original  # type: ignore[method-assign]


def mission(pkg: Package, root: Path, db: Path) -> dict[str, Any]:
    old, new = pkg.rename
    with timed_test_runs() as runs, ledger.open_ledger(f"sqlite://{db}") as led:
        start = time.perf_counter()
        mid = start_mission(
            led,
            "bench",
            pkg.name,
            root,
            EditRequest("rename", {"old": old, "new": new}),
            options=MissionOptions(coders=2, run_tests=True, test_timeout_s=900),
        )
        report = run_mission(led, "bench", pkg.name, mid)
        seconds = time.perf_counter() - start
    return {
        "rename": f"{old} -> {new}",
        "outcome": report.outcome,
        "reason": report.reason,
        "files_changed": len(report.files_changed),
        "seconds": seconds,
        "test_runs": runs,
        "test_seconds": sum(runs),
        "test_share": sum(runs) / seconds,
    }


def alt_sandbox(setting: str, mounts: list[str]) -> sandbox.Sandbox:
    """A sandbox on another interpreter: a named one or build folder, or a bare ``.wasm``.

    A bare module's hash is taken as given (the operator's); a build is checked
    against its manifest.
    """
    wasm = Path(setting)
    if not wasm.is_file():
        cache = os.environ.get("SWARM_CACHE_DIR")
        runtime = sandbox.Runtime.from_setting(setting, Path(cache) if cache else None)
        return sandbox.Sandbox(runtime=runtime, on_compile=log)
    pairs = []
    for item in mounts:
        guest, sep, host = item.partition("=")
        if not sep or not guest.startswith("/"):
            raise SystemExit(f"--mount expects /GUEST=HOST, got {item!r}")
        pairs.append((guest, Path(host).resolve()))
    runtime = sandbox.Runtime(
        path=wasm,
        sha256=hashlib.sha256(wasm.read_bytes()).hexdigest(),
        name=wasm.stem,
        mounts=tuple(pairs),
    )
    return sandbox.Sandbox(runtime=runtime, on_compile=log)


def measure(
    pkg: Package, box: sandbox.Sandbox, alt: sandbox.Sandbox | None, cache: Path, rounds: int
) -> dict[str, Any]:
    sdist = fetch(pkg, cache)
    host: list[Timing] = []
    inbox: list[Timing] = []
    other: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="swarm-bench-critic-") as tmp:
        for i in range(rounds):
            log(f"{pkg.folder}: round {i + 1}/{rounds}")
            host.append(host_suite(unpack(sdist, Path(tmp) / f"h{i}")))
            inbox.append(sandbox_suite(box, unpack(sdist, Path(tmp) / f"s{i}"), None))
            if alt is not None:
                other.append(sandbox_suite(alt, unpack(sdist, Path(tmp) / f"a{i}"), None))
        log(f"{pkg.folder}: one fuel-metered run")
        metered = sandbox_suite(box, unpack(sdist, Path(tmp) / "fuel"), 10**13)
        log(f"{pkg.folder}: mission (rename {pkg.rename[0]}, tests on)")
        run = mission(pkg, unpack(sdist, Path(tmp) / "mission"), Path(tmp) / "ledger.sqlite")
    h_wall, s_wall = min(t.wall for t in host), min(t.wall for t in inbox)
    h_cpu, s_cpu = min(t.cpu for t in host), min(t.cpu for t in inbox)
    return {
        "package": f"{pkg.name}=={pkg.version}",
        "tests_host": host[0].tests,
        "tests_sandbox": inbox[0].tests,
        "host_s": h_wall,
        "sandbox_s": s_wall,
        "ratio": s_wall / h_wall,
        "host_cpu_s": h_cpu,
        "sandbox_cpu_s": s_cpu,
        "cpu_ratio": s_cpu / h_cpu,
        "metered_s": metered.wall,
        "metered_ratio": metered.wall / h_wall,
        "mission": run,
        "alt": None
        if not other
        else {
            "runtime": alt.runtime.name if alt else "",
            "tests": other[0].tests,
            "sandbox_s": min(t.wall for t in other),
            "ratio": min(t.wall for t in other) / h_wall,
            "sandbox_cpu_s": min(t.cpu for t in other),
            "cpu_ratio": min(t.cpu for t in other) / h_cpu,
        },
    }


def show(results: list[dict[str, Any]], compile_note: str) -> None:
    print(compile_note)
    labels = [r["package"] for r in results] + [
        r["package"].split("==")[0] + " on " + r["alt"]["runtime"] for r in results if r["alt"]
    ]
    w = max(24, *(len(label) for label in labels))
    print(
        f"{'package':{w}} {'tests host/sbx':>15} {'wall host':>9} {'sandbox':>8} {'ratio':>6}"
        f"   {'cpu host':>8} {'sandbox':>8} {'ratio':>6}   {'fuel-metered wall':>17} {'ratio':>6}"
    )
    for r in results:
        print(
            f"{r['package']:{w}} {r['tests_host']:>7}/{r['tests_sandbox']:<7} "
            f"{r['host_s']:8.2f}s {r['sandbox_s']:7.2f}s {r['ratio']:5.2f}x"
            f"   {r['host_cpu_s']:7.2f}s {r['sandbox_cpu_s']:7.2f}s {r['cpu_ratio']:5.2f}x"
            f"   {r['metered_s']:16.2f}s {r['metered_ratio']:5.2f}x"
        )
    for r in results:
        a = r["alt"]
        if a:
            print(
                f"{r['package'].split('==')[0] + ' on ' + a['runtime']:{w}} "
                f"{r['tests_host']:>7}/{a['tests']:<7} "
                f"{r['host_s']:8.2f}s {a['sandbox_s']:7.2f}s {a['ratio']:5.2f}x"
                f"   {r['host_cpu_s']:7.2f}s {a['sandbox_cpu_s']:7.2f}s {a['cpu_ratio']:5.2f}x"
            )
    print(
        "target: sandbox/host wall <= 2x (best of the rounds; CPU beside it, steadier on a "
        "shared machine; fuel-metered: one run)"
    )
    print("missions (tests on):")
    for r in results:
        m = r["mission"]
        runs = ", ".join(f"{s:.1f}s" for s in m["test_runs"]) or "none"
        print(
            f"  {r['package']:22} rename {m['rename']}: {m['outcome']}, "
            f"{m['files_changed']} files, {m['seconds']:.1f}s; test runs [{runs}] = "
            f"{m['test_seconds']:.1f}s = {m['test_share']:.0%} of the mission"
        )
        if m["outcome"] != "succeeded":
            print(f"    ({m['reason']})")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "swarm" / "bench-critic",
        help="where the sdists are kept between runs",
    )
    parser.add_argument(
        "--runtime",
        help="also run each suite on this WASI CPython: optimised, a build folder, "
        "or a .wasm with --mount (ADR 0010)",
    )
    parser.add_argument(
        "--mount",
        action="append",
        default=[],
        metavar="GUEST=HOST",
        help="a read-only folder that --runtime needs (its stdlib), repeatable",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    alt = alt_sandbox(args.runtime, args.mount) if args.runtime else None
    start = time.perf_counter()
    box = sandbox.default_sandbox()  # the one the critic uses (missions go through it too)
    box.run("pass", limits=sandbox.Limits(fuel=10**10))  # load the metered flavour up front
    info = box.load_info
    note = (
        f"sandbox: {'cached' if info.from_cache else 'compiled'} interpreter, "
        f"ready in {time.perf_counter() - start:.1f}s"
    )
    results = [measure(pkg, box, alt, args.cache, args.rounds) for pkg in PACKAGES]
    if args.json:
        print(json.dumps({"results": results}, indent=2))
    else:
        show(results, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
