"""Replay against copies of the files taken while the history was written."""

from __future__ import annotations

from pathlib import Path

import pytest

import ledger
from ledger import Ledger, snapshots
from replay import (
    OutputNotEmpty,
    Replayer,
    TimeBeforeProject,
    TimeInFuture,
    UnknownPoint,
    UnparseableTime,
    format_time,
    materialise,
    read_contents,
    unified_diff,
)
from tests.conftest import ManualClock
from tests.replay._history import write_story


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_state_at_every_event_matches_the_copies(
    led: Ledger, tenant: str, clock: ManualClock
) -> None:
    story = write_story(led, tenant, clock)
    r = Replayer(led, tenant, story.project, clock=clock)
    for vs, _, files in story.states:
        assert read_contents(led, tenant, r.state_at(vs)) == files


def test_materialise_writes_exactly_the_files(
    led: Ledger, tenant: str, clock: ManualClock, tmp_path: Path
) -> None:
    story = write_story(led, tenant, clock)
    r = Replayer(led, tenant, story.project, clock=clock)
    vs, _, files = story.states[len(story.states) // 2]
    done = materialise(led, tenant, r.state_at(vs), tmp_path / "out")
    assert tree(tmp_path / "out") == files
    assert done.files == len(files)


def test_snapshots_do_not_change_states_and_cut_the_fold(
    led: Ledger, tenant: str, clock: ManualClock
) -> None:
    story = write_story(led, tenant, clock)
    r = Replayer(led, tenant, story.project, clock=clock, snapshot_every=5)
    taken = r.take_snapshots()
    assert taken == snapshots(led, tenant, story.project)
    assert len(taken) >= 3
    assert r.take_snapshots() == []  # continues from the newest: nothing new
    for vs, _, files in story.states:
        state = r.state_at(vs)
        assert read_contents(led, tenant, state) == files
        assert state.events_folded <= 5 + 2  # lock signals may sit between snapshots


def test_mission_end_takes_a_snapshot(led: Ledger, tenant: str, clock: ManualClock) -> None:
    story = write_story(led, tenant, clock)
    r = Replayer(led, tenant, story.project, clock=clock, snapshot_every=10_000)
    taken = r.take_snapshots()
    assert taken == [story.missions[m][-1] for m in sorted(story.missions)]


def test_replay_at_time_and_relative_time(led: Ledger, tenant: str, clock: ManualClock) -> None:
    story = write_story(led, tenant, clock)
    r = Replayer(led, tenant, story.project, clock=clock)
    vs, time_us, _files = story.states[10]
    assert r.at_time(format_time(time_us)) == vs
    clock.advance(3600)
    assert r.at_time("-30m") == led.head(tenant, story.project)


def test_a_time_between_two_events_means_the_earlier(
    led: Ledger, tenant: str, clock: ManualClock
) -> None:
    story = write_story(led, tenant, clock, missions=1)
    r = Replayer(led, tenant, story.project, clock=clock)
    for (_vs, t0, files), (_, t1, _) in zip(story.states, story.states[1:], strict=False):
        if t1 - t0 < 2:
            continue
        between = r.state_at(r.at_time(format_time((t0 + t1) // 2)))
        assert read_contents(led, tenant, between) == files


def test_mission_step(led: Ledger, tenant: str, clock: ManualClock) -> None:
    story = write_story(led, tenant, clock)
    r = Replayer(led, tenant, story.project, clock=clock)
    steps = story.missions["m-1"]
    for n, vs in enumerate(steps, 1):
        assert r.at_mission_step("m-1", n) == vs
    with pytest.raises(UnknownPoint, match=r"has \d+ events, so no step 99"):
        r.at_mission_step("m-1", 99)
    with pytest.raises(UnknownPoint, match="count from 1"):
        r.at_mission_step("m-1", 0)


def test_refuses_bad_times(led: Ledger, tenant: str, clock: ManualClock) -> None:
    story = write_story(led, tenant, clock, missions=1)
    r = Replayer(led, tenant, story.project, clock=clock)
    with pytest.raises(UnparseableTime, match="ISO 8601"):
        r.at_time("yesterday-ish")
    with pytest.raises(UnparseableTime):
        r.at_time("-2x")
    with pytest.raises(TimeBeforeProject, match="before the project existed"):
        r.at_time("2001-01-01T00:00:00Z")
    with pytest.raises(TimeBeforeProject):
        r.at_time("-3650d")
    with pytest.raises(TimeInFuture, match="in the future"):
        r.at_time("2999-01-01T00:00:00Z")


def test_refuses_unknown_versionstamps(led: Ledger, tenant: str, clock: ManualClock) -> None:
    story = write_story(led, tenant, clock, missions=1)
    r = Replayer(led, tenant, story.project, clock=clock)
    assert r.at_event(str(story.states[3][0])) == story.states[3][0]
    with pytest.raises(UnknownPoint, match="is not in project"):
        r.at_event("00" * 12)
    with pytest.raises(UnknownPoint, match="24 hex digits"):
        r.at_event("abc")
    with pytest.raises(UnknownPoint, match="not hexadecimal"):
        r.at_event("zz" * 12)


def test_refuses_a_non_empty_output_unless_forced(
    led: Ledger, tenant: str, clock: ManualClock, tmp_path: Path
) -> None:
    story = write_story(led, tenant, clock, missions=1)
    r = Replayer(led, tenant, story.project, clock=clock)
    out = tmp_path / "work" / "out"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("mine")
    state = r.state_at(r.latest())
    with pytest.raises(OutputNotEmpty, match="--force"):
        materialise(led, tenant, state, out)
    assert tree(out) == {"keep.txt": b"mine"}
    materialise(led, tenant, state, out, force=True)
    assert tree(out) == story.files
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no temporary folders left


def test_unknown_project_is_the_ledgers_error(led: Ledger, tenant: str, clock: ManualClock) -> None:
    led.create_tenant(tenant)
    with pytest.raises(ledger.UnknownProject):
        Replayer(led, tenant, "nope", clock=clock)


def test_diff_between_two_states(led: Ledger, tenant: str, clock: ManualClock) -> None:
    story = write_story(led, tenant, clock, missions=1)
    r = Replayer(led, tenant, story.project, clock=clock)
    a = r.state_at(story.states[8][0])  # after the initial tree
    b = r.state_at(r.latest())
    text = unified_diff(led, tenant, a, b)
    assert text.startswith("--- a/")
    assert "+VALUE = " in text
    assert unified_diff(led, tenant, b, b) == ""
