"""`swarm replay|fork|bisect|audit` in-process against a real sqlite ledger file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ledger
import replay
from swarm.cli import main
from tests.conftest import ManualClock
from tests.replay._history import Story, write_story

T, P = "acme", "shop"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Story]:
    path = tmp_path_factory.mktemp("cli") / "ledger.sqlite"
    url = f"sqlite://{path}"
    # a history that ended an hour ago in real time, so relative times mean something
    clock = ManualClock(ledger.wall_clock_us() - 3 * 3600 * 1_000_000)
    with ledger.Ledger(ledger.open_engine(url), clock=clock) as led:
        story = write_story(led, T, clock, project=P)
    return url, story


def test_replay_at_event_writes_and_reports(
    store: tuple[str, Story], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, story = store
    vs, _, files = story.states[15]
    out = tmp_path / "out"
    assert (
        main(
            [
                "replay",
                "--ledger",
                url,
                "--tenant",
                T,
                "--project",
                P,
                "--at-event",
                str(vs),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    said = capsys.readouterr().out
    assert "verified" in said and str(vs) in said
    assert {
        p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
    } == files


def test_replay_json_and_relative_time(
    store: tuple[str, Story], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, story = store
    assert (
        main(
            [
                "replay",
                "--ledger",
                url,
                "--tenant",
                T,
                "--project",
                P,
                "--at",
                "-1m",
                "--out",
                str(tmp_path / "o"),
                "--json",
            ]
        )
        == 0
    )
    facts = json.loads(capsys.readouterr().out)
    assert facts["files"] == len(story.files) and facts["verified"] is True


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--at", "tomorrow"], "cannot read time"),
        (["--at", "2001-01-01"], "before the project existed"),
        (["--at", "2999-01-01"], "in the future"),
        (["--at-event", "00" * 12], "not in project"),
        (["--mission", "m-0"], "--mission needs --step"),
    ],
)
def test_replay_refusals(
    store: tuple[str, Story],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    url, _ = store
    out = tmp_path / "o"
    assert (
        main(["replay", "--ledger", url, "--tenant", T, "--project", P, *argv, "--out", str(out)])
        == 2
    )
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_replay_refuses_non_empty_out(
    store: tuple[str, Story], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = store
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "x").write_text("keep")
    assert (
        main(
            ["replay", "--ledger", url, "--tenant", T, "--project", P, "--out", str(tmp_path / "o")]
        )
        == 2
    )
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "o" / "x").read_text() == "keep"


def test_diff(store: tuple[str, Story], capsys: pytest.CaptureFixture[str]) -> None:
    url, story = store
    a, b = story.states[8][0], story.states[-1][0]
    assert (
        main(
            [
                "replay",
                "diff",
                "--ledger",
                url,
                "--tenant",
                T,
                "--project",
                P,
                "--from",
                str(a),
                "--to",
                str(b),
            ]
        )
        == 0
    )
    assert "+VALUE = " in capsys.readouterr().out


def test_fork_then_replay_the_fork(
    store: tuple[str, Story], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, story = store
    vs, _, files = story.states[20]
    assert (
        main(
            [
                "fork",
                "--ledger",
                url,
                "--tenant",
                T,
                "--project",
                P,
                "--at",
                str(vs),
                "--as",
                "shop-fork",
                "--json",
            ]
        )
        == 0
    )
    facts = json.loads(capsys.readouterr().out)
    assert facts["files"] == len(files)
    out = tmp_path / "f"
    assert (
        main(
            ["replay", "--ledger", url, "--tenant", T, "--project", "shop-fork", "--out", str(out)]
        )
        == 0
    )
    assert {
        p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
    } == files
    with ledger.open_ledger(url) as led:
        link = led.read(T, "shop-fork", limit=2)[1]
        assert link.event.signal.attributes["origin_versionstamp"] == str(vs)
    assert (
        main(
            [
                "fork",
                "--ledger",
                url,
                "--tenant",
                T,
                "--project",
                P,
                "--at",
                str(vs),
                "--as",
                "shop-fork",
            ]
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err


def test_audit_events_who_verify_export(
    store: tuple[str, Story], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = store
    common = ["--ledger", url, "--tenant", T, "--project", P]
    assert main(["audit", "events", *common, "--agent", "scout-1", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(json.loads(x)["agent"] == "scout-1" for x in lines)
    assert main(["audit", "who", "src/mod_5.py", *common]) == 0
    assert "why:" in capsys.readouterr().out
    assert main(["audit", "verify", *common]) == 0
    assert "hash chain intact" in capsys.readouterr().out
    out = tmp_path / "a.csv"
    assert main(["audit", "export", *common, "--format", "csv", "--out", str(out)]) == 0
    assert out.read_text().startswith("versionstamp,")
    assert main(["audit", "export", *common, "--format", "csv", "--out", str(out)]) == 2
    assert main(["audit", "events", *common, "--type", "thought"]) == 2
    assert "unknown event type" in capsys.readouterr().err


def test_bisect_needs_a_command(
    store: tuple[str, Story], capsys: pytest.CaptureFixture[str]
) -> None:
    url, story = store
    argv = [
        "bisect",
        "--ledger",
        url,
        "--tenant",
        T,
        "--project",
        P,
        "--good",
        str(story.states[1][0]),
        "--bad",
        str(story.states[-1][0]),
        "--",
    ]
    assert main(argv) == 2
    assert "needs a test command" in capsys.readouterr().err
    assert main([*argv, "make", "test"]) == 2
    assert "cannot run" in capsys.readouterr().err
    assert replay.DEFAULT_SNAPSHOT_EVERY > 0
