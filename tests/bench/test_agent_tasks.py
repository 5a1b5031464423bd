"""The agent bench's tasks are real: each one's tests fail as shipped and its reference
fix makes them (and every other test of the task) pass. No model is involved."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tasks_module() -> ModuleType:
    """bench/_agent_tasks.py (bench/ is not a package, so load it by path)."""
    spec = importlib.util.spec_from_file_location(
        "_agent_tasks", ROOT / "bench" / "_agent_tasks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_agent_tasks", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


TASKS = _tasks_module()
ALL = TASKS.load_tasks()


def test_there_are_at_least_twenty_tasks_of_both_kinds() -> None:
    assert len(ALL) >= 20
    kinds = {t.kind for t in ALL}
    assert kinds == {"bug", "feature"}
    assert len({t.goal for t in ALL}) == len(ALL)


@pytest.mark.parametrize("task", ALL, ids=[t.name for t in ALL])
def test_the_task_fails_as_shipped_and_its_reference_fix_passes(task: Any, tmp_path: Path) -> None:
    repo = task.copy_to(tmp_path / "repo")
    ran, failed = TASKS.failing_tests(repo)
    assert failed == set(task.tests)
    assert ran > len(failed)  # something else passes, and must keep passing
    TASKS.apply_patch(task.solution, repo)
    assert TASKS.failing_tests(repo) == (ran, set())


def test_an_unknown_task_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no such task"):
        TASKS.load_tasks(names=["no_such_task"])
