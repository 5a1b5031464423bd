"""``swarm mission fix`` and ``ask`` in-process against the scripted model server: the
summary with the model's tokens, the story round by round, the flags it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarm.cli import main
from tests._model_server import ModelServer, completion
from tests.swarm.missions._loop_repo import FIX, NOT_APPLYING, SHOP, write_loop_repo


@pytest.fixture
def server() -> Iterator[ModelServer]:
    scripted = ModelServer()
    yield scripted
    scripted.close()


def test_fix_runs_the_loop_and_show_tells_it_round_by_round(
    tmp_path: Path, server: ModelServer, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    server.script(completion(NOT_APPLYING), completion(FIX))
    model = ["--model-url", server.url, "--model", "scripted", "--model-timeout", "60"]
    code = main(["mission", "fix", "--repo", str(repo), *model, "--max-tokens", "512"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "succeeded" in out and "model: 2 call(s), 22 prompt + 14 answer tokens" in out
    assert all(r.body["max_tokens"] == 512 for r in server.requests)
    mid = out.split()[1].rstrip(":")
    assert main(["mission", "show", mid, "--repo", str(repo)]) == 0
    shown = capsys.readouterr().out
    assert "a model's loop: the mission's request" in shown  # the DAG's loop ticket
    rounds = [ln for ln in shown.splitlines() if "coder.round" in ln]
    assert len(rounds) == 2
    assert "did_not_apply: round 1: the edit did not apply" in rounds[0]
    assert "passed: round 2: applied, compiles, tied tests pass" in rounds[1]
    assert main(["mission", "show", mid, "--repo", str(repo), "--json"]) == 0
    story = json.loads(capsys.readouterr().out)
    assert [s["what"].split(" ")[0] for s in story["story"]].count("model.exchange") == 2


def test_fix_refuses_bad_model_flags_before_writing_anything(
    tmp_path: Path, server: ModelServer, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    base = ["mission", "fix", "--repo", str(repo), "--model-url", server.url]
    assert main([*base]) == 2
    assert "fix needs a model: --model" in capsys.readouterr().err
    assert main([*base, "--model", "m", "--max-tokens", "9000"]) == 2
    assert "context_tokens (8192) must exceed max_tokens (9000)" in capsys.readouterr().err
    assert main([*base, "--model", "m", "--rounds", "0"]) == 2
    assert "max-rounds needs a whole number >= 1" in capsys.readouterr().err
    assert main([*base, "--model", "m", "--api-key-env", "NO_SUCH_VAR_HERE"]) == 2
    assert "NO_SUCH_VAR_HERE is not set" in capsys.readouterr().err
    assert not (repo / ".swarm").exists() and server.requests == []
    assert (repo / "calc/shop.py").read_text() == SHOP
