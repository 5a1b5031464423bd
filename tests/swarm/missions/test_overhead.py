"""What a mission costs beyond its edits (issue 12): the ledger still records every step.

Speed itself is measured by bench/rename_vs_rope.py; these tests pin the shapes that
make it cheap (one commit for a coder's syntax decision and change, a view that
folds the same events whichever way it catches up, the CLI importing only its
command) so that a change undoing them fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ledger
from swarm.missions import MissionView
from swarm.scout import RepoIndex
from tests.ledger._events import decision
from tests.swarm.missions.conftest import PROJECT, ROOT, TENANT, Mission, snapshot


def test_a_coders_decisions_and_its_change_land_in_one_commit(
    mission: Mission, mled: ledger.Ledger
) -> None:
    mid, report = mission(run_tests=False)
    assert report.ok and report.files_changed
    records = mled.history(TENANT, PROJECT, mission=mid, limit=10_000)
    by_id = {r.event.event_id: r for r in records}
    changes = [r for r in records if r.kind == "state_change" and ".edit-" in r.event.event_id]
    assert len(changes) == len(report.files_changed)
    for change in changes:
        # change -> the coder's own Decision (why) -> the critic's syntax check
        why = by_id[change.event.parent_event_id]
        assert why.event.decision.kind == "coder.edit"
        assert why.event.agent_id == change.event.agent_id
        syntax = by_id[why.event.parent_event_id]
        assert syntax.event.decision.kind == "critic.syntax"
        assert {why.versionstamp.tr_version, syntax.versionstamp.tr_version} == {
            change.versionstamp.tr_version
        }


def test_a_view_caught_up_step_by_step_equals_one_folded_at_once(
    mission: Mission, mled: ledger.Ledger
) -> None:
    mid, _ = mission(run_tests=False)
    # Another mission's and a mission-less event in the same project: a view skips both.
    mled.append(TENANT, PROJECT, [decision(mission="m000000other"), decision()])
    whole = MissionView(mled, TENANT, PROJECT, mid)
    whole.catch_up()
    records = mled.history(TENANT, PROJECT, mission=mid, limit=10_000)
    assert len(records) == whole.events
    # Step by step, as an agent does after each append: every catch-up but the first
    # goes through the log's tail.
    steps = MissionView(mled, TENANT, PROJECT, mid)
    steps.cursor = records[0].versionstamp
    steps._apply(records[0])
    for rec in records[1::7]:
        mled.append(TENANT, PROJECT, [decision(mission="m000000other")])
        steps.catch_up()
        assert rec.event.event_id in steps.event_ids
    steps.catch_up()
    assert steps.event_ids == whole.event_ids
    assert steps.events == whole.events
    assert {t: (v.state, v.attempt) for t, v in steps.tickets.items()} == {
        t: (v.state, v.attempt) for t, v in whole.tickets.items()
    }
    assert [c.event_id for c in steps.changes] == [c.event_id for c in whole.changes]


def test_the_symbol_checks_parses_give_the_index_the_same_answers(repo: Path) -> None:
    shared: dict[bytes, object] = {}
    first = RepoIndex(repo, parses=shared)  # type: ignore[arg-type]
    first.refresh()
    again = RepoIndex(repo, parses=shared)  # type: ignore[arg-type]
    stats = again.refresh()
    assert stats.parsed == 0  # every file came from the shared parses
    fresh = RepoIndex(repo)
    fresh.refresh()
    for path in fresh.files():
        assert again.file(path) == fresh.file(path)
    assert snapshot(repo)  # nothing written into the repository


def test_a_local_mission_command_does_not_import_grpc_or_the_sandbox() -> None:
    # wasmtime loads when the critic runs a suite, not for a --no-tests mission
    code = (
        "import sys\n"
        "from swarm.cli import build_parser\n"
        "build_parser('mission')\n"
        "import swarm.missions\n"
        "print(','.join(m for m in ('grpc', 'urllib.request', 'wasmtime') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.stdout.strip() == ""
