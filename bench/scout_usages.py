"""Find the usages of one symbol: the scout's warm index beside ``rg -w``, in one run.

Generates a 1,000-file repository (bench/_genrepo.py), builds the index once
(cold, then from the on-disk cache in a fresh index), and times repeated
queries for ``calculate_total`` against ripgrep's whole-word search of the
same tree. rg finds text (comments, strings included); the scout finds
classified identifiers, so the hit counts differ by design and both are printed.

    python bench/scout_usages.py [--files 1000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _genrepo import generate_repo

from swarm.scout import RepoIndex

SYMBOL = "calculate_total"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as tmp:
        root = Path(tmp) / "repo"
        cache = Path(tmp) / "cache"
        generate_repo(root, args.files, args.seed)
        print(
            f"generated {sum(1 for _ in root.rglob('*.py'))} Python files under {root}",
            file=sys.stderr,
        )

        t0 = time.perf_counter()
        cold = RepoIndex(root, cache_dir=cache)
        stats = cold.refresh()
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm_start = RepoIndex(root, cache_dir=cache)
        stats2 = warm_start.refresh()
        cache_s = time.perf_counter() - t0
        print(
            f"index cold: {cold_s:.3f} s ({stats.parsed} parsed); from disk cache in a new index: {cache_s:.3f} s ({stats2.parsed} parsed, {stats2.cached} cached)"
        )

        hits = []
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            hits = warm_start.find(SYMBOL)
        scout_s = (time.perf_counter() - t0) / args.repeat
        real = [o for o in hits if o.kind != "module"]
        print(
            f"scout find({SYMBOL!r}) warm: {scout_s * 1000:.3f} ms per query, {len(real)} occurrences in {len({o.path for o in real})} files"
        )

        rg = shutil.which("rg")
        if rg is None:
            print("ripgrep (rg) not found: skipping the rg comparison (apt-get install -y ripgrep)")
            return 0
        out = ""
        t0 = time.perf_counter()
        for _ in range(args.repeat):
            out = subprocess.run(
                [rg, "-w", "-n", "--no-heading", SYMBOL, str(root)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
        rg_s = (time.perf_counter() - t0) / args.repeat
        rg_lines = out.splitlines()
        print(
            f"rg -w {SYMBOL}: {rg_s * 1000:.3f} ms per query, {len(rg_lines)} matching lines in {len({ln.split(':', 1)[0] for ln in rg_lines})} files (comments and strings included)"
        )
        print(f"ratio rg / scout-warm query time: {rg_s / scout_s:.1f}x (scout faster when > 1)")
        print(f"ratio scout cold index build / one rg query: {cold_s / rg_s:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
