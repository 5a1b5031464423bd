"""The agent bench's task set: small repositories whose failing tests state the goal.

Each folder of ``bench/agent_tasks/`` is one task::

    <name>/repo/            a few files: the code and its tests (tests/test_*.py)
    <name>/task.json        {"goal": one line, "kind": "bug"|"feature", "tests": [pytest ids]}
    <name>/solution.patch   a reference fix (unified diff, a/ b/ paths inside repo/)

``tests`` are the tests that fail on ``repo/`` as shipped and pass once the goal
is met; every other test of the task passes both before and after. CI checks
both against the reference fix (tests/bench/test_agent_tasks.py), so each task
is known to be solvable and known to be unsolved.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TASKS_DIR = Path(__file__).resolve().parent / "agent_tasks"


@dataclass(frozen=True)
class AgentTask:
    """One task: its folder, goal, kind and the test ids that state the goal."""

    name: str
    folder: Path
    goal: str
    kind: str
    tests: tuple[str, ...]

    @property
    def repo(self) -> Path:
        return self.folder / "repo"

    @property
    def solution(self) -> Path:
        return self.folder / "solution.patch"

    def copy_to(self, dest: Path) -> Path:
        """A fresh copy of the task's repository at ``dest`` (which must not exist)."""
        shutil.copytree(self.repo, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
        return dest


def load_tasks(root: Path = TASKS_DIR, names: list[str] | None = None) -> list[AgentTask]:
    """Every task under ``root`` (or those ``names``), sorted by name; a malformed
    task.json is an error naming the task."""
    tasks = []
    for folder in sorted(p for p in root.iterdir() if (p / "task.json").is_file()):
        if names and folder.name not in names:
            continue
        data = json.loads((folder / "task.json").read_text())
        goal, kind, tests = data.get("goal"), data.get("kind"), data.get("tests")
        if not (isinstance(goal, str) and goal and kind in ("bug", "feature") and tests):
            raise ValueError(f"task {folder.name}: task.json needs goal, kind and tests")
        tasks.append(AgentTask(folder.name, folder, goal, kind, tuple(tests)))
    missing = set(names or ()) - {t.name for t in tasks}
    if missing:
        raise ValueError(f"no such task(s): {', '.join(sorted(missing))}")
    return tasks


def apply_patch(patch: Path, repo: Path) -> None:
    """Apply a unified diff inside ``repo`` with git (no repository needed)."""
    subprocess.run(
        ["git", "apply", "--whitespace=nowarn", str(patch.resolve())],
        cwd=repo,
        check=True,
        capture_output=True,
    )


# Runs every test_* function of tests/test_*.py (the tasks' tests take no fixtures), in
# an isolated interpreter whose only path entry of ours is the task's repository: pytest
# starts in seconds on a loaded machine, this in a tenth of one.
_RUNNER = """
import importlib, pathlib, sys, traceback
repo = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(repo))
for path in sorted((repo / "tests").glob("test_*.py")):
    name = "tests." + path.stem
    try:
        module = importlib.import_module(name)
    except Exception:
        print("ERROR", path.relative_to(repo).as_posix())
        continue
    for attr, fn in sorted(vars(module).items()):
        if attr.startswith("test") and callable(fn):
            try:
                fn()
            except Exception:
                print("FAILED", path.relative_to(repo).as_posix() + "::" + attr)
            else:
                print("PASSED", path.relative_to(repo).as_posix() + "::" + attr)
"""


def failing_tests(repo: Path, timeout_s: float = 120.0) -> tuple[int, set[str]]:
    """Run the repository's test functions; (tests run, ids that failed or errored)."""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", _RUNNER, str(repo)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=True,
    )
    lines = [ln.split(" ", 1) for ln in proc.stdout.splitlines() if " " in ln]
    return len(lines), {what for mark, what in lines if mark != "PASSED"}
