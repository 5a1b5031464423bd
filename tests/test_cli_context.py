"""The CLI's one context (swarm.cli._context) and its polish, through real ``swarm`` processes.

A mission runs on a copy of examples/sample_repo; then, from inside that
repository and with no --ledger, --tenant or --project, ``audit who``,
``mission show`` and ``replay --at-event`` find its ledger the way git finds
``.git/``. Read-only commands in an empty folder refuse with "no ledger at
PATH" and create nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swarm.cli import build_parser
from swarm.cli._completion import command_tree

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_repo"
VS24 = re.compile(r"\b[0-9a-f]{24}\b")


def swarm(cwd: Path, *args: str, ceiling: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m swarm ARGS`` in ``cwd``, with no ledger, token or context from outside."""
    env = {k: v for k, v in os.environ.items() if k not in ("SWARM_LEDGER", "SWARM_TOKEN")}
    env["PYTHONPATH"] = str(ROOT)
    if ceiling is not None:  # a stray .swarm/ above the test's folder must not be found
        env["SWARM_CEILING_DIRECTORIES"] = str(ceiling)
    return subprocess.run(
        [sys.executable, "-m", "swarm", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return out.stdout


@pytest.fixture(scope="module")
def mission_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A git repository copied from the sample, after one local rename mission."""
    base = tmp_path_factory.mktemp("ctx")
    repo = base / "shop-copy"
    shutil.copytree(SAMPLE, repo)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "sample")
    ran = swarm(base, "mission", "rename", "--repo", str(repo), "calculate_total", "compute_order_total", "--json")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return {"repo": repo, "report": json.loads(ran.stdout), "base": base}


def test_a_mission_makes_the_ledger_in_the_repository_and_keeps_it_out_of_git_status(
    mission_repo: dict[str, Any],
) -> None:
    repo: Path = mission_repo["repo"]
    assert (repo / ".swarm" / "ledger.sqlite").is_file()
    assert (repo / ".swarm" / ".gitignore").read_text().splitlines()[-1] == "*"
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert ".swarm" not in status
    assert "shop/pricing.py" in status  # the mission's edits do show: only .swarm/ is hidden


def test_audit_who_inside_the_repository_needs_no_ledger_tenant_or_project(
    mission_repo: dict[str, Any],
) -> None:
    repo: Path = mission_repo["repo"]
    who = swarm(repo / "shop", "audit", "who", "shop/pricing.py", "--json")  # from a subfolder
    assert who.returncode == 0, who.stderr
    changes = json.loads(who.stdout)
    mission = mission_repo["report"]["mission_id"]
    assert any(c["change"]["mission"] == mission for c in changes), changes
    assert all(VS24.fullmatch(c["change"]["versionstamp"]) for c in changes)


def test_mission_show_prints_versionstamps_that_replay_at_event_takes_back(
    mission_repo: dict[str, Any],
) -> None:
    repo: Path = mission_repo["repo"]
    mission = mission_repo["report"]["mission_id"]
    listed = swarm(repo, "mission", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [m["mission_id"] for m in json.loads(listed.stdout)] == [mission]
    show = swarm(repo, "mission", "show", mission)
    assert show.returncode == 0, show.stderr
    assert f"mission {mission}: succeeded" in show.stdout
    # The first story line after the import: the state before any agent changed a file.
    stamps = [m.group(0) for m in VS24.finditer(show.stdout)]
    assert stamps, show.stdout
    before = next(line.split()[0] for line in show.stdout.splitlines() if " coder-" in line)
    out = mission_repo["base"] / "at-first-edit"
    replayed = swarm(repo, "replay", "--at-event", before, "--out", str(out), "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["versionstamp"] == before
    assert (out / "shop" / "pricing.py").is_file()
    # 20 digits (a commit's versionstamp, as older releases printed) name its first event.
    short = swarm(repo, "replay", "--at-event", before[:20], "--out", str(out), "--force")
    assert short.returncode == 0, short.stderr
    assert f"(event {before[:20]}0000)" in short.stdout


def test_replay_at_a_time_from_inside_the_repository(mission_repo: dict[str, Any]) -> None:
    repo: Path = mission_repo["repo"]
    out = mission_repo["base"] / "now"
    replayed = swarm(repo, "replay", "--at", "-0s", "--out", str(out))
    assert replayed.returncode == 0, replayed.stderr
    now = (out / "shop" / "pricing.py").read_text()
    assert now == (repo / "shop" / "pricing.py").read_text()
    assert "compute_order_total" in now and "calculate_total" not in now


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "events"],
        ["audit", "who", "shop/cart.py"],
        ["audit", "verify"],
        ["replay", "--out", "out"],
        ["mission", "show", "m123456789"],
        ["mission", "list"],
        ["bisect", "--good", "-1h", "--bad", "-1s", "--", "pytest"],
        ["admin", "token", "list"],
        ["sync", "status", "--hub-name", "hub"],
    ],
)
def test_a_read_only_command_in_an_empty_folder_creates_no_ledger(
    tmp_path: Path, args: list[str]
) -> None:
    got = swarm(tmp_path, *args, ceiling=tmp_path)
    assert got.returncode == 2, got.stdout + got.stderr
    assert f"no ledger at {tmp_path.resolve() / '.swarm' / 'ledger.sqlite'}" in got.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_mission_with_no_repository_found_asks_for_one_and_writes_nothing(
    tmp_path: Path,
) -> None:
    got = swarm(tmp_path, "mission", "rename", "a", "b", ceiling=tmp_path)
    assert got.returncode == 2
    assert "--repo PATH is required" in got.stderr and str(tmp_path.resolve()) in got.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_refused_mission_writes_nothing_into_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    got = swarm(tmp_path, "mission", "rename", "--repo", str(repo), "a", "b", "--coders", "0")
    assert got.returncode == 2 and "coders" in got.stderr
    assert not (repo / ".swarm").exists()


def test_a_one_slash_sqlite_url_is_refused_and_creates_no_file(tmp_path: Path) -> None:
    name = f"swarm-test-{os.getpid()}.sqlite"
    got = swarm(tmp_path, "demo", "ledger", "--ledger", f"sqlite:/{name}")
    assert got.returncode == 2
    assert "one slash is ambiguous" in got.stderr and "sqlite:///" in got.stderr
    assert not Path("/", name).exists() and not (tmp_path / name).exists()


def test_errors_under_json_are_one_json_object_on_stderr(tmp_path: Path) -> None:
    missing = swarm(tmp_path, "audit", "events", "--json", ceiling=tmp_path)
    assert missing.returncode == 2 and missing.stdout == ""
    error = json.loads(missing.stderr)
    assert error["error"].startswith("no ledger at ") and error["exit"] == 2
    assert isinstance(error["code"], str)
    usage = swarm(tmp_path, "audit", "events", "--json", "--no-such-option")
    assert usage.returncode == 2
    assert json.loads(usage.stderr)["code"] == "usage"
    plain = swarm(tmp_path, "audit", "events", ceiling=tmp_path)
    assert plain.stderr.startswith("swarm: error: no ledger at ")


def test_version() -> None:
    got = swarm(ROOT, "--version")
    assert got.returncode == 0
    assert re.fullmatch(r"swarm \S+\n", got.stdout), got.stdout


def _actions(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _actions(child, f"{path} {name}")
        else:
            found.append((path, action))
    return found


def test_every_option_and_argument_of_every_command_has_help() -> None:
    actions = _actions(build_parser(), "swarm")
    assert len(actions) > 200  # the walk reached the sub-commands' options
    bare = [
        f"{path} {'/'.join(a.option_strings) or a.dest}"
        for path, a in actions
        if not a.help or not str(a.help).strip()
    ]
    assert bare == []


def test_completion_scripts_name_every_command_and_parse_in_bash() -> None:
    tree = command_tree(build_parser())
    assert {"mission", "replay", "audit", "completion"} <= set(tree[""])
    assert "--at-event" in tree[" replay"] and "--repo" in tree[" audit who"]
    for shell in ("bash", "zsh"):
        got = swarm(ROOT, "completion", shell)
        assert got.returncode == 0, got.stderr
        assert '" mission rename") words="' in got.stdout
    script = swarm(ROOT, "completion", "bash").stdout
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    # And it completes: the sub-commands of `swarm mission re`.
    probe = script + 'COMP_WORDS=(swarm mission re); COMP_CWORD=2; _swarm; echo "${COMPREPLY[@]}"\n'
    done = subprocess.run(["bash", "-c", probe], text=True, capture_output=True)
    assert done.stdout.split() == ["rename", "resume"], done.stderr


def test_swarm_cache_dir_moves_the_sandbox_cache_of_every_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sandbox

    monkeypatch.setenv("SWARM_CACHE_DIR", str(tmp_path / "cache"))
    assert sandbox.default_cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("SWARM_CACHE_DIR")
    assert sandbox.default_cache_dir() != tmp_path / "cache"


def test_replay_diff_keeps_the_repository_named_before_the_action(
    mission_repo: dict[str, Any],
) -> None:
    repo: Path = mission_repo["repo"]
    first = json.loads(swarm(repo, "audit", "events", "--limit", "2", "--json").stdout)[-1]
    elsewhere = mission_repo["base"]  # the event after project_created: the sample, imported
    diff = swarm(elsewhere, "replay", "--repo", str(repo), "diff", "--from", first["versionstamp"], "--to", "-0s")  # fmt: skip
    assert diff.returncode == 0, diff.stderr
    assert "+++ b/shop/pricing.py" in diff.stdout and "+def compute_order_total" in diff.stdout


def test_open_ledger_without_create_refuses_a_missing_or_empty_file(tmp_path: Path) -> None:
    import ledger

    empty = tmp_path / "empty.sqlite"
    empty.touch()
    for path in (tmp_path / "absent.sqlite", empty):
        with pytest.raises(ledger.NoLedger, match=f"no ledger at {path}"):
            ledger.open_ledger(f"sqlite://{path}", create=False)
    assert empty.stat().st_size == 0 and not (tmp_path / "absent.sqlite").exists()
    with ledger.open_ledger(f"sqlite://{tmp_path / 'made.sqlite'}") as led:
        led.create_tenant("t")
    with ledger.open_ledger(f"sqlite://{tmp_path / 'made.sqlite'}", create=False) as led:
        assert "t" in led.tenants()
