"""The planner: a model turns a goal into a plan of coder tickets, validated like every plan.

A ``plan`` mission's scout ticket is worked here instead of by the rules scout.
The model is asked for a JSON plan (:data:`PLAN_SCHEMA`): tickets that each
change one file, what they read, the symbols they touch, what they wait for and
the tests that accept them. The answer is checked against the repository
(unknown files, paths the guard refuses, two independent tickets on one file,
test ids in no file) and then by :func:`validate_plan` with the mission's
policies (cycles, missing dependencies, duplicate ids, protected paths), the
check every plan passes. An invalid plan goes back to the model with every
problem, at most ``plan_answers`` times in all; then the ticket fails with the
last problems as its reason.

Every answer is a ``planner.exchange`` Decision, every refusal a
``planner.refused`` Decision (a :class:`PlanRefusal`), and the accepted plan a
``planner.plan`` Decision (a :class:`ModelPlan`) in the same append as its
tickets, so the whole plan is recorded before any of them can run. A resumed
run reads recorded answers back instead of asking again.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proto.swarm.v1 import plan_pb2 as ppb
from swarm.missions._errors import InvalidPlan, MissionError
from swarm.missions._options import MissionOptions
from swarm.missions._plan import Plan, Policy, Ticket, validate_plan

#: The most answers a planner may give for one plan unless the request says otherwise.
DEFAULT_PLAN_ANSWERS = 3
#: The most tickets one plan may hold: a plan is for a request a person can review.
MAX_TICKETS = 20
#: A planned ticket's id in the mission is this prefix and the model's id.
TICKET_PREFIX = "plan-"

_MODEL_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_LIST_FIELDS = ("reads", "symbols", "depends_on", "tests")

#: What the model is asked to answer with (shown to it verbatim).
PLAN_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["tickets"],
    "properties": {
        "summary": {"type": "string"},
        "tickets": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TICKETS,
            "items": {
                "type": "object",
                "required": ["id", "goal", "path"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"},
                    "goal": {"type": "string"},
                    "path": {"type": "string", "description": "the one file it changes"},
                    "reads": {"type": "array", "items": {"type": "string"}},
                    "symbols": {"type": "array", "items": {"type": "string"}},
                    "depends_on": {"type": "array", "items": {"type": "string"}},
                    "tests": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}

SYSTEM_PROMPT = f"""You plan changes to a repository for coders who work in parallel.
Split the goal into tickets. Each ticket changes exactly one existing file ("path"), says
what to do there ("goal"), may list files to read ("reads"), the functions or classes it
touches ("symbols"), the ids of tickets that must be done first ("depends_on"), and the
pytest ids that show it is done ("tests", like tests/test_x.py::test_name). Tickets
that change the same file must depend on one another. Answer with one JSON object and
nothing else, following this JSON schema:
{json.dumps(PLAN_SCHEMA, indent=None)}"""


@dataclass(frozen=True, slots=True)
class PlannedTicket:
    """One ticket as the model planned it (its own id, not yet the mission's)."""

    id: str
    goal: str
    path: str
    reads: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()

    def record(self) -> ppb.PlannedTicket:
        return ppb.PlannedTicket(
            id=self.id,
            goal=self.goal,
            path=self.path,
            reads=list(self.reads),
            symbols=list(self.symbols),
            depends_on=list(self.depends_on),
            tests=list(self.tests),
        )


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    """What one answer held: its tickets and summary, or the problems that refuse it."""

    tickets: tuple[PlannedTicket, ...]
    summary: str
    problems: tuple[str, ...]


class PlanRefused(MissionError):
    """The planner's answers stayed invalid after the bound; ``problems`` are the last's."""

    def __init__(self, answers: int, problems: Sequence[str]) -> None:
        self.answers = answers
        self.problems = tuple(problems)
        listed = "; ".join(self.problems[:8])
        more = f" (and {len(self.problems) - 8} more)" if len(self.problems) > 8 else ""
        super().__init__(
            f"the planner gave no valid plan in {answers} answer(s); "
            f"the last was refused: {listed}{more}"
        )


# -- reading an answer --------------------------------------------------------------------


def extract_json(text: str) -> tuple[Any, str]:
    """The JSON object an answer holds (fenced or bare) and "", or None and why not."""
    body = text.strip()
    fence = re.search(r"```(?:json)?\s*\n(.*?)```", body, re.DOTALL)
    if fence:
        body = fence.group(1).strip()
    start, end = body.find("{"), body.rfind("}")
    if start < 0:
        return None, "the answer holds no JSON object"
    candidate = body[start : end + 1] if end > start else body[start:]
    try:
        return json.loads(candidate), ""
    except ValueError as exc:
        return None, f"the answer's JSON does not parse: {exc}"


def parse_answer(text: str) -> ModelAnswer:
    """The tickets of one answer, or every problem with its shape (nothing checked against
    the repository yet)."""
    data, why = extract_json(text)
    if why:
        return ModelAnswer((), "", (why,))
    if not isinstance(data, dict) or not isinstance(data.get("tickets"), list):
        return ModelAnswer((), "", ('the JSON object needs a "tickets" list',))
    problems: list[str] = []
    tickets = []
    for n, raw in enumerate(data["tickets"], 1):
        ticket = _ticket_of(raw, n, problems)
        if ticket is not None:
            tickets.append(ticket)
    if not data["tickets"]:
        problems.append('"tickets" is empty: a plan needs at least one ticket')
    if len(data["tickets"]) > MAX_TICKETS:
        problems.append(f"the plan has {len(data['tickets'])} tickets, at most {MAX_TICKETS}")
    summary = data.get("summary")
    return ModelAnswer(tuple(tickets), summary if isinstance(summary, str) else "", tuple(problems))


def _ticket_of(raw: object, n: int, problems: list[str]) -> PlannedTicket | None:
    """Ticket number ``n`` of the answer, its shape problems added to ``problems``."""
    if not isinstance(raw, dict):
        problems.append(f"ticket #{n} is not a JSON object")
        return None
    tid = raw.get("id")
    name = f"ticket {tid}" if isinstance(tid, str) and tid else f"ticket #{n}"
    found = len(problems)
    if not isinstance(tid, str) or not _MODEL_ID.fullmatch(tid):
        problems.append(f'{name}: "id" must be 1 to 32 letters, digits, "-" or "_"')
    path = raw.get("path")
    files = raw.get("files")  # small models often write a one-file list; it is unambiguous
    if path is None and isinstance(files, list) and len(files) == 1:
        path = files[0]
    if not isinstance(path, str) or not path.strip():
        problems.append(f'{name}: "path" must name the one file the ticket changes')
    goal = raw.get("goal")
    if not isinstance(goal, str) or not goal.strip():
        problems.append(f'{name}: "goal" must say what to do')
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_FIELDS:
        value = raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f'{name}: "{key}" must be a list of strings')
            value = []
        lists[key] = tuple(v.strip() for v in value if v.strip())
    if len(problems) > found:
        return None
    assert isinstance(tid, str) and isinstance(path, str) and isinstance(goal, str)
    return PlannedTicket(tid, goal.strip(), path.strip(), **lists)


# -- checking it against the repository and the mission -----------------------------------


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What a plan is checked against: the repository's files, the path guard, the
    mission's plan so far and its policies, and the options new tickets take."""

    files: frozenset[str]
    guard: Callable[[str], str | None]  # why the path guard refuses a path, or None
    existing: Plan
    policies: tuple[Policy, ...] = ()
    options: MissionOptions = dataclasses.field(default_factory=MissionOptions)


def check_answer(answer: ModelAnswer, ctx: PlanContext) -> list[str]:
    """Every problem with an answer: its shape, its files and tests against the repository,
    and :func:`validate_plan` (with the policies) on its tickets under the model's ids."""
    problems = list(answer.problems)
    for t in answer.tickets:
        problems += _path_problems(t, ctx)
    problems += _same_file_problems(answer.tickets)
    model_plan = Plan(
        ctx.existing.mission_id,
        tuple(
            Ticket(t.id, "coder", {"path": t.path}, depends_on=t.depends_on) for t in answer.tickets
        ),
    )
    try:
        validate_plan(model_plan, ctx.policies)
    except InvalidPlan as exc:
        problems += exc.problems
    if not problems:
        try:  # the mission's tickets as they would be recorded: the check every plan passes
            validate_plan(Plan(ctx.existing.mission_id, mission_tickets(answer, ctx)))
        except InvalidPlan as exc:
            problems += exc.problems
    return problems


def _path_problems(t: PlannedTicket, ctx: PlanContext) -> list[str]:
    problems = []
    for role, path in [("changes", t.path)] + [("reads", r) for r in t.reads]:
        refused = ctx.guard(path)
        if refused:
            problems.append(f"ticket {t.id} {role} {path!r}, which is refused: {refused}")
        elif path not in ctx.files:
            near = _near(path, ctx.files)
            problems.append(f"ticket {t.id} {role} {path}, which is not in the repository{near}")
    for test in t.tests:
        test_file = test.split("::", 1)[0]
        if test_file not in ctx.files:
            near = _near(test_file, ctx.files)
            problems.append(
                f"ticket {t.id}: test {test} names {test_file}, "
                f"which is not in the repository{near}"
            )
    return problems


def _near(path: str, files: frozenset[str]) -> str:
    close = difflib.get_close_matches(path, sorted(files), n=3, cutoff=0.75)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def _same_file_problems(tickets: Sequence[PlannedTicket]) -> list[str]:
    """Two tickets that change one file must be ordered: parallel coders would each start
    from the file as it was and the second's edit would be made against stale text."""
    after = _ancestors(tickets)
    problems = []
    for i, a in enumerate(tickets):
        for b in tickets[i + 1 :]:
            if (
                a.path == b.path
                and a.id not in after.get(b.id, ())
                and b.id not in after.get(a.id, ())
            ):
                problems.append(
                    f"tickets {a.id} and {b.id} both change {a.path}; make one depend on the other"
                )
    return problems


def _ancestors(tickets: Sequence[PlannedTicket]) -> dict[str, set[str]]:
    """Every ticket id's transitive dependencies (cycles and unknown ids tolerated)."""
    deps = {t.id: set(t.depends_on) for t in tickets}
    out: dict[str, set[str]] = {}
    for tid in deps:
        seen: set[str] = set()
        todo = list(deps[tid])
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(deps.get(d, ()))
        out[tid] = seen
    return out


def mission_tickets(answer: ModelAnswer, ctx: PlanContext) -> tuple[Ticket, ...]:
    """The mission's tickets for a valid answer: the plan so far, one coder ticket per
    planned ticket (after the scout and the baseline), and the verify ticket after all."""
    o = ctx.options
    coders = [
        Ticket(
            id=TICKET_PREFIX + t.id,
            kind="coder",
            inputs=_inputs(t),
            depends_on=("scout", "baseline", *(TICKET_PREFIX + d for d in t.depends_on)),
            retries=o.edit_retries,
            backoff_s=o.backoff_s,
            timeout_s=o.ticket_timeout_s,
        )
        for t in answer.tickets
    ]
    verify = Ticket(
        id="verify",
        kind="critic",
        inputs={"suite": "changed-then-full"},
        depends_on=tuple(t.id for t in coders),
        retries=o.critic_rounds,
        backoff_s=0.0,
        timeout_s=o.test_timeout_s,
    )
    return (*ctx.existing.tickets, *coders, verify)


def _inputs(t: PlannedTicket) -> dict[str, str]:
    """A planned ticket's inputs, in the coder loop's terms (ADR 0015: ``loop``, ``task``,
    ``paths``, ``tests``, lists one per line), with ``path`` for the policies and the
    critic, and what the plan said besides (``reads``, ``symbols``, ``planned_as``)."""
    inputs = {"loop": "1", "task": t.goal, "path": t.path, "paths": t.path, "planned_as": t.id}
    for key in ("reads", "symbols", "tests"):
        values: tuple[str, ...] = getattr(t, key)
        if values:
            inputs[key] = "\n".join(values)
    return inputs


def plan_record(goal: str, answer: ModelAnswer, answers: int, model: str) -> ppb.ModelPlan:
    """The accepted plan as it is recorded (a planner.plan Decision's detail)."""
    return ppb.ModelPlan(
        goal=goal,
        tickets=[t.record() for t in answer.tickets],
        attempts=answers,
        model=model,
        summary=answer.summary,
    )


# -- the conversation ---------------------------------------------------------------------


def first_messages(goal: str, repo_map: str) -> list[dict[str, str]]:
    """The planner's opening: the schema, the repository map and the goal."""
    user = f"Repository:\n{repo_map}\n\nGoal: {goal}\n\nAnswer with the JSON plan."
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def refusal_message(problems: Sequence[str]) -> str:
    """What the model is told when its plan is refused: every problem, and to answer again."""
    listed = "\n".join(f"- {p}" for p in problems)
    return (
        f"Your plan was refused. Problems:\n{listed}\n"
        "Answer again with the whole corrected JSON plan and nothing else."
    )


@dataclass(frozen=True, slots=True)
class Conversation:
    """How one plan was reached: the answers given, the refusals, and the accepted answer
    (None when the bound ran out)."""

    answers: tuple[str, ...]
    refusals: tuple[tuple[str, ...], ...]
    accepted: ModelAnswer | None


def converse(
    messages: list[dict[str, str]],
    ask: Callable[[int, list[dict[str, str]]], str],
    check: Callable[[ModelAnswer], list[str]],
    max_answers: int,
    on_refusal: Callable[[int, list[str]], None] | None = None,
) -> Conversation:
    """Ask for a plan, send every refused one back with its problems, at most
    ``max_answers`` answers in all. ``ask(i, messages)`` returns answer ``i`` (0-based):
    from the model, or from the record on a resume."""
    answers: list[str] = []
    refusals: list[tuple[str, ...]] = []
    for i in range(max_answers):
        text = ask(i, list(messages))
        answers.append(text)
        answer = parse_answer(text)
        problems = check(answer)
        if not problems:
            return Conversation(tuple(answers), tuple(refusals), answer)
        refusals.append(tuple(problems))
        if on_refusal is not None:
            on_refusal(i, problems)
        messages = [
            *messages,
            {"role": "assistant", "content": text},
            {"role": "user", "content": refusal_message(problems)},
        ]
    return Conversation(tuple(answers), tuple(refusals), None)


__all__ = [
    "DEFAULT_PLAN_ANSWERS",
    "MAX_TICKETS",
    "PLAN_SCHEMA",
    "TICKET_PREFIX",
    "Conversation",
    "ModelAnswer",
    "PlanContext",
    "PlanRefused",
    "PlannedTicket",
    "check_answer",
    "converse",
    "extract_json",
    "first_messages",
    "mission_tickets",
    "parse_answer",
    "plan_record",
    "refusal_message",
]
