"""Replay at each step of the sample mission reproduces the files exactly as they were (issue 6).

The sample mission runs as the README shows it, ``swarm mission rename --repo COPY
calculate_total compute_order_total`` (in-process, with one coder and a step delay),
and after it a patch that breaks the sample's tests, which the critic rejects and
reverts. While they run, a watcher thread copies the real workspace folder, not
ledger state. Afterwards ``replay`` at every step of both missions, through the
Python API and through the CLI, must give the bytes of those copies: two
independent sources that agree.

A copy is the state at a known event, not "about then":

- *Nothing missing.* The watcher copies only at a settling event: MISSION_STARTED;
  MISSION_FINISHED, which the orchestrator appends after its rollback writes; or an
  edit or verify ticket turning DONE, RETRY or FAILED, which its coder appends after
  any write of its own, or the critic after writing its reverts. With one coder the
  writers take turns (verify waits for every edit, and an edit is retried only after
  the critic's reverts), so every StateChange before a settling event is on disk.
- *Nothing extra.* Every write follows the append of its StateChange. So if no
  StateChange follows the settling event in the log once the copy is done, no later
  write had begun, and the copy is exactly the state at that event. A copy that
  fails this check is dropped. The step delay makes drops rare, and the test
  requires a kept copy between every two StateChanges.

A kept copy stands for every step up to the next StateChange, because the events
in between do not change files. Two more copies cannot race with anything: one
taken before the CLI starts (the state at MISSION_STARTED) and one taken after it
returns (the state at the last step). The first mission's first ten steps are the
import, the ledger learning the repository one file at a time. The folder was
never in those states, so there replay gives the files imported so far, each
byte-identical to the folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import ledger
import replay
from ledger import RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from swarm.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"
TENANT = "local"  # the CLI's default tenant
PROJECT = "sample_repo"  # the CLI's default project: the repository folder's name
IGNORED = shutil.ignore_patterns(".swarm", "__pycache__")  # the ledger and caches live in .swarm
# The coder's pause after each ticket: the watcher's window to copy before the next write
# (it wakes within the sqlite engine's 20 ms cross-connection poll; a copy takes ~2 ms).
STEP_DELAY_S = "0.1"
BREAKING = (
    "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -9,3 +9,3 @@\n"
    '     """Sum the prices and apply tax, rounded to cents."""\n'
    "-    return round(sum(prices) * (1.0 + tax), 2)\n"
    "+    return round(sum(prices) * (1.0 - tax), 2)\n"
    " \n"
)
_SETTLING_STATES = frozenset({pb.TICKET_STATE_DONE, pb.TICKET_STATE_RETRY, pb.TICKET_STATE_FAILED})


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (path → bytes), leaving out .swarm/ and __pycache__."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".swarm" or "__pycache__" in rel.parts or not path.is_file():
            continue
        files[rel.as_posix()] = path.read_bytes()
    return files


def settles(rec: RecordedEvent) -> bool:
    """Whether ``rec`` is appended only after every workspace write before it (see the top)."""
    if rec.kind == "signal":
        return rec.event.signal.kind in (
            pb.SIGNAL_KIND_MISSION_STARTED,
            pb.SIGNAL_KIND_MISSION_FINISHED,
        )
    if rec.kind == "ticket":
        t = rec.event.ticket
        return t.state in _SETTLING_STATES and (
            t.ticket_id.startswith("edit-") or t.ticket_id == "verify"
        )
    return False


@dataclass(frozen=True, slots=True)
class Copy:
    """A copy of the workspace folder, and the event whose state it is."""

    at: Versionstamp
    folder: Path
    taken: str  # "before" the CLI ran, "during" it (the watcher), "after" it returned


class WorkspaceCopier:
    """Copies the workspace at each settling event of the project's log.

    It runs on its own thread and its own ledger connection, and keeps only the
    copies that no StateChange overtook.
    """

    def __init__(self, url: str, root: Path, dest: Path) -> None:
        self.url, self.root, self.dest = url, root, dest
        self.kept: list[Copy] = []
        self.dropped: list[Versionstamp] = []
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="workspace-copier", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive(), "the workspace copier did not stop"
        if self.failure is not None:
            raise self.failure

    def _run(self) -> None:
        try:
            with ledger.open_ledger(self.url) as led:
                seen: Versionstamp | None = None
                while not self._stop.is_set():
                    settled: Versionstamp | None = None
                    for rec in led.iter_events(TENANT, PROJECT, after=seen):
                        seen = rec.versionstamp
                        if rec.kind == "state_change":
                            settled = None
                        elif settles(rec):
                            settled = rec.versionstamp
                    if settled is not None:
                        self._copy(led, settled)
                    led.wait_for_append(TENANT, PROJECT, seen, 0.05)
        except BaseException as exc:  # surfaced by stop(), on the test's thread
            self.failure = exc

    def _copy(self, led: ledger.Ledger, at: Versionstamp) -> None:
        folder = self.dest / f"during-{len(self.kept) + len(self.dropped):03d}"
        try:
            shutil.copytree(self.root, folder, ignore=IGNORED)
            whole = True
        except OSError:  # a file swapped mid-copy: a write was under way, so it is dropped
            whole = False
        overtaken = any(
            r.kind == "state_change" for r in led.iter_events(TENANT, PROJECT, after=at)
        )
        if whole and not overtaken:
            self.kept.append(Copy(at, folder, "during"))
        else:
            self.dropped.append(at)
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class MissionRun:
    """One mission run through the CLI, with its steps and the copies of its workspace."""

    mission_id: str
    exit_code: int
    report: dict[str, object]
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
    dropped: int  # watcher copies a StateChange overtook

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


def _run_mission(url: str, repo: Path, copies: Path, mid: str, command: list[str]) -> MissionRun:
    before = copies / f"{mid}-before"
    shutil.copytree(repo, before, ignore=IGNORED)
    argv = ["mission", *command, "--repo", str(repo), "--coders", "1"]
    argv += ["--step-delay", STEP_DELAY_S, "--mission-id", mid, "--json"]
    code, said, _ = _cli(argv)
    after = copies / f"{mid}-after"
    shutil.copytree(repo, after, ignore=IGNORED)
    report = json.loads(said)
    run = MissionRun(mid, code, report)
    with ledger.open_ledger(url) as led:
        history = led.history(TENANT, PROJECT, mission=mid, limit=10_000)
    run.steps = [r.versionstamp for r in history]
    started = next(
        r.versionstamp
        for r in history
        if r.kind == "signal" and r.event.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED
    )
    run.copies = [Copy(started, before, "before"), Copy(run.steps[-1], after, "after")]
    return run


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    base = tmp_path_factory.mktemp("mission-steps")
    repo = base / PROJECT
    shutil.copytree(SAMPLE, repo, ignore=IGNORED)
    (repo / ".swarm").mkdir()
    url = f"sqlite://{repo / '.swarm' / 'ledger.sqlite'}"  # where the CLI puts it by default
    # Created first so the copier can watch it from its first event; start_mission takes
    # an existing project as it is.
    with ledger.open_ledger(url) as led:
        led.create_tenant(TENANT)
        led.create_project(TENANT, PROJECT)
    copies = base / "copies"
    copies.mkdir()
    diff = base / "breaking.diff"
    diff.write_text(BREAKING)
    copier = WorkspaceCopier(url, repo, copies)
    copier.start()
    try:
        rename = _run_mission(
            url, repo, copies, "m5a3c1e000001", ["rename", "calculate_total", "compute_order_total"]
        )
        patch = _run_mission(
            url, repo, copies, "m5a3c1e000002", ["patch", str(diff), "--retries", "0"]
        )
    finally:
        copier.stop()
    for run in (rename, patch):
        steps = set(run.steps)
        run.copies += [c for c in copier.kept if c.at in steps]
    epoch: dict[Versionstamp, int] = {}
    changes = 0
    with ledger.open_ledger(url) as led:
        for rec in led.iter_events(TENANT, PROJECT):
            changes += rec.kind == "state_change"
            epoch[rec.versionstamp] = changes
    yield Sample(url, rename, patch, epoch, len(copier.dropped))


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


def test_the_sample_missions_ran_as_a_person_runs_them(sample: Sample) -> None:
    rename, patch = sample.rename, sample.patch
    assert rename.exit_code == 0 and rename.report["outcome"] == "succeeded"
    assert len(rename.report["files_changed"]) == 6  # type: ignore[arg-type]
    assert patch.exit_code == 1 and patch.report["outcome"] == "failed"
    assert "critic rejected" in str(patch.report["reason"])
    # the rename began with the import (a StateChange per file of the sample)
    assert _started_step(rename) == len(tree(SAMPLE)) + 1
    assert _started_step(patch) == 1  # nothing new to import


@pytest.mark.parametrize("which", ["rename", "patch"])
def test_every_step_after_the_import_has_a_copy_of_the_folder(sample: Sample, which: str) -> None:
    run = _runs(sample)[which]
    uncovered = [
        n for n in range(_started_step(run), len(run.steps) + 1) if not sample.covering(run, n)
    ]
    assert not uncovered, (
        f"steps {uncovered} have no workspace copy ({sample.dropped} watcher copies were "
        "overtaken by a StateChange; a slow machine may need a longer step delay)"
    )
    # every file-changing step has a copy the watcher took while the mission ran
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
    # the broken state was on disk: a copy the watcher took during the run shows it
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
        assert "each verified against its hash chain" in said
        got = tree(out)
        for copy in sample.covering(run, n):
            assert got == tree(copy.folder), f"{which} step {n} vs the copy at {copy.at}"
