"""Rename with the swarm and with rope on the same trees: what each changed, missed, got wrong.

Trees: ``examples/multi_package`` (re-exports through ``__init__``, an alias
import, a method and a same-named function, ``.pyi`` stubs, ``mock.patch``
strings, an entry point) and a generated 1,000-file tree (bench/_genrepo.py).

Each rename runs on its own fresh copy for each tool, in its own process, so
both pay interpreter start-up and their own analysis:

* swarm: ``python -m swarm mission rename --repo COPY --no-tests OLD NEW`` —
  the real mission path (ledger import, scout, coder tickets, locks, critic's
  syntax check), without the sandbox test runs;
* rope 1.15 (``Rename(...).get_changes(new)``, then ``project.do``), invoked at
  the symbol's definition.

Two timings per rename, because the tools keep different state between runs:

* **first**: the tool has never seen the tree. The swarm pays one-off costs rope
  does not: it creates its ledger, imports every file of the workspace into it
  and fills its scout cache (``.swarm/``). rope runs with ``ropefolder=None``
  (nothing kept: its cheapest set-up).
* **again**: the same rename on the same copy after the tool did it once and the
  files were put back (new bytes, new mtimes), as when a user renames in a
  repository the tool already knows. The swarm reuses its ledger (re-importing
  only the changed files) and its scout cache; rope runs with its default
  ``.ropeproject`` folder, kept from its first run, so it may reuse what it saved.

Under load (this machine's two cores are shared) one run says little, so each
sample rename runs ``--rounds`` times, the tools interleaved, each round on new
copies; the table shows the median wall time and the median CPU time (user +
system of the tool's process, which load inflates less). The ratios are
rope/swarm: above 1, the swarm is faster. Each round must produce the same tree
as the first, or the bench stops (a rename must be deterministic).

The swarm row also shows "brain s": the scout and rules brain alone, in this
process (cold index of the whole tree, symbol resolution, every file's edit,
nothing written), i.e. the rename's own work inside the mission's time. It runs
in this process, so unlike the other figures it pays no interpreter start-up.

Occurrences are counted by comparing each tree before and after, identifier by
identifier (tests/swarm/brain/rope_ref.py). The reference set of right edits
is rope's, plus the uses rope does not rename by design and that are uses of
the symbol: on the sample, the hand-checked list in
tests/swarm/brain/test_multi_package.py (stubs, ``__all__`` strings, dotted
strings, an entry point, ``getattr``), which that test also proves right by
running the sample's suite after the rename; on the generated tree, the
``__all__`` entry of ``shop/__init__.py``. "wrong" counts edits outside the
reference set, and any change that is not ``old`` -> ``new``.

    python bench/rename_vs_rope.py [--files 1000] [--seed 7] [--rounds 5] [--big-rounds 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
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
class Timing:
    """One run of one tool: wall seconds, and CPU seconds (user + system) of its process."""

    wall: float
    cpu: float


@dataclass(frozen=True, slots=True)
class Row:
    tree: str
    target: str
    tool: str
    changed: int
    missed: int
    wrong: int
    seconds: float  # first run, median wall time over the rounds
    cpu: float  # first run, median CPU time
    again_seconds: float  # again (the tool's state kept from its first run), median wall time
    again_cpu: float
    rounds: int
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


def _timed(argv: list[str], what: str, timeout: float) -> Timing:
    """Run ``argv`` in its own process; its wall and CPU time. A failure stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        argv, env=_env(), capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def _swarm(root: Path, target: str, new: str) -> Timing:
    argv = [sys.executable, "-m", "swarm", "mission", "rename", "--repo", str(root)]
    argv += ["--no-tests", target, new, "--json"]
    return _timed(argv, f"swarm rename {target}", 1800)


# rope's own rename at the definition; "keep" opens the project with rope's default
# .ropeproject folder (what it saves there, it may reuse next time), else ropefolder=None.
_ROPE = """\
import sys, warnings
warnings.simplefilter("ignore")
from rope.base.project import Project
from rope.refactor.rename import Rename
root, path, line, column, new, keep = sys.argv[1:7]
project = Project(root) if keep == "keep" else Project(root, ropefolder=None)
try:
    resource = project.get_resource(path)
    lines = resource.read().split("\\n")
    offset = sum(len(ln) + 1 for ln in lines[: int(line) - 1]) + int(column)
    project.do(Rename(project, resource, offset).get_changes(new))
finally:
    project.close()
"""


def _rope(root: Path, site: tuple[str, int, int], new: str, *, keep: bool) -> Timing:
    path, line, column = site
    argv = [sys.executable, "-c", _ROPE, str(root), path, str(line), str(column), new]
    return _timed([*argv, "keep" if keep else "none"], f"rope rename at {site}", 3600)


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


def _fresh_copy(source: Path, dest: Path) -> None:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))


def _put_back(source: Path, dest: Path, before: dict[str, str]) -> None:
    """Restore ``dest``'s files to ``source``'s bytes (new mtimes), keeping each tool's state."""
    for path in before:
        shutil.copy(source / path, dest / path)
    if snapshot(dest) != before:
        raise SystemExit(f"could not put {dest} back as it was")


class _Case:
    """One rename, run by both tools over several rounds on fresh copies."""

    def __init__(self, source: Path, target: str, new: str, work: Path) -> None:
        self.source, self.target, self.new, self.work = source, target, new, work
        self.name, path, line, column = _definition(source, target)
        self.site = (path, line, column)
        scratch = work / "before"
        _fresh_copy(source, scratch)
        self.before = snapshot(scratch)
        self.after: dict[str, dict[str, str]] = {}
        self.timings: dict[tuple[str, str], list[Timing]] = {}

    def _run(self, tool: str, root: Path, *, again: bool) -> Timing:
        if tool == "swarm":
            return _swarm(root, self.target, self.new)
        return _rope(root, self.site, self.new, keep=again)

    def round(self, tool: str) -> None:
        """First run on a fresh copy; put the files back; the same rename again, timed.
        rope first runs once more with its .ropeproject, so "again" finds it there."""
        root = self.work / tool
        _fresh_copy(self.source, root)
        first = self._run(tool, root, again=False)
        self._same_tree(tool, snapshot(root), "first")
        if tool == "rope":
            _put_back(self.source, root, self.before)
            self._run(tool, root, again=True)
        _put_back(self.source, root, self.before)
        again = self._run(tool, root, again=True)
        self._same_tree(tool, snapshot(root), "again")
        self.timings.setdefault((tool, "first"), []).append(first)
        self.timings.setdefault((tool, "again"), []).append(again)

    def _same_tree(self, tool: str, after: dict[str, str], when: str) -> None:
        known = self.after.setdefault(tool, after)
        if after != known:
            raise SystemExit(f"{tool}: {self.target} gave a different tree on a later run ({when})")

    def rows(self, tree: str, extra: object, brain_s: float) -> list[Row]:
        beyond = extra(self.before, self.name) if callable(extra) else set(extra)  # type: ignore[call-overload]
        sites = {
            t: renamed_sites(self.before, a, self.name, self.new) for t, a in self.after.items()
        }
        truth = {s for s in sites["rope"] if s[2] >= 0} | beyond
        rows = []
        for tool in ("swarm", "rope"):
            changed, missed, wrong = _score(sites[tool], truth)
            first, again = self.timings[(tool, "first")], self.timings[(tool, "again")]
            rows.append(
                Row(
                    tree,
                    self.target,
                    tool,
                    changed,
                    missed,
                    wrong,
                    statistics.median(t.wall for t in first),
                    statistics.median(t.cpu for t in first),
                    statistics.median(t.wall for t in again),
                    statistics.median(t.cpu for t in again),
                    len(first),
                    brain_s if tool == "swarm" else 0.0,
                )
            )
        return rows


def run_case(
    tree: str, source: Path, target: str, new: str, extra: object, work: Path, rounds: int
) -> list[Row]:
    """Rename ``target`` with each tool, ``rounds`` times on fresh copies, the tools
    taking turns to go first; one row per tool."""
    case = _Case(source, target, new, work)
    brain_s = _brain_only(source, target, new)
    for k in range(rounds):
        for tool in ("swarm", "rope") if k % 2 == 0 else ("rope", "swarm"):
            case.round(tool)
    return case.rows(tree, extra, brain_s)


def _generated_all_entry(before: dict[str, str], name: str) -> set[Site]:
    """The ``__all__`` entry of the generated package's ``__init__`` (a use rope leaves)."""
    sites: set[Site] = set()
    for number, line in enumerate(before["shop/__init__.py"].split("\n"), 1):
        if line.startswith("__all__"):
            for m in re.finditer(rf"\b{name}\b", line):
                sites.add(("shop/__init__.py", number, m.start()))
    return sites


def _table(rows: list[Row]) -> None:
    print(
        f"{'tree':<15} {'target':<28} {'tool':<5} {'changed':>7} {'missed':>6} {'wrong':>5}"
        f" {'first s':>8} {'cpu s':>6} {'again s':>8} {'cpu s':>6} {'brain s':>7}"
    )
    for r in rows:
        brain = f"{r.brain_seconds:.2f}" if r.tool == "swarm" else ""
        print(
            f"{r.tree:<15} {r.target:<28} {r.tool:<5} {r.changed:>7} {r.missed:>6} {r.wrong:>5}"
            f" {r.seconds:>8.2f} {r.cpu:>6.2f} {r.again_seconds:>8.2f} {r.again_cpu:>6.2f}"
            f" {brain:>7}"
        )
    for tree in dict.fromkeys(r.tree for r in rows):
        mine = [r for r in rows if r.tree == tree and r.tool == "swarm"]
        theirs = [r for r in rows if r.tree == tree and r.tool == "rope"]

        def ratio(field: str, mine: list[Row] = mine, theirs: list[Row] = theirs) -> str:
            s = sum(getattr(r, field) for r in mine)
            t = sum(getattr(r, field) for r in theirs)
            return f"{t / s:.2f}x ({t:.2f}s / {s:.2f}s)"

        b = sum(r.brain_seconds for r in mine)
        t = sum(r.seconds for r in theirs)
        print(
            f"{tree} ({mine[0].rounds} rounds, medians; rope/swarm, >1: swarm faster): "
            f"first wall {ratio('seconds')}, cpu {ratio('cpu')}; again wall "
            f"{ratio('again_seconds')}, cpu {ratio('again_cpu')}; rope first/brain-alone "
            f"{t / b:.2f}x; missed swarm {sum(r.missed for r in mine)} / rope "
            f"{sum(r.missed for r in theirs)}, wrong swarm {sum(r.wrong for r in mine)} / rope "
            f"{sum(r.wrong for r in theirs)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000, help="generated tree's size (0: skip)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5, help="rounds per sample rename")
    parser.add_argument("--big-rounds", type=int, default=1, help="rounds per generated rename")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[Row] = []
    _warm_up()
    with tempfile.TemporaryDirectory(prefix="swarm-bench-rename-") as tmp:
        work = Path(tmp)
        sample = ROOT / "examples" / "multi_package"
        for target, new, beyond in CASES:
            print(f"multi_package: {target} -> {new}", file=sys.stderr)
            rows += run_case("multi_package", sample, target, new, beyond, work, args.rounds)
        if args.files > 0:
            generated = work / "generated"
            generate_repo(generated, args.files, args.seed)
            n = sum(1 for _ in generated.rglob("*.py"))
            for target, new, extra in (
                ("shop.core:calculate_total", "compute_total", _generated_all_entry),
                ("shop.mod_0005:value_5", "value_five", set()),
            ):
                print(f"generated ({n} files): {target} -> {new}", file=sys.stderr)
                rows += run_case(
                    f"generated-{n}", generated, target, new, extra, work, args.big_rounds
                )
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        _table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
