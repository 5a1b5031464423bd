"""SubmitMission on a big workspace, and another tenant's calls while it imports.

Issue 11 measured a 20,011-file workspace holding SubmitMission for 57 s and
another tenant's GetMission for 55 s. This starts a real ``swarm serve`` on a
fresh sqlite ledger, makes a workspace of ``--files`` small Python files for
tenant ``big``, and prints:

* how long SubmitMission took to return, beside the time until the import
  landed (the mission's ``MISSION_STARTED``), and their ratio;
* tenant ``other``'s GetMission p50/p99 while the import runs, beside the same
  call on the idle daemon measured in the same run, and their ratio.

    python bench/workspace_submit.py                 # 20,011 files, as the issue
    python bench/workspace_submit.py --files 5000    # a quicker look
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ledger  # noqa: E402
from proto.swarm.v1 import service_pb2 as api  # noqa: E402
from proto.swarm.v1 import service_pb2_grpc as api_grpc  # noqa: E402
from swarm.daemon import Role, TokenStore  # noqa: E402


def _pcts(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def _make_repo(dest: Path, files: int) -> None:
    for i in range(files):
        folder = dest / f"pkg{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i:05d}.py").write_text(f"def f{i}(x):\n    return x + {i}\n")
    (dest / "pkg000" / "calc.py").write_text("def calculate_total(x):\n    return x\n")


def _get_loop(
    stub: object, md: list[tuple[str, str]], mid: str, until: threading.Event
) -> list[float]:
    ref = api.ProjectRef(project="small")
    out: list[float] = []
    while not until.is_set():
        t0 = time.perf_counter()
        stub.GetMission(  # type: ignore[attr-defined]
            api.GetMissionRequest(project=ref, mission_id=mid), metadata=md, timeout=120
        )
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20_011)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="swarm-ws-submit-"))
    url = f"sqlite://{work / 'ledger.sqlite'}"
    root = work / "workspaces"
    _make_repo(root / "huge", args.files)
    shutil.copytree(
        ROOT / "examples" / "sample_repo",
        root / "small",
        ignore=shutil.ignore_patterns("__pycache__", ".swarm"),
    )
    with ledger.open_ledger(url) as led:
        big, _ = TokenStore(led).create("big", Role.IDE, "bench")
        other, _ = TokenStore(led).create("other", Role.IDE, "bench")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "swarm", "serve", "--ledger", url, "--listen", "127.0.0.1:0",
         "--workspaces", str(root), "--json", "--log-level", "warning",
         "--max-workspace-files", str(args.files + 10)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=(work / "serve.log").open("w"), text=True,
    )  # fmt: skip
    try:
        assert daemon.stdout is not None
        port = json.loads(daemon.stdout.readline())["port"]
        stub = api_grpc.SwarmStub(grpc.insecure_channel(f"127.0.0.1:{port}"))  # type: ignore[no-untyped-call]
        md_big = [("authorization", f"Bearer {big}")]
        md_other = [("authorization", f"Bearer {other}")]
        small = stub.SubmitMission(
            api.SubmitMissionRequest(project=api.ProjectRef(project="small"), kind="rename",
                                     params={"old": "calculate_total", "new": "compute_order_total"},
                                     workspace="small", skip_tests=True, coders=1),
            metadata=md_other, timeout=120,
        )  # fmt: skip
        for _ in stub.FollowMission(
            api.FollowMissionRequest(project=api.ProjectRef(project="small"), mission_id=small.mission_id),
            metadata=md_other, timeout=300,
        ):  # fmt: skip
            pass
        idle_stop = threading.Event()
        timer = threading.Timer(3.0, idle_stop.set)
        timer.start()
        idle = _get_loop(stub, md_other, small.mission_id, idle_stop)

        busy_stop = threading.Event()
        busy: list[float] = []
        poller = threading.Thread(
            target=lambda: busy.extend(_get_loop(stub, md_other, small.mission_id, busy_stop))
        )
        poller.start()
        ref = api.ProjectRef(project="huge")
        t0 = time.perf_counter()
        m = stub.SubmitMission(
            api.SubmitMissionRequest(project=ref, kind="rename", workspace="huge", skip_tests=True,
                                     params={"old": "calculate_total", "new": "compute_order_total"},
                                     coders=1),
            metadata=md_big, timeout=600,
        )  # fmt: skip
        submit_s = time.perf_counter() - t0
        for rec in stub.FollowMission(
            api.FollowMissionRequest(project=ref, mission_id=m.mission_id),
            metadata=md_big,
            timeout=900,
        ):
            if rec.event.event_id == f"{m.mission_id}.started":
                break
        imported_s = time.perf_counter() - t0
        busy_stop.set()
        poller.join()
    finally:
        daemon.terminate()
        daemon.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    i50, i99 = _pcts(idle)
    b50, b99 = _pcts(busy)
    print(f"workspace of {args.files} files (tenant big), GetMission by tenant other")
    print(f"SubmitMission returned in {submit_s * 1000:.1f} ms; import landed after {imported_s:.2f} s "
          f"(submit/import = {submit_s / imported_s:.4f})")  # fmt: skip
    print(f"GetMission idle daemon:   p50 {i50:.2f} ms  p99 {i99:.2f} ms  ({len(idle)} calls)")
    print(f"GetMission during import: p50 {b50:.2f} ms  p99 {b99:.2f} ms  ({len(busy)} calls)")
    print(f"ratio during/idle: p50 {b50 / i50:.2f}x  p99 {b99 / i99:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
