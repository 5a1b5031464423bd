from __future__ import annotations

import importlib.util
from pathlib import Path

from swarm.brain import EditRequest, RulesBrain
from swarm.scout import RepoIndex, check_syntax
from tests.swarm.brain.conftest import reader


def _generate(root: Path, files: int) -> None:
    spec = importlib.util.spec_from_file_location(
        "_genrepo", Path(__file__).resolve().parents[3] / "bench" / "_genrepo.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate_repo(root, files, 3)


def test_rename_over_the_bench_repo_leaves_no_use_behind_and_valid_python(tmp_path: Path) -> None:
    _generate(tmp_path, 60)
    index = RepoIndex(tmp_path)
    index.refresh()
    proposal = RulesBrain().propose(
        EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"}),
        index,
        reader(tmp_path),
    )
    for edit in proposal.edits:
        assert edit.new_source is not None
        assert check_syntax(edit.path, edit.new_source.encode()) == ()
        index.update(edit.path, edit.new_source.encode())
    left = [o for o in index.find("calculate_total") if o.kind not in ("module", "doc")]
    assert left == []
    # text-only mentions survive
    assert any(
        "# calculate_total appears here only as text" in (e.new_source or "")
        for e in proposal.edits
    )
