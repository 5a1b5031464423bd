"""`swarm sync`, `sync status` and `sync resolve`, run in-process on real sqlite files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ledger
from swarm.cli import main
from tests.sync._helpers import change, fill, sync_token

T, P = "acme", "shop"


@pytest.fixture
def urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """An edge with 60 events and a hub holding a sync token for the tenant, which the
    commands read from $SWARM_SYNC_TOKEN."""
    edge_url = f"sqlite://{tmp_path / 'edge.sqlite'}"
    with ledger.open_ledger(edge_url) as edge:
        edge.create_tenant(T)
        edge.create_project(T, P)
        fill(edge, T, P, 60)
    hub_url = f"sqlite://{tmp_path / 'hub.sqlite'}"
    token = sync_token(hub_url, T, tmp_path).read_text().strip()
    monkeypatch.setenv("SWARM_SYNC_TOKEN", token)
    return edge_url, hub_url


def test_sync_prints_what_it_shipped_and_progress_on_stderr(
    urls: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    edge, hub = urls
    assert main(["sync", "--from", edge, "--to", hub, "--batch", "25"]) == 0
    out, err = capsys.readouterr()
    assert f"{T}/{P}: " in out and "events shipped" in out
    assert err.count("shipped, cursor") >= 3  # one progress line per batch


def test_sync_json_then_status_json(
    urls: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    edge, hub = urls
    assert main(["sync", "--from", edge, "--to", hub, "--json"]) == 0
    shipped = json.loads(capsys.readouterr().out)
    assert shipped["landed"] > 60 and shipped["projects"][0]["conflicts"] == []
    assert main(["sync", "status", "--from", edge, "--to", hub, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["projects"]
    assert row["pending"] == 0 and row["shipped_to"] == shipped["projects"][0]["cursor"]
    assert main(["sync", "status", "--from", edge, "--to", hub]) == 0
    assert "0 pending" in capsys.readouterr().out


def test_conflict_exit_status_and_resolve(
    urls: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edge, hub = urls
    assert main(["sync", "--from", edge, "--to", hub, "--quiet"]) == 0
    with ledger.open_ledger(hub) as h:
        h.append(T, P, [change(h, T, P, "src/m0.py", b"hub edit\n")])
    with ledger.open_ledger(edge) as e:
        e.append(T, P, [change(e, T, P, "src/m0.py", b"edge edit\n")])
    capsys.readouterr()
    assert main(["sync", "--from", edge, "--to", hub, "--quiet"]) == 3
    assert "CONFLICT src/m0.py" in capsys.readouterr().out
    assert main(["sync", "status", "--from", edge, "--to", hub, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["projects"]
    (conflict,) = row["open_conflicts"]
    args = ["--ledger", hub, "--tenant", T, "--project", P, "--by", "human:alice"]
    assert main(["sync", "resolve", conflict["conflict_id"], *args]) == 0
    assert main(["sync", "status", "--from", edge, "--to", hub, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out.split("\n", 1)[1])["projects"]
    assert row["open_conflicts"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sync", "--from", "memory:"], "needs --to HUB_URL"),
        (
            ["sync", "--from", "sqlite:///tmp/x.sqlite", "--to", "sqlite:///tmp/x.sqlite"],
            "same ledger",
        ),
        (["sync", "--from", "memory:", "--to", "nope:x"], "unknown scheme 'nope'"),
        (["sync", "--from", "memory:", "--to", "memory:", "--batch", "0"], "batch_events"),
        (["sync", "status", "--from", "memory:"], "--to URL or --hub-name"),
        (
            ["sync", "--from", "memory:", "--to", "memory:", "--tenant", "ghost"],
            "no sync token",
        ),
    ],
)
def test_cli_refusals_name_the_problem(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SWARM_SYNC_TOKEN", raising=False)
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_sync_reads_the_token_file_and_names_a_tenant_it_does_not_cover(
    urls: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edge, hub = urls
    monkeypatch.delenv("SWARM_SYNC_TOKEN")
    other = sync_token(hub, "beta", tmp_path)
    assert main(["sync", "--from", edge, "--to", hub, "--token-file", str(other)]) == 0
    out = capsys.readouterr().out
    assert "acme: not shipped" in out and "covers beta only" not in out
    assert (
        main(["sync", "--from", edge, "--to", hub, "--token-file", str(other), "--tenant", T]) == 2
    )
    assert "tenant 'acme':" in capsys.readouterr().err
