"""Replay at each step of the sample mission reproduces the files exactly as they were (issue 6).

The sample mission, the README's rename of ``calculate_total`` on a copy of
examples/sample_repo (one coder), runs through the mission API, and after it a
patch that breaks the sample's tests, which the critic rejects and reverts.
While they run, the mission's ``on_write`` seam hands the test each path right
after the mission wrote it, and the test copies the real workspace folder there
and then, not ledger state. Every write follows the append of its StateChange,
and with one coder the writers take turns, so each copy is the folder exactly
as that StateChange left it (the test checks no later StateChange had landed).
Afterwards ``replay`` at every step of both missions, through the Python API and
through the CLI, must give the bytes of those copies: two independent sources
that agree.

A copy stands for every step up to the next StateChange, because the events in
between do not change files. Two more copies: one taken before the mission runs
(the state at MISSION_STARTED) and one after it returns (its last step). The
first mission's first ten steps are the import, the ledger learning the
repository one file at a time. The folder was never in those states, so there
replay gives the files imported so far, each byte-identical to the folder.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import ledger
import replay
from ledger import Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest
from swarm.cli import main
from swarm.missions import MissionOptions, MissionReport, run_mission, start_mission

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"
TENANT = "local"  # the CLI's default tenant
PROJECT = "sample_repo"  # the CLI's default project: the repository folder's name
IGNORED = shutil.ignore_patterns(".swarm", "__pycache__")  # the ledger and caches live in .swarm
BREAKING = (
    "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -9,3 +9,3 @@\n"
    '     """Sum the prices and apply tax, rounded to cents."""\n'
    "-    return round(sum(prices) * (1.0 + tax), 2)\n"
    "+    return round(sum(prices) * (1.0 - tax), 2)\n"
    " \n"
)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (path → bytes), leaving out .swarm/ and __pycache__."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".swarm" or "__pycache__" in rel.parts or not path.is_file():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


@dataclass(frozen=True, slots=True)
class Copy:
    """A copy of the workspace folder, and the event whose state it is."""

    at: Versionstamp
    folder: Path
    taken: str  # "before" the CLI ran, "during" it (the watcher), "after" it returned


class WorkspaceCopier:
    """Copies the workspace each time the mission writes a file (its ``on_write`` seam)."""

    def __init__(self, led: ledger.Ledger, root: Path, dest: Path) -> None:
        self.led, self.root, self.dest = led, root, dest
        self.kept: list[Copy] = []

    def __call__(self, path: str) -> None:
        (last,) = self.led.history(TENANT, PROJECT, path=path, reverse=True, limit=1)
        folder = self.dest / f"during-{len(self.kept):03d}"
        shutil.copytree(self.root, folder, ignore=IGNORED)
        overtaken = [
            r
            for r in self.led.iter_events(TENANT, PROJECT, after=last.versionstamp)
            if r.kind == "state_change"
        ]
        assert not overtaken, f"a StateChange landed before the copy at {last.versionstamp}"
        self.kept.append(Copy(last.versionstamp, folder, "during"))


@dataclass
class MissionRun:
    """One mission run through the CLI, with its steps and the copies of its workspace."""

    mission_id: str
    report: MissionReport
    steps: list[Versionstamp] = field(default_factory=list)  # step N is steps[N - 1]
    copies: list[Copy] = field(default_factory=list)

    def step_of(self, vs: Versionstamp) -> int:
        return self.steps.index(vs) + 1


@dataclass
class Sample:
    """Both missions' runs on one ledger, and where each event stands among the changes."""

    url: str
    rename: MissionRun
    patch: MissionRun
    epoch: dict[Versionstamp, int]  # for each event: how many StateChanges are at or before it

    def covering(self, run: MissionRun, step: int) -> list[Copy]:
        """The copies showing the state at ``step``: those with no StateChange in between."""
        want = self.epoch[run.steps[step - 1]]
        return [c for c in run.copies if self.epoch[c.at] == want]


def _cli(argv: list[str]) -> tuple[int, str, str]:
    """``swarm ARGV`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _run_mission(
    url: str, repo: Path, copies: Path, mid: str, request: EditRequest, retries: int = 1
) -> MissionRun:
    before = copies / f"{mid}-before"
    shutil.copytree(repo, before, ignore=IGNORED)
    with ledger.open_ledger(url) as led:
        options = MissionOptions(coders=1, critic_rounds=retries)
        start_mission(led, TENANT, PROJECT, repo, request, options=options, mission_id=mid)
        copier = WorkspaceCopier(led, repo, copies / mid)
        report = run_mission(led, TENANT, PROJECT, mid, on_write=copier)
        history = led.history(TENANT, PROJECT, mission=mid, limit=10_000)
    after = copies / f"{mid}-after"
    shutil.copytree(repo, after, ignore=IGNORED)
    run = MissionRun(mid, report)
    run.steps = [r.versionstamp for r in history]
    started = next(
        r.versionstamp
        for r in history
        if r.kind == "signal" and r.event.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED
    )
    run.copies = [Copy(started, before, "before"), Copy(run.steps[-1], after, "after")]
    run.copies += copier.kept
    return run


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    base = tmp_path_factory.mktemp("mission-steps")
    repo = base / PROJECT
    shutil.copytree(SAMPLE, repo, ignore=IGNORED)
    (repo / ".swarm").mkdir()
    url = f"sqlite://{repo / '.swarm' / 'ledger.sqlite'}"  # where the CLI puts it by default
    copies = base / "copies"
    copies.mkdir()
    rename = _run_mission(
        url,
        repo,
        copies,
        "m5a3c1e000001",
        EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"}),
    )
    patch = _run_mission(
        url, repo, copies, "m5a3c1e000002", EditRequest("patch", {"diff": BREAKING}), retries=0
    )
    epoch: dict[Versionstamp, int] = {}
    changes = 0
    with ledger.open_ledger(url) as led:
        for rec in led.iter_events(TENANT, PROJECT):
            changes += rec.kind == "state_change"
            epoch[rec.versionstamp] = changes
    yield Sample(url, rename, patch, epoch)


def _started_step(run: MissionRun) -> int:
    before = next(c for c in run.copies if c.taken == "before")
    return run.step_of(before.at)


def _replay_step(led: ledger.Ledger, run: MissionRun, step: int, out: Path) -> replay.State:
    r = replay.Replayer(led, TENANT, PROJECT)
    vs = r.at_mission_step(run.mission_id, step)
    assert vs == run.steps[step - 1]
    state = r.state_at(vs)
    replay.materialise(led, TENANT, state, out)
    return state


def _runs(sample: Sample) -> dict[str, MissionRun]:
    return {"rename": sample.rename, "patch": sample.patch}


# -- the runs themselves -------------------------------------------------------------


def test_the_sample_missions_ran_to_their_ends(sample: Sample) -> None:
    rename, patch = sample.rename, sample.patch
    assert rename.report.outcome == "succeeded"
    assert len(rename.report.files_changed) == 6
    assert patch.report.outcome == "failed"
    assert "critic rejected" in patch.report.reason
    # the rename began with the import (a StateChange per file of the sample)
    assert _started_step(rename) == len(tree(SAMPLE)) + 1
    assert _started_step(patch) == 1  # nothing new to import


@pytest.mark.parametrize("which", ["rename", "patch"])
def test_every_step_after_the_import_has_a_copy_of_the_folder(sample: Sample, which: str) -> None:
    run = _runs(sample)[which]
    uncovered = [
        n for n in range(_started_step(run), len(run.steps) + 1) if not sample.covering(run, n)
    ]
    assert not uncovered, f"steps {uncovered} have no workspace copy"
    # every file-changing step has a copy taken while the mission ran
    for n, vs in enumerate(run.steps, 1):
        if n > _started_step(run) and sample.epoch[vs] != sample.epoch[run.steps[n - 2]]:
            assert any(c.taken == "during" for c in sample.covering(run, n)), n


# -- replay against the copies -------------------------------------------------------


@pytest.mark.parametrize("which", ["rename", "patch"])
def test_replay_at_each_step_reproduces_the_copies_byte_for_byte(
    sample: Sample, which: str, tmp_path: Path
) -> None:
    run = _runs(sample)[which]
    compared = 0
    with ledger.open_ledger(sample.url) as led:
        for n in range(_started_step(run), len(run.steps) + 1):
            out = tmp_path / f"step-{n:03d}"
            _replay_step(led, run, n, out)
            got = tree(out)
            for copy in sample.covering(run, n):
                assert got == tree(copy.folder), (
                    f"{which} step {n}: replay differs from the copy taken {copy.taken} "
                    f"at {copy.at}"
                )
                compared += 1
    assert compared >= len(run.steps) - _started_step(run) + 1


def test_the_first_step_is_the_imported_repo_and_the_last_the_final_folder(
    sample: Sample, tmp_path: Path
) -> None:
    run = sample.rename
    with ledger.open_ledger(sample.url) as led:
        _replay_step(led, run, _started_step(run), tmp_path / "first")
        _replay_step(led, run, len(run.steps), tmp_path / "last")
    assert tree(tmp_path / "first") == tree(SAMPLE)
    final = tree(tmp_path / "last")
    assert final == tree(next(c.folder for c in run.copies if c.taken == "after"))
    assert "def compute_order_total(" in final["shop/pricing.py"].decode()
    assert final != tree(SAMPLE)


def test_the_import_steps_replay_the_files_imported_so_far(sample: Sample, tmp_path: Path) -> None:
    run = sample.rename
    folder = tree(next(c.folder for c in run.copies if c.taken == "before"))
    imported: list[str] = []
    with ledger.open_ledger(sample.url) as led:
        for n in range(1, _started_step(run)):
            rec = led.get_event(TENANT, PROJECT, run.steps[n - 1])
            assert rec.kind == "state_change"
            imported.append(rec.event.state_change.path)
            _replay_step(led, run, n, tmp_path / f"step-{n:03d}")
            assert tree(tmp_path / f"step-{n:03d}") == {p: folder[p] for p in imported}
    assert sorted(imported) == sorted(folder)


def test_the_rejected_patch_shows_the_broken_file_then_the_original_bytes(
    sample: Sample, tmp_path: Path
) -> None:
    run = sample.patch
    original = tree(next(c.folder for c in run.copies if c.taken == "before"))
    broken_steps: list[int] = []
    with ledger.open_ledger(sample.url) as led:
        for n in range(1, len(run.steps) + 1):
            out = tmp_path / f"step-{n:03d}"
            _replay_step(led, run, n, out)
            files = tree(out)
            if files != original:
                assert set(files) == set(original)
                assert [p for p in files if files[p] != original[p]] == ["shop/pricing.py"]
                assert b"(1.0 - tax)" in files["shop/pricing.py"]
                broken_steps.append(n)
    assert broken_steps, "no step shows the patch"
    # the broken state was on disk: a copy taken during the run shows it
    assert [
        c
        for n in broken_steps
        for c in sample.covering(run, n)
        if c.taken == "during" and b"(1.0 - tax)" in (c.folder / "shop" / "pricing.py").read_bytes()
    ]
    # the patch's steps are one run: from its StateChange to the critic's revert
    assert broken_steps == list(range(broken_steps[0], broken_steps[-1] + 1))
    assert broken_steps[-1] < len(run.steps)
    with ledger.open_ledger(sample.url) as led:
        revert = led.get_event(TENANT, PROJECT, run.steps[broken_steps[-1]])
    assert revert.kind == "state_change" and revert.event.state_change.reverts_event_id
    after = tree(next(c.folder for c in run.copies if c.taken == "after"))
    assert after == original


def test_replay_folds_from_the_snapshots_the_missions_left_at_their_ends(sample: Sample) -> None:
    rename, patch = sample.rename, sample.patch
    with ledger.open_ledger(sample.url) as led:
        assert ledger.snapshots(led, TENANT, PROJECT) == [rename.steps[-1], patch.steps[-1]]
        r = replay.Replayer(led, TENANT, PROJECT)
        assert r.state_at(rename.steps[-2]).snapshot is None  # before any: the full fold
        at_end = r.state_at(rename.steps[-1])
        assert (at_end.snapshot, at_end.events_folded) == (rename.steps[-1], 0)
        middle = len(patch.steps) // 2
        tail = r.state_at(patch.steps[middle - 1])  # the rename's end plus the tail after it
        assert tail.snapshot == rename.steps[-1] and tail.events_folded >= middle


# -- the CLI ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["rename", "patch"])
def test_the_cli_replays_each_step_to_the_copies_bytes(
    sample: Sample, which: str, tmp_path: Path
) -> None:
    run = _runs(sample)[which]
    for n in range(_started_step(run), len(run.steps) + 1):
        out = tmp_path / f"step-{n:03d}"
        code, said, err = _cli(
            [
                "replay",
                "--ledger",
                sample.url,
                "--tenant",
                TENANT,
                "--project",
                PROJECT,
                "--mission",
                run.mission_id,
                "--step",
                str(n),
                "--out",
                str(out),
            ]
        )
        assert code == 0, err
        assert f"(event {run.steps[n - 1]})" in said
        assert "re-hashed along the hash chain" in said
        got = tree(out)
        for copy in sample.covering(run, n):
            assert got == tree(copy.folder), f"{which} step {n} vs the copy at {copy.at}"
