"""Rename with the swarm and with rope on the same trees: what each changed, missed, got wrong.

Trees: ``examples/multi_package`` (re-exports through ``__init__``, an alias
import, a method and a same-named function, ``.pyi`` stubs, ``mock.patch``
strings, an entry point) and a generated 1,000-file tree (bench/_genrepo.py).

Each rename runs on its own fresh copy for each tool, in its own process, so
both pay interpreter start-up and their own analysis:

* swarm: ``python -m swarm mission rename --repo COPY --no-tests OLD NEW`` —
  the real mission path (ledger import, scout, coder tickets, locks, critic's
  syntax check), without the sandbox test runs;
* rope 1.15 (``Rename(...).get_changes(new)`` with rope's defaults, then
  ``project.do``), invoked at the symbol's definition.

The swarm row also shows "brain s": the scout and rules brain alone, in this
process (cold index of the whole tree, symbol resolution, every file's edit,
nothing written), i.e. the rename's own work inside the mission's time. It runs
in this process, so unlike the other two figures it pays no interpreter start-up.

Occurrences are counted by comparing each tree before and after, identifier by
identifier (tests/swarm/brain/rope_ref.py). The reference set of right edits
is rope's, plus the uses rope does not rename by design and that are uses of
the symbol: on the sample, the hand-checked list in
tests/swarm/brain/test_multi_package.py (stubs, ``__all__`` strings, dotted
strings, an entry point, ``getattr``), which that test also proves right by
running the sample's suite after the rename; on the generated tree, the
``__all__`` entry of ``shop/__init__.py``. "wrong" counts edits outside the
reference set, and any change that is not ``old`` -> ``new``.

    python bench/rename_vs_rope.py [--files 1000] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Appended, not prepended: bench/replay.py must not shadow the ``replay`` package.
sys.path.append(str(Path(__file__).resolve().parent))

from _genrepo import generate_repo

from swarm.scout import RepoIndex
from tests.swarm.brain.rope_ref import renamed_sites, snapshot
from tests.swarm.brain.test_multi_package import CASES

ROOT = Path(__file__).resolve().parents[1]
Site = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class Row:
    tree: str
    target: str
    tool: str
    changed: int
    missed: int
    wrong: int
    seconds: float
    brain_seconds: float = 0.0  # swarm only: index + resolve + every file's edit, in-process


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SWARM_LEDGER", None)
    # As on a user's machine: bytecode is cached, so neither tool recompiles itself per run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _warm_up() -> None:
    """Compile both tools' modules once (bytecode cache), outside the timings."""
    subprocess.run(
        [sys.executable, "-m", "swarm", "mission", "--help"],
        env=_env(),
        capture_output=True,
        check=True,
        timeout=300,
    )
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", "import rope.refactor.rename"],
        env=_env(),
        check=True,
        timeout=300,
    )


def _swarm(root: Path, target: str, new: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "swarm",
            "mission",
            "rename",
            "--repo",
            str(root),
            "--no-tests",
            target,
            new,
            "--json",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"swarm rename {target} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return seconds


def _rope(root: Path, path: str, line: int, column: int, new: str) -> float:
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from tests.swarm.brain.rope_ref import rope_rename\n"
        "rope_rename(__import__('pathlib').Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]),"
        " int(sys.argv[4]), sys.argv[5])\n"
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, str(root), path, str(line), str(column), new],
        env=_env(),
        check=True,
        timeout=3600,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def _brain_only(source: Path, target: str, new: str) -> float:
    """The scout and rules brain alone on ``source`` (cold index, no cache, nothing written):
    how much of the mission's time is the rename itself."""
    from swarm.brain import EditRequest, RulesBrain

    started = time.perf_counter()
    index = RepoIndex(source)
    index.refresh()
    request = EditRequest("rename", {"old": target, "new": new})
    RulesBrain().propose(request, index, lambda p: (source / p).read_text("utf-8"))
    return time.perf_counter() - started


def _definition(root: Path, target: str) -> tuple[str, str, int, int]:
    """(name, path, line, column) of the symbol's definition in its ``.py`` file."""
    index = RepoIndex(root)
    index.refresh()
    symbols = index.symbols()
    symbol = symbols.resolve_target(target)
    for o in index.find(symbol.name, ["definition"]):
        qual = f"{o.owner}.{o.name}" if o.owner else o.name
        home = symbols.stem_of(o.path) == symbol.stem
        if home and o.path.endswith(".py") and qual == symbol.qualname and o.scope != "local":
            return symbol.name, o.path, o.line, o.column
    raise SystemExit(f"no definition of {target}")


def _score(sites: set[Site], truth: set[Site]) -> tuple[int, int, int]:
    wrong = {s for s in sites if s not in truth or s[2] < 0}
    return len(sites), len(truth - sites), len(wrong)


def run_case(
    tree: str, source: Path, target: str, new: str, extra: object, work: Path
) -> list[Row]:
    """Rename ``target`` on fresh copies of ``source`` with each tool; one row per tool."""
    ours, theirs = work / "swarm", work / "rope"
    for dest in (ours, theirs):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    before = snapshot(ours)
    name, path, line, column = _definition(ours, target)
    brain_s = _brain_only(theirs, target, new)
    swarm_s = _swarm(ours, target, new)
    rope_s = _rope(theirs, path, line, column, new)
    swarm_sites = renamed_sites(before, snapshot(ours), name, new)
    rope_sites = renamed_sites(before, snapshot(theirs), name, new)
    beyond = extra(before, name) if callable(extra) else set(extra)  # type: ignore[call-overload]
    truth = {s for s in rope_sites if s[2] >= 0} | beyond
    rows = []
    for tool, sites, seconds in (("swarm", swarm_sites, swarm_s), ("rope", rope_sites, rope_s)):
        changed, missed, wrong = _score(sites, truth)
        brain = brain_s if tool == "swarm" else 0.0
        rows.append(Row(tree, target, tool, changed, missed, wrong, seconds, brain))
    return rows


def _generated_all_entry(before: dict[str, str], name: str) -> set[Site]:
    """The ``__all__`` entry of the generated package's ``__init__`` (a use rope leaves)."""
    sites: set[Site] = set()
    for number, line in enumerate(before["shop/__init__.py"].split("\n"), 1):
        if line.startswith("__all__"):
            for m in re.finditer(rf"\b{name}\b", line):
                sites.add(("shop/__init__.py", number, m.start()))
    return sites


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[Row] = []
    _warm_up()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-rename-") as tmp:
        work = Path(tmp)
        sample = ROOT / "examples" / "multi_package"
        for target, new, beyond in CASES:
            print(f"multi_package: {target} -> {new}", file=sys.stderr)
            rows += run_case("multi_package", sample, target, new, beyond, work)
        generated = work / "generated"
        generate_repo(generated, args.files, args.seed)
        n = sum(1 for _ in generated.rglob("*.py"))
        for target, new, extra in (
            ("shop.core:calculate_total", "compute_total", _generated_all_entry),
            ("shop.mod_0005:value_5", "value_five", set()),
        ):
            print(f"generated ({n} files): {target} -> {new}", file=sys.stderr)
            rows += run_case(f"generated-{n}", generated, target, new, extra, work)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    print(
        f"{'tree':<15} {'target':<30} {'tool':<6} {'changed':>7} {'missed':>6} {'wrong':>5} {'seconds':>8} {'brain s':>8}"
    )
    for r in rows:
        print(
            f"{r.tree:<15} {r.target:<30} {r.tool:<6} {r.changed:>7} {r.missed:>6} {r.wrong:>5} "
            f"{r.seconds:>8.2f} {(f'{r.brain_seconds:.2f}' if r.tool == 'swarm' else ''):>8}"
        )
    for tree in dict.fromkeys(r.tree for r in rows):
        mine = [r for r in rows if r.tree == tree and r.tool == "swarm"]
        theirs = [r for r in rows if r.tree == tree and r.tool == "rope"]
        s, t = sum(r.seconds for r in mine), sum(r.seconds for r in theirs)
        b = sum(r.brain_seconds for r in mine)
        print(
            f"{tree}: swarm {s:.2f}s, rope {t:.2f}s, rope/swarm time {t / s:.2f}x; "
            f"rope/brain-alone {t / b:.2f}x "
            f"(>1: swarm faster); missed swarm {sum(r.missed for r in mine)} / rope "
            f"{sum(r.missed for r in theirs)}, wrong swarm {sum(r.wrong for r in mine)} / rope "
            f"{sum(r.wrong for r in theirs)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
