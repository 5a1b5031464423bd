"""The coder's loop against the scripted model server (the HTTP seam): real ledger, real
sandbox, real tests; the model's answers come from each test's script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ledger
from proto.swarm.v1 import model_pb2 as mp
from swarm.brain import EditRequest
from swarm.missions import MissionOptions, MissionReport, load_view, run_mission, start_mission
from tests._model_server import ModelServer, Reply, completion, stream
from tests.swarm.missions._loop_repo import (
    BREAKS_TOTAL,
    FIX,
    NOT_APPLYING,
    REWORDS,
    SHOP,
    TEST_MESSAGE,
    block,
    write_loop_repo,
)

TENANT, PROJECT = "acme", "calc"


def _run(
    led: ledger.Ledger,
    repo: Path,
    server: ModelServer,
    request: EditRequest,
    **options: Any,
) -> tuple[str, MissionReport]:
    opts = MissionOptions(**{"coders": 1, "backoff_s": 0.0, **options})
    settings = {"base_url": server.url, "model": "scripted", "timeout_s": 60.0}
    mid = start_mission(
        led, TENANT, PROJECT, repo, request, brain="openai", brain_settings=settings, options=opts
    )
    return mid, run_mission(led, TENANT, PROJECT, mid)


def _rounds(led: ledger.Ledger, mid: str) -> list[mp.ModelRound]:
    view = load_view(led, TENANT, PROJECT, mid)
    return [
        mp.ModelRound.FromString(led.get_blob(TENANT, d.event.decision.detail.sha256))
        for d in view.decision("coder.round")
    ]


@pytest.fixture
def server() -> Iterator[ModelServer]:
    """A fresh scripted model server (tests/_model_server.py) for one test."""
    scripted = ModelServer()
    yield scripted
    scripted.close()


@pytest.fixture
def led(tmp_path: Path) -> Any:
    with ledger.open_ledger(f"sqlite://{tmp_path / 'ledger.sqlite'}") as opened:
        yield opened


def test_an_answer_that_does_not_apply_is_fed_back_and_the_second_round_fixes_the_bug(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    server.script(completion(NOT_APPLYING), completion(FIX))
    mid, report = _run(led, repo, server, EditRequest("fix", {}))
    assert report.ok, report.reason
    assert "if quantity <= 0:" in (repo / "calc/shop.py").read_text()
    assert len(server.requests) == 2
    second = server.requests[1].messages
    assert second[-2] == {"role": "assistant", "content": NOT_APPLYING}
    feedback = second[-1]["content"]
    assert "did not apply" in feedback and "if qty < 0:" in feedback
    assert "if quantity < 0:" in feedback  # the closest real line, quoted back
    rounds = _rounds(led, mid)
    assert [r.outcome for r in rounds] == [
        mp.ROUND_OUTCOME_DID_NOT_APPLY,
        mp.ROUND_OUTCOME_PASSED,
    ]
    assert rounds[0].feedback == feedback
    # Every exchange is on the record with its tokens; the mission adds them up.
    calls = load_view(led, TENANT, PROJECT, mid).decision("model.exchange")
    assert [c.event.decision.attributes["prompt_tokens"] for c in calls] == ["11", "11"]
    assert report.model_usage == {
        "calls": 2,
        "prompt_tokens": 22,
        "completion_tokens": 14,
        "estimated": False,
    }


def test_a_failing_test_is_fed_back_with_its_message_and_the_fix_passes(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo", with_failing_test=False)
    server.script(completion(BREAKS_TOTAL), completion(FIX))
    prompt = "line_total in calc/shop.py must refuse a quantity of zero"
    mid, report = _run(led, repo, server, EditRequest("ask", {"prompt": prompt}))
    assert report.ok, report.reason
    text = (repo / "calc/shop.py").read_text()
    assert "if quantity <= 0:" in text and "+ 1" not in text
    feedback = server.requests[1].messages[-1]["content"]
    assert "test_total" in feedback and "7.0 != 6.0" in feedback
    rounds = _rounds(led, mid)
    assert rounds[0].outcome == mp.ROUND_OUTCOME_TESTS_FAILED
    assert any("test_total" in name for name in rounds[0].failing_tests)
    # The first request was built for the task: it shows the file to change in full.
    first = server.requests[0].messages[1]["content"]
    assert prompt in first and SHOP in first


@pytest.mark.parametrize(
    ("policy", "said", "calls"),
    [
        ("max-rounds:2", "budget spent: 2 of 2 round(s) used (max-rounds:2)", 2),
        ("max-tokens:30", "budget spent: 36 of 30 token(s) used (max-tokens:30)", 2),
        # The loop's clock starts before its first call: a microsecond is spent before it.
        ("max-wall:1e-06", "s used (max-wall:1e-06)", 0),
    ],
)
def test_a_spent_budget_fails_the_mission_with_its_reason_and_changes_nothing(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer, policy: str, said: str, calls: int
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    server.script(completion(NOT_APPLYING), completion(NOT_APPLYING.replace("qty", "n")))
    mid, report = _run(led, repo, server, EditRequest("fix", {}), policies=(policy,))
    assert report.outcome == "failed"
    why = report.failed_tickets["model"]
    assert said in why
    if calls:
        assert "the edit did not apply" in why  # the last round, said
    assert len(server.requests) == calls  # no further call
    assert (repo / "calc/shop.py").read_text() == SHOP
    denial = load_view(led, TENANT, PROJECT, mid).decision("policy.deny")
    assert denial and policy in denial[0].event.decision.rationale


def test_a_proposal_identical_to_a_failed_one_is_not_run_again(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo", with_failing_test=False)
    server.script(completion(BREAKS_TOTAL), completion(BREAKS_TOTAL), completion(FIX))
    mid, report = _run(led, repo, server, EditRequest("ask", {"prompt": "refuse zero"}))
    assert report.ok, report.reason
    rounds = _rounds(led, mid)
    assert [r.outcome for r in rounds] == [
        mp.ROUND_OUTCOME_TESTS_FAILED,
        mp.ROUND_OUTCOME_DUPLICATE,
        mp.ROUND_OUTCOME_PASSED,
    ]
    assert rounds[1].duplicate_of == 1 and not rounds[1].tests_event_id
    assert "same edit as your answer in round 1" in server.requests[2].messages[-1]["content"]
    view = load_view(led, TENANT, PROJECT, mid)
    assert not [d for d in view.decisions if d.event.event_id.endswith(".round2.tests")]


def test_a_malformed_answer_is_recorded_as_a_failed_exchange_and_the_turn_is_sent_again(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    server.script(Reply(body=b"this is not json"), completion(FIX))
    mid, report = _run(led, repo, server, EditRequest("fix", {}))
    assert report.ok, report.reason
    calls = load_view(led, TENANT, PROJECT, mid).decision("model.exchange")
    assert [c.event.decision.outcome for c in calls] == ["failed", "answered"]
    first, second = (r.messages for r in server.requests)
    assert first == second  # nothing to feed back: the same turn again


@pytest.mark.parametrize("point", [".model.a1.round1.call", ".model.a1.round1"])
def test_a_loop_killed_mid_way_resumes_without_asking_the_model_again_for_recorded_rounds(
    tmp_path: Path, server: ModelServer, point: str
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    db = tmp_path / "ledger.sqlite"
    server.script(completion(NOT_APPLYING), completion(FIX))
    child = Path(__file__).with_name("_loop_child.py")
    env = {**os.environ, "SWARM_TEST_KILL_AT": f"after-event:{point}"}
    mid = "m00100b0000a"
    done = subprocess.run(
        [sys.executable, str(child), str(db), str(repo), server.url, mid, "fix"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert len(server.requests) == 1  # round 1 was asked, and recorded, before the kill
    with ledger.open_ledger(f"sqlite://{db}") as led:
        report = run_mission(led, TENANT, PROJECT, mid)
        assert report.ok, report.reason
        rounds = _rounds(led, mid)
    # The resumed run asked only for round 2, and told the model what round 1 came to.
    assert len(server.requests) == 2
    assert "did not apply" in server.requests[1].messages[-1]["content"]
    assert [r.round for r in rounds] == [1, 2]
    assert "if quantity <= 0:" in (repo / "calc/shop.py").read_text()


def test_an_edit_cpython_will_not_compile_is_fed_back_though_it_parses(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    import ast

    late_future = block(
        "def line_total(price, quantity):\n",
        "LIMIT = 3\nfrom __future__ import annotations\n\n\ndef line_total(price, quantity):\n",
    )
    late = SHOP.replace(
        "def line_total", "LIMIT = 3\nfrom __future__ import annotations\ndef line_total"
    )
    ast.parse(late)  # the check ast.parse would make lets it through; compile() does not
    server.script(completion(late_future), completion(FIX))
    mid, report = _run(
        led, repo := write_loop_repo(tmp_path / "repo"), server, EditRequest("fix", {})
    )
    assert report.ok, report.reason
    rounds = _rounds(led, mid)
    assert rounds[0].outcome == mp.ROUND_OUTCOME_SYNTAX_ERROR
    feedback = server.requests[1].messages[-1]["content"]
    assert "calc/shop.py no longer compiles" in feedback
    assert "from __future__ imports must occur at the beginning of the file" in feedback
    assert "LIMIT" not in (repo / "calc/shop.py").read_text()


def test_a_change_the_whole_suite_rejects_goes_back_to_the_loop_with_the_critics_reason(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    (repo / "tests/test_message.py").write_text(TEST_MESSAGE)
    server.script(completion(REWORDS), completion(FIX))
    mid, report = _run(led, repo, server, EditRequest("fix", {}))
    assert report.ok, report.reason
    assert report.tests["verdicts"] == ["reject", "accept"]
    view = load_view(led, TENANT, PROJECT, mid)
    ids = [d.event.event_id.removeprefix(mid) for d in view.decision("coder.round")]
    assert ids == [".model.a1.round1", ".model.a2.round1"]  # each attempt its own rounds
    text = (repo / "calc/shop.py").read_text()
    assert "if quantity <= 0:" in text and "quantity must be positive" in text
    second = server.requests[1].messages
    assert second[-2]["content"] == REWORDS  # its passing answer, then why it was rejected
    assert "whole suite then ran" in second[-1]["content"]
    assert "test_the_error_message_is_kept" in second[-1]["content"]


def test_an_answer_cut_off_by_max_tokens_is_told_so(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    server.script(completion(NOT_APPLYING[:60], finish="length"), completion(FIX))
    _mid, report = _run(led, repo, server, EditRequest("fix", {}))
    assert report.ok, report.reason
    assert "cut off at the answer's token limit" in server.requests[1].messages[-1]["content"]


def test_a_call_that_times_out_is_cancelled_recorded_and_its_turn_sent_again(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    # The model starts answering, then stalls until the client hangs up.
    server.script(stream(["Here is"], hold_after=1, until_hangup=True), completion(FIX))
    opts = MissionOptions(coders=1, backoff_s=0.0)
    settings = {"base_url": server.url, "model": "scripted", "timeout_s": 1.0}
    mid = start_mission(
        led, TENANT, PROJECT, repo, EditRequest("fix", {}), brain="openai",
        brain_settings=settings, options=opts,
    )  # fmt: skip
    report = run_mission(led, TENANT, PROJECT, mid)
    assert report.ok, report.reason
    assert server.disconnected.is_set()  # the stalled call was cancelled on the server
    calls = load_view(led, TENANT, PROJECT, mid).decision("model.exchange")
    assert [c.event.decision.attributes["error_kind"] for c in calls] == ["timeout", ""]
    assert "read timeout of 1s ran out" in calls[0].event.decision.rationale
    assert _rounds(led, mid)[0].outcome == mp.ROUND_OUTCOME_MODEL_ERROR
    first, second = (r.messages for r in server.requests)
    assert first == second


def test_an_answer_with_no_edit_in_it_is_recorded_and_told_what_was_expected(
    led: ledger.Ledger, tmp_path: Path, server: ModelServer
) -> None:
    repo = write_loop_repo(tmp_path / "repo")
    server.script(completion("You should compare with <= instead of <."), completion(FIX))
    mid, report = _run(led, repo, server, EditRequest("fix", {}))
    assert report.ok, report.reason
    assert _rounds(led, mid)[0].outcome == mp.ROUND_OUTCOME_NO_EDIT
    feedback = server.requests[1].messages[-1]["content"]
    assert "the answer holds no edit" in feedback and "<<<<<<< SEARCH" in feedback
