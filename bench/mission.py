"""A rename mission across a generated repository: the swarm with 1 and 4 coders beside a bare
sequential script, plus "find usages" from the scout's warm index beside ``rg -w``. One run.

* swarm, 1 coder / 4 coders: ``start_mission`` + ``run_mission`` on a fresh sqlite ledger
  (import of every file, scout, one ticket per file under its lock, StateChange + blob per
  edit, workspace write, critic syntax check). The critic's sandbox test runs are off
  (``run_tests=False``) so the figure is the swarm's own overhead, not the sandbox's.
* bare script: the same tree-sitter index and the same rules codemod, file after file,
  written straight to disk: no ledger, no locks, no events.
* usages: ``RepoIndex.find`` on a warm index vs ``rg -w`` (text: comments and strings too).

Each contender gets its own fresh copy of the same generated repository; the results are
checked equal (same bytes) before any time is printed.

    python bench/mission.py [--files 1000] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# bench/ itself must not be on sys.path: bench/sandbox.py would shadow the sandbox package.
import ledger
from bench._genrepo import generate_repo
from swarm.brain import EditRequest, RulesBrain
from swarm.missions import MissionOptions, run_mission, start_mission, walk_repo
from swarm.scout import RepoIndex

REQUEST = EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"})


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in walk_repo(root):
        h.update(path.encode() + b"\0" + (root / path).read_bytes())
    return h.hexdigest()


def bare_script(root: Path) -> tuple[float, int]:
    started = time.perf_counter()
    index = RepoIndex(root)
    index.refresh()
    brain = RulesBrain()
    targets = brain.targets(REQUEST, index)
    for path in targets:
        full = root / path
        edit = brain.edit(REQUEST, path, full.read_text(), index)
        if edit.new_source is not None:
            full.write_text(edit.new_source)
    return time.perf_counter() - started, len(targets)


def swarm(root: Path, db: Path, coders: int) -> tuple[float, int, int]:
    started = time.perf_counter()
    with ledger.open_ledger(f"sqlite://{db}") as led:
        mid = start_mission(
            led,
            "bench",
            "repo",
            root,
            REQUEST,
            options=MissionOptions(coders=coders, run_tests=False),
        )
        report = run_mission(led, "bench", "repo", mid)
        if not report.ok:
            raise SystemExit(f"mission failed: {report.reason}")
        return time.perf_counter() - started, len(report.files_changed), report.events


def usages(root: Path, repeat: int) -> dict[str, float]:
    index = RepoIndex(root)
    index.refresh()
    index.find("calculate_total")  # warm
    t0 = time.perf_counter()
    for _ in range(repeat):
        hits = index.find("calculate_total")
    scout_s = (time.perf_counter() - t0) / repeat
    rg = shutil.which("rg")
    if rg is None:
        return {"scout_s": scout_s, "scout_hits": len(hits), "rg_s": float("nan"), "rg_hits": -1}
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = subprocess.run(
            [rg, "-w", "-n", "--no-heading", "calculate_total", str(root)],
            capture_output=True,
            check=False,
        ).stdout
    rg_s = (time.perf_counter() - t0) / repeat
    return {
        "scout_s": scout_s,
        "scout_hits": len(hits),
        "rg_s": rg_s,
        "rg_hits": len(out.splitlines()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=20, help="usage queries per contender")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-mission-") as tmp:
        base = Path(tmp) / "base"
        generate_repo(base, args.files, args.seed)
        copies = {}
        for name in ("bare", "swarm1", "swarm4"):
            copies[name] = Path(tmp) / name
            shutil.copytree(base, copies[name])
        print(
            f"generated {len(list(walk_repo(base)))} files; running the bare script",
            file=sys.stderr,
        )
        bare_s, bare_files = bare_script(copies["bare"])
        print("swarm, 1 coder", file=sys.stderr)
        s1, _, ev1 = swarm(copies["swarm1"], Path(tmp) / "l1.sqlite", 1)
        print("swarm, 4 coders", file=sys.stderr)
        s4, _, _ = swarm(copies["swarm4"], Path(tmp) / "l4.sqlite", 4)
        want = digest(copies["bare"])
        for name in ("swarm1", "swarm4"):
            if digest(copies[name]) != want:
                raise SystemExit(f"{name} produced different files from the bare script")
        print("usages: warm scout index vs rg -w", file=sys.stderr)
        u = usages(base, args.repeat)
    result = {
        "files": args.files,
        "files_changed": bare_files,
        "bare_script_s": round(bare_s, 3),
        "swarm_1_coder_s": round(s1, 3),
        "swarm_4_coders_s": round(s4, 3),
        "swarm_events_1": ev1,
        "overhead_1_coder_x": round(s1 / bare_s, 2),
        "overhead_4_coders_x": round(s4 / bare_s, 2),
        "gain_4_over_1_x": round(s1 / s4, 2),
        "usages_scout_ms": round(u["scout_s"] * 1000, 3),
        "usages_rg_ms": round(u["rg_s"] * 1000, 3),
        "usages_scout_hits": u["scout_hits"],
        "usages_rg_lines": u["rg_hits"],
        "usages_rg_over_scout_x": round(u["rg_s"] / u["scout_s"], 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"rename across {args.files} generated files ({bare_files} changed), same bytes from all three"
    )
    print(f"  bare script (tree-sitter, no ledger) {bare_s:8.2f} s")
    print(
        f"  swarm, 1 coder                       {s1:8.2f} s   {s1 / bare_s:5.2f}x the bare script ({ev1} events)"
    )
    print(
        f"  swarm, 4 coders                      {s4:8.2f} s   {s4 / bare_s:5.2f}x the bare script"
    )
    print(f"  gain from 4 coders over 1            {s1 / s4:8.2f}x")
    print(f"find usages of calculate_total, mean of {args.repeat}")
    print(
        f"  scout warm index {u['scout_s'] * 1000:8.3f} ms  ({u['scout_hits']} classified occurrences)"
    )
    print(
        f"  rg -w            {u['rg_s'] * 1000:8.3f} ms  ({u['rg_hits']} matching lines, comments and strings included)"
    )
    print(f"  rg / scout       {u['rg_s'] / u['scout_s']:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
