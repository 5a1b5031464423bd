"""The planner: a model's plan is validated, sent back with its problems, and run.

Against the scripted OpenAI-compatible server (the one fake, at the HTTP seam),
a real sqlite ledger, a real copy of the sample repository and the real critic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import ledger
from proto.swarm.v1 import plan_pb2 as ppb
from swarm.brain import EditRequest
from swarm.cli import main
from swarm.missions import (
    InvalidMission,
    MissionOptions,
    load_view,
    mission_story,
    run_mission,
    start_mission,
)
from swarm.missions._plan import Plan, Ticket
from swarm.missions._plan_agent import repo_map
from swarm.missions._planner import (
    PlanContext,
    check_answer,
    mission_tickets,
    parse_answer,
)
from swarm.missions._workspace import resolve
from swarm.scout import RepoIndex
from tests._model_server import (
    ModelServer,
    Received,
    Reply,
    completion,
    model_server,  # noqa: F401  (the fixture)
    status,
)
from tests.swarm.missions.conftest import PROJECT, ROOT, TENANT, Mission

GOAL = "Say in the module docstrings what pricing and discounts each do"

PRICING_DOC = '"""Prices and totals."""'
DISCOUNTS_DOC = '"""Discount rules applied to a cart\'s subtotal."""'


def plan_json(*tickets: dict[str, Any], summary: str = "two docstrings") -> str:
    return json.dumps({"summary": summary, "tickets": list(tickets)})


def block(path: str, old: str, new: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{old}\n=======\n{new}\n>>>>>>> REPLACE\n"


INVALID = plan_json(
    {"id": "t1", "goal": "document pricing", "path": "shop/pricng.py"},
    {"id": "t2", "goal": "document discounts", "path": "shop/discounts.py", "depends_on": ["t3"]},
    {"id": "t4", "goal": "escape", "path": "../outside.py"},
)
VALID = plan_json(
    {
        "id": "t1",
        "goal": "document pricing",
        "path": "shop/pricing.py",
        "tests": ["tests/test_pricing.py"],
    },
    {"id": "t2", "goal": "document discounts", "path": "shop/discounts.py", "depends_on": ["t1"]},
)
PRICING_EDIT = block("shop/pricing.py", PRICING_DOC, '"""Prices, totals and unit prices."""')
DISCOUNTS_EDIT = block(
    "shop/discounts.py", DISCOUNTS_DOC, '"""Percent-off and best-of discount rules."""'
)


def openai(server: ModelServer) -> dict[str, Any]:
    return {"brain": "openai", "brain_settings": {"base_url": server.url, "model": "scripted"}}


def plan_request(**params: str) -> EditRequest:
    return EditRequest("plan", {"goal": GOAL, **params})


# -- the answer's checks, without a mission ------------------------------------------------


def context(repo: Path) -> PlanContext:
    files = frozenset(p.relative_to(repo).as_posix() for p in repo.rglob("*.py"))

    def guard(path: str) -> str | None:
        try:
            resolve(repo, path)
        except InvalidMission as exc:
            return str(exc)
        return None

    existing = Plan("m000000", (Ticket("scout", "scout"), Ticket("baseline", "critic")))
    return PlanContext(files, guard, existing)


def test_every_problem_of_an_answer_is_named(repo: Path) -> None:
    problems = check_answer(parse_answer(INVALID), context(repo))
    text = "\n".join(problems)
    assert "ticket t1 changes shop/pricng.py, which is not in the repository" in text
    assert "did you mean shop/pricing.py?" in text
    assert "ticket t4 changes '../outside.py', which is refused" in text
    assert "ticket t2 depends on 't3', which is not in the plan" in text


def test_cycles_and_unordered_edits_of_one_file_are_refused(repo: Path) -> None:
    answer = parse_answer(
        plan_json(
            {"id": "a", "goal": "x", "path": "shop/cart.py", "depends_on": ["b"]},
            {"id": "b", "goal": "y", "path": "shop/orders.py", "depends_on": ["a"]},
            {"id": "c", "goal": "z", "path": "shop/pricing.py"},
            {"id": "d", "goal": "w", "path": "shop/pricing.py"},
        )
    )
    text = "\n".join(check_answer(answer, context(repo)))
    assert "dependency cycle: a -> b -> a" in text
    assert "tickets c and d both change shop/pricing.py; make one depend on the other" in text


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("I would change pricing first.", "the answer holds no JSON object"),
        ('{"tickets": [', "the answer's JSON does not parse"),
        ('{"plan": []}', 'the JSON object needs a "tickets" list'),
        ('{"tickets": []}', '"tickets" is empty'),
        ('{"tickets": [{"id": "t1", "path": "shop/cart.py"}]}', 'ticket t1: "goal" must say'),
        ('{"tickets": [{"id": "t 1", "goal": "g", "path": "shop/cart.py"}]}', '"id" must be'),
        ('{"tickets": [{"id": "t1", "goal": "g"}]}', '"path" must name the one file'),
        (
            '{"tickets": [{"id": "t1", "goal": "g", "path": "shop/cart.py", "tests": [3]}]}',
            '"tests" must be a list of strings',
        ),
    ],
)
def test_a_malformed_answer_says_what_is_wrong(repo: Path, answer: str, problem: str) -> None:
    problems = check_answer(parse_answer(answer), context(repo))
    assert any(problem in p for p in problems), problems


def test_a_valid_answer_becomes_coder_tickets_after_the_scout_and_a_verify_after_all(
    repo: Path,
) -> None:
    ctx = context(repo)
    answer = parse_answer(f"Here is the plan:\n```json\n{VALID}\n```")
    assert check_answer(answer, ctx) == []
    tickets = {t.id: t for t in mission_tickets(answer, ctx)}
    assert tickets["plan-t1"].depends_on == ("scout", "baseline")
    assert tickets["plan-t2"].depends_on == ("scout", "baseline", "plan-t1")
    assert tickets["plan-t1"].inputs["tests"] == "tests/test_pricing.py"
    assert tickets["verify"].depends_on == ("plan-t1", "plan-t2")


def test_the_repository_map_names_definitions_and_test_ids(repo: Path) -> None:
    index = RepoIndex(repo)
    index.refresh()
    text = repo_map(index)
    assert "shop/pricing.py: TAX_RATE, calculate_total, unit_price" in text
    assert "tests/test_pricing.py::PricingTest::test_unit_price," in text


# -- a plan mission ------------------------------------------------------------------------


def test_an_invalid_plan_is_sent_back_with_its_problems_and_the_repaired_plan_runs(
    model_server: ModelServer,  # noqa: F811
    mission: Mission,
    mled: ledger.Ledger,
    repo: Path,
) -> None:
    model_server.script(
        completion(INVALID),
        completion(VALID),
        completion(PRICING_EDIT),
        completion(DISCOUNTS_EDIT),
    )
    mid, report = mission(plan_request(), **openai(model_server))
    assert report.ok, report.reason
    assert report.verdict == "accepted"
    assert sorted(report.files_changed) == ["shop/discounts.py", "shop/pricing.py"]
    assert "Prices, totals and unit prices." in (repo / "shop/pricing.py").read_text()

    first, second, *coders = model_server.requests
    assert len(coders) == 2
    assert f"Goal: {GOAL}" in first.messages[-1]["content"]
    assert '"required": ["id", "goal", "path"]' in first.messages[0]["content"]
    assert [m["role"] for m in second.messages] == ["system", "user", "assistant", "user"]
    assert second.messages[2]["content"] == INVALID
    feedback = second.messages[3]["content"]
    assert "Your plan was refused" in feedback
    assert "shop/pricng.py, which is not in the repository (did you mean shop/pricing.py?)" in (
        feedback
    )
    assert "ticket t2 depends on 't3', which is not in the plan" in feedback
    assert "'../outside.py', which is refused" in feedback
    # Each coder has its own conversation: its own goal and file, nothing of the other's.
    assert "document pricing" in coders[0].messages[-1]["content"]
    assert "document discounts" not in coders[0].messages[-1]["content"]
    assert "document discounts" in coders[1].messages[-1]["content"]
    assert "shop/discounts.py" in coders[1].messages[-1]["content"]

    view = load_view(mled, TENANT, PROJECT, mid)
    (refused,) = view.decision("planner.refused")
    sent = ppb.PlanRefusal.FromString(mled.get_blob(TENANT, refused.event.decision.detail.sha256))
    assert "\n".join(f"- {p}" for p in sent.problems) in feedback
    (plan,) = view.decision("planner.plan")
    recorded = ppb.ModelPlan.FromString(mled.get_blob(TENANT, plan.event.decision.detail.sha256))
    assert [t.id for t in recorded.tickets] == ["t1", "t2"]
    assert recorded.attempts == 2 and recorded.goal == GOAL
    assert len(view.decision("planner.exchange")) == 2
    # The coders' calls: the one-round coder's coder.exchange, or the loop's model.exchange.
    assert len(view.decision("coder.exchange") + view.decision("model.exchange")) == 2
    _plan_lands_before_any_coder(mled, mid, plan.event.event_id)

    story = mission_story(mled, TENANT, PROJECT, view)
    dag = {t["id"]: t for t in story["dag"]}
    assert dag["plan-t2"]["depends_on"] == ["scout", "baseline", "plan-t1"]
    assert dag["plan-t1"]["inputs"]["task"] == "document pricing"
    assert dag["plan-t1"]["inputs"]["loop"] == "1"
    assert dag["plan-t1"]["inputs"]["paths"] == "shop/pricing.py"
    whats = [line["what"] for line in story["story"]]
    assert any(w.startswith("planner.refused -> refused") for w in whats)
    assert any(w.startswith("planner.plan -> planned: 2 ticket(s) in 2 answer(s)") for w in whats)


def test_mission_show_tells_the_plan(
    model_server: ModelServer,  # noqa: F811
    mission: Mission,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model_server.script(completion(INVALID), completion(VALID))
    model_server.script(completion(PRICING_EDIT), completion(DISCOUNTS_EDIT))
    mid, report = mission(plan_request(), run_tests=False, **openai(model_server))
    assert report.ok, report.reason
    where = ["--ledger", f"sqlite://{tmp_path / 'ledger.sqlite'}", "--tenant", TENANT]
    assert main(["mission", "show", mid, *where, "--project", PROJECT]) == 0
    shown = capsys.readouterr().out
    assert "plan-t1" in shown and "plan-t2" in shown
    assert "planner.refused -> refused: plan refused and sent back (3 problem(s))" in shown
    assert "planner.plan -> planned: 2 ticket(s) in 2 answer(s): t1: shop/pricing.py" in shown


def _plan_lands_before_any_coder(led: ledger.Ledger, mid: str, plan_event: str) -> None:
    """The plan Decision and every planned ticket share one append, before any claim."""
    events = [r for r in led.iter_events(TENANT, PROJECT, after=None) if r.event.mission_id == mid]
    at = {r.event.event_id: r.versionstamp for r in events}
    plan_at = at[plan_event]
    planned = [r for r in events if r.event.event_id.endswith(".planned")]
    for r in planned:
        if r.event.ticket.ticket_id.startswith("plan-") or r.event.ticket.ticket_id == "verify":
            assert r.versionstamp.raw[:10] == plan_at.raw[:10]
    claims = [r for r in events if ".plan-" in r.event.event_id and ".claim." in r.event.event_id]
    assert claims and all(r.versionstamp > plan_at for r in claims)


def test_after_the_bound_the_plan_is_refused_with_the_last_problems(
    model_server: ModelServer,  # noqa: F811
    mission: Mission,
    mled: ledger.Ledger,
    repo: Path,
) -> None:
    before = (repo / "shop/pricing.py").read_bytes()
    model_server.script(completion(INVALID), completion("I cannot plan this."))
    mid, report = mission(plan_request(plan_answers="2"), **openai(model_server))
    assert not report.ok
    assert report.reason.startswith("ticket scout failed: the planner gave no valid plan")
    assert "in 2 answer(s)" in report.reason
    assert "the answer holds no JSON object" in report.reason
    assert len(model_server.requests) == 2  # the bound: no third question
    assert "Your plan was refused" in model_server.requests[1].messages[-1]["content"]
    view = load_view(mled, TENANT, PROJECT, mid)
    assert len(view.decision("planner.refused")) == 2
    assert not view.decision("planner.plan")
    assert not [t for t in view.tickets if t.startswith("plan-")]
    assert (repo / "shop/pricing.py").read_bytes() == before


def test_a_model_error_is_recorded_and_fails_the_plan_with_its_reason(
    model_server: ModelServer,  # noqa: F811
    mission: Mission,
    mled: ledger.Ledger,
) -> None:
    model_server.script(status(400, "context length exceeded"))
    mid, report = mission(plan_request(), **openai(model_server))
    assert not report.ok
    assert "context length exceeded" in report.reason
    view = load_view(mled, TENANT, PROJECT, mid)
    (failed,) = view.decision("planner.failed-exchange")
    assert "context length exceeded" in failed.event.decision.rationale


@pytest.mark.parametrize(
    ("brain", "params", "problem"),
    [
        ("rules", {}, "a plan mission needs a model"),
        ("openai", {"plan_answers": "0"}, "plan_answers '0' must be a whole number from 1"),
        ("openai", {"plan_answers": "lots"}, "plan_answers 'lots' must be a whole number"),
    ],
)
def test_a_plan_that_could_never_run_is_refused_before_anything_is_written(
    model_server: ModelServer,  # noqa: F811
    mission: Mission,
    mled: ledger.Ledger,
    brain: str,
    params: dict[str, str],
    problem: str,
) -> None:
    settings = openai(model_server) if brain == "openai" else {"brain": "rules"}
    with pytest.raises(InvalidMission, match=problem):
        mission(plan_request(**params), **settings)
    assert model_server.requests == []
    with pytest.raises(ledger.LedgerError):
        list(mled.iter_events(TENANT, PROJECT, after=None))


# -- parallel coders ---------------------------------------------------------------------


class _ThreadRequests(list[Received]):
    """The server's request list, also remembering each handler thread's own request."""

    def __init__(self) -> None:
        super().__init__()
        self.mine = threading.local()

    def append(self, item: Received) -> None:
        self.mine.request = item
        super().append(item)


class RoutedModelServer(ModelServer):
    """The scripted server, answering each request by what it asks (parallel coders'
    requests arrive in any order): ``routes`` are (text in the last message, reply)."""

    def __init__(self, routes: list[tuple[str, Reply]]) -> None:
        super().__init__()
        self.routes = routes
        self.requests = _ThreadRequests()

    def next_reply(self) -> Reply:
        assert isinstance(self.requests, _ThreadRequests)
        asked = self.requests.mine.request.messages[-1]["content"]
        for needle, reply in self.routes:
            if needle in asked:
                return reply
        return super().next_reply()


def test_independent_tickets_run_on_parallel_coders_each_in_its_own_conversation(
    mission: Mission, repo: Path
) -> None:
    independent = plan_json(
        {"id": "p", "goal": "document pricing", "path": "shop/pricing.py"},
        {"id": "d", "goal": "document discounts", "path": "shop/discounts.py"},
    )
    server = RoutedModelServer(
        [
            ("Goal: ", completion(independent)),
            ("Task: document pricing", completion(PRICING_EDIT)),
            ("Task: document discounts", completion(DISCOUNTS_EDIT)),
        ]
    )
    try:
        _, report = mission(plan_request(), coders=2, run_tests=False, **openai(server))
    finally:
        server.close()
    assert report.ok, report.reason
    assert sorted(report.files_changed) == ["shop/discounts.py", "shop/pricing.py"]
    coders = server.requests[1:]
    assert len(coders) == 2
    for r in coders:
        assert [m["role"] for m in r.messages] == ["system", "user"]
        asked = r.messages[-1]["content"]
        assert ("document pricing" in asked) != ("document discounts" in asked)
    assert "Percent-off and best-of discount rules." in (repo / "shop/discounts.py").read_text()


# -- a crash mid-plan -------------------------------------------------------------------------


def test_a_run_killed_mid_plan_resumes_without_asking_again_for_a_recorded_answer(
    model_server: ModelServer,  # noqa: F811
    mled: ledger.Ledger,
    repo: Path,
    tmp_path: Path,
) -> None:
    options = MissionOptions(coders=1, run_tests=False, backoff_s=0.0)
    mid = start_mission(
        mled, TENANT, PROJECT, repo, plan_request(), options=options, **openai(model_server)
    )
    # The first answer is refused; the second question is held until the child is dead.
    model_server.script(completion(INVALID), Reply(body=b"", hold_after=0))
    child = subprocess.Popen(
        [sys.executable, "-c", _RUN_CHILD, f"sqlite://{tmp_path / 'ledger.sqlite'}", mid],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120  # a guard: the child asks twice within seconds
        while len(model_server.requests) < 2:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never asked its second question"
            time.sleep(0.05)
    finally:
        child.kill()
        child.communicate()
    model_server.release.set()
    model_server.script(completion(VALID), completion(PRICING_EDIT), completion(DISCOUNTS_EDIT))

    report = run_mission(mled, TENANT, PROJECT, mid)

    assert report.ok, report.reason
    resumed = model_server.requests[2]
    # The first answer came from the record: the resumed question already holds it and
    # its refusal, and the model was not asked for it again.
    assert [m["role"] for m in resumed.messages] == ["system", "user", "assistant", "user"]
    assert resumed.messages[2]["content"] == INVALID
    assert len(model_server.requests) == 5  # 2 before the crash, the repaired plan, 2 coders
    view = load_view(mled, TENANT, PROJECT, mid)
    assert len(view.decision("planner.refused")) == 1
    assert len(view.decision("planner.exchange")) == 2


_RUN_CHILD = """
import sys
import ledger
from swarm.missions import run_mission
with ledger.open_ledger(sys.argv[1]) as led:
    run_mission(led, "acme", "shop", sys.argv[2])
"""
