"""The coder's loop for model-backed tickets: ask, apply, compile, test, feed back, retry.

:func:`run_model_ticket` runs one ``coder`` ticket whose inputs hold ``loop = "1"``
(ADR 0015 lists its inputs) to DONE or FAILED:

1. the first turn is built within the model's context budget (``_context``): the
   task, the files it may change in full, a ranked repository map, lessons;
2. each round asks the model (or reads the answer a earlier run recorded), and
   records the call as a ``model.exchange`` Decision with its token usage the
   moment it returns, failed calls included;
3. the answer is judged (``_rounds``): applied to the files as the loop found
   them, compiled, and the tests the import graph ties to it run in the sandbox;
4. the round is a ``coder.round`` Decision (``ModelRound``); a failure's
   feedback is the next user turn; a proposal identical to an earlier failed one
   is not run again (the feedback says so);
5. before each round the budgets (``_budget``: rounds, tokens, wall time) may
   deny it with a reason, which fails the ticket;
6. a passing round's files are recorded under their locks, one Decision and one
   StateChange per file, then written to the workspace.

Every step has a deterministic event id, so a resumed run reads recorded calls
and rounds (``_modelcalls``) and never asks the model for them again.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import model_pb2 as mp
from swarm.brain import (
    FileEdit,
    OpenAIBrain,
)
from swarm.missions._budget import Spent, over_budget
from swarm.missions._context import build_context, estimate_tokens, memory_lessons
from swarm.missions._events import step_id
from swarm.missions._identity import AgentId
from swarm.missions._landing import land
from swarm.missions._loop import deny, fail_or_retry, finish, read_head
from swarm.missions._modelcalls import (
    answer_text,
    ask,
    decision_at,
    record_round,
    recorded_call,
    round_record,
)
from swarm.missions._plan import Ticket, parse_policy
from swarm.missions._rounds import (
    LoopTask,
    RoundResult,
    candidate,
    fingerprint,
    fingerprint_of,
    syntax_failure,
    test_round,
)
from swarm.missions._runtime import Runtime
from swarm.missions._suites import baseline_of
from swarm.missions._view import MissionView, TicketView

#: The request kinds whose missions run as a loop ticket.
LOOP_KINDS = frozenset({"ask", "fix"})
LOOP_TICKET = "model"

SYSTEM_PROMPT = """You are a careful software engineer changing a repository.
Answer with SEARCH/REPLACE blocks and nothing else but a short explanation. Each block is:

path/to/file.py
<<<<<<< SEARCH
the exact lines now in the file
=======
the lines to put in their place
>>>>>>> REPLACE

Copy the SEARCH lines exactly, with their indentation, and include just enough lines \
to find them once. Use several blocks for several places. To create a file, leave \
SEARCH empty. For a short file you may instead give its whole new text in a fenced \
block after its path. Paths are relative to the repository root."""


def is_loop_ticket(ticket: Ticket) -> bool:
    """Whether ``ticket`` is a model-backed loop ticket (``coder()`` hands it here)."""
    return ticket.kind == "coder" and ticket.inputs.get("loop") == "1"


def loop_ticket(rt: Runtime) -> Ticket:
    """The one loop ticket an ``ask`` or ``fix`` mission's scout plans."""
    return Ticket(
        id=LOOP_TICKET,
        kind="coder",
        inputs={"loop": "1"},
        depends_on=("scout", "baseline"),
        retries=0,
        backoff_s=rt.options.backoff_s,
        timeout_s=rt.options.ticket_timeout_s,
    )


@dataclass
class Conversation:
    """The loop's state: the messages of the next call, the rounds so far, what they spent."""

    messages: list[dict[str, str]]
    rounds: list[mp.ModelRound] = field(default_factory=list)
    fingerprints: dict[str, int] = field(default_factory=dict)  # failed proposal -> its round
    tokens: int = 0
    elapsed_s: float = 0.0  # wall time of earlier runs' rounds

    def spent(self, since: float) -> Spent:
        return Spent(len(self.rounds), self.tokens, self.elapsed_s + time.monotonic() - since)


def run_model_ticket(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Run one model-backed coder ticket to DONE or FAILED (see the module docstring)."""
    t = tv.ticket
    for policy in rt.policies:
        reason = policy.before(t)
        if reason:
            deny(rt, tv, agent, reason, "before")
            return
    brain = coder_brain(rt)
    if isinstance(brain, str):
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=brain)
        return
    task = loop_task(rt, view, t)
    if isinstance(task, str):
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=task)
        return
    read = _Files(rt)
    convo = (
        replayed(rt, view, tv) or after_rejection(rt, view, tv) or first_turn(rt, brain, task, read)
    )
    _rounds(rt, view, tv, agent, brain, task, convo, read)


@dataclass
class _Files:
    """The files as the loop first read them from the ledger's heads (None: absent)."""

    rt: Runtime
    seen: dict[str, str | None] = field(default_factory=dict)

    def __call__(self, path: str) -> str:
        if path not in self.seen:
            _, data = read_head(self.rt, path)
            self.seen[path] = data.decode("utf-8") if data is not None else None
        text = self.seen[path]
        if text is None:
            raise FileNotFoundError(path)
        return text


def _rounds(
    rt: Runtime,
    view: MissionView,
    tv: TicketView,
    agent: AgentId,
    brain: OpenAIBrain,
    task: LoopTask,
    convo: Conversation,
    read: _Files,
) -> None:
    """Round after round until one passes or a budget says stop."""
    since = time.monotonic()
    budgets = [parse_policy(s) for s in _budget_specs(rt, tv.ticket)]
    last = convo.rounds[-1] if convo.rounds else None
    while last is None or last.outcome != mp.ROUND_OUTCOME_PASSED:
        reason = over_budget(budgets, convo.spent(since))
        if reason:
            tail = f"; the last round: {last.summary}" if last is not None else ""
            deny(rt, tv, agent, reason + tail, "budget")
            return
        if rt.stop.is_set():
            return  # the mission is stopping; a resume picks up from the recorded rounds
        n = len(convo.rounds) + 1
        outcome = one_round(rt, view, tv, agent, brain, task, convo, read, n, since)
        if isinstance(outcome, str):
            fail_or_retry(rt, tv, agent, outcome, retryable=False)
            return
        last = convo.rounds[-1]
    edits = _passed_edits(rt, tv, task, convo, read)
    land(rt, tv, agent, edits, _usage_summary(convo), len(convo.rounds), read.seen)


def one_round(
    rt: Runtime,
    view: MissionView,
    tv: TicketView,
    agent: AgentId,
    brain: OpenAIBrain,
    task: LoopTask,
    convo: Conversation,
    read: _Files,
    n: int,
    since: float,
) -> str | None:
    """Ask (or read the recorded answer), judge, record the round, extend the conversation.
    A reason string when the ticket must end (the endpoint is gone)."""
    call = recorded_call(rt, view, tv, n) or ask(rt, tv, agent, brain, convo.messages, n)
    usage = call.usage
    convo.tokens += usage.prompt_tokens + usage.completion_tokens
    answer = answer_text(call)
    if call.error and call.error_kind in ("unreachable", "http"):
        return f"the model failed in round {n}: {call.error}"
    if call.error:
        result = RoundResult(
            mp.ROUND_OUTCOME_MODEL_ERROR,
            f"the model call failed: {call.error}",
            "",  # nothing to tell the model: the same turn is sent again
        )
    else:
        result = judge_answer(rt, view, tv, task, convo, answer, read, n)
    if call.error_kind == "truncated" and not result.passed and result.feedback:
        cut = "\n(Your answer was cut off at the answer's token limit: answer shorter, with "
        result = dataclasses.replace(result, feedback=result.feedback + cut + "only the blocks.)")
    record = round_record(n, result, usage, convo.elapsed_s + time.monotonic() - since)
    record_round(rt, tv, agent, record)
    remember(convo, record, call, answer)
    return None


def judge_answer(
    rt: Runtime,
    view: MissionView,
    tv: TicketView,
    task: LoopTask,
    convo: Conversation,
    answer: str,
    read: _Files,
    n: int,
) -> RoundResult:
    """Apply, compile and test one answer; a repeat of a failed proposal is not re-run."""
    edits = candidate(rt, task, answer, read)
    if isinstance(edits, RoundResult):
        return edits
    seen = convo.fingerprints.get(fingerprint(edits))
    if seen is not None:
        earlier = convo.rounds[seen - 1]
        return RoundResult(
            mp.ROUND_OUTCOME_DUPLICATE,
            f"the same edit as round {seen}, which failed; not run again",
            f"This is the same edit as your answer in round {seen}, which failed "
            f"({earlier.summary}). It was not run again. Make a different change.",
            edits=edits,
            duplicate_of=seen,
        )
    failed = syntax_failure(edits)
    if failed is not None:
        return failed
    step = step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"round{n}.tests")
    return test_round(rt, view, tv.ticket.id, step, task, edits)


def remember(convo: Conversation, record: mp.ModelRound, call: mp.ModelCall, answer: str) -> None:
    """Add a judged round to the conversation: its answer and feedback become turns."""
    convo.rounds.append(record)
    convo.elapsed_s = record.elapsed_s
    if record.outcome != mp.ROUND_OUTCOME_PASSED and record.files:
        key = fingerprint_of([(f.path, f.new_sha256) for f in record.files])
        convo.fingerprints.setdefault(key, record.round)
    sent = json.loads(call.request_json).get("messages", []) if call.request_json else []
    convo.messages = list(sent) or convo.messages
    if record.feedback:
        convo.messages += [
            {"role": "assistant", "content": answer},
            {"role": "user", "content": record.feedback},
        ]


def replayed(
    rt: Runtime, view: MissionView, tv: TicketView, attempt: int | None = None
) -> Conversation | None:
    """The conversation as the recorded rounds of this attempt (or ``attempt``) left it
    (None: no round was recorded)."""
    a = tv.attempt if attempt is None else attempt
    convo = Conversation(messages=[])
    n = 1
    while True:
        rid = step_id(rt.mission_id, tv.ticket.id, a, f"round{n}")
        d = decision_at(rt, view, rid)
        call = recorded_call(rt, view, tv, n, a)
        if d is None or call is None:
            break
        rec = mp.ModelRound.FromString(rt.led.get_blob(rt.tenant, d.detail.sha256))
        convo.tokens += call.usage.prompt_tokens + call.usage.completion_tokens
        remember(convo, rec, call, answer_text(call))
        n += 1
    return convo if convo.rounds else None


def after_rejection(rt: Runtime, view: MissionView, tv: TicketView) -> Conversation | None:
    """A retried attempt's opening: the conversation of the attempt before, its passing
    answer, and the critic's rejection of it (the whole suite ran what the tie did not)."""
    if tv.attempt <= 1:
        return None
    earlier = replayed(rt, view, tv, tv.attempt - 1)
    if earlier is None:
        return None
    last = recorded_call(rt, view, tv, earlier.rounds[-1].round, tv.attempt - 1)
    why = next(
        (r for state, a, r in reversed(tv.history) if state == "retry" and a == tv.attempt), ""
    )
    feedback = (
        f"Your change passed the tests tied to it, but the whole suite then ran and it was "
        f"rejected: {why or 'a test failed'}\nThe change was undone: the files are as shown "
        "at first. Answer again with a change that keeps every test passing."
    )
    messages = [
        *earlier.messages,
        {"role": "assistant", "content": answer_text(last) if last is not None else ""},
        {"role": "user", "content": feedback},
    ]
    return Conversation(messages=messages)


# -- the task, the first turn, the brain ------------------------------------------------


def coder_brain(rt: Runtime) -> OpenAIBrain | str:
    """The model a coder talks to, or why there is none."""
    brain = rt.brain
    if not isinstance(brain, OpenAIBrain):
        return f"a model-backed ticket needs the openai brain, and this mission has {brain.name}"
    return brain.for_kind("coder")


def loop_task(rt: Runtime, view: MissionView, t: Ticket) -> LoopTask | str:
    """What the ticket is to do, from its inputs and the mission's request; a reason
    string when there is nothing to do (a fix whose tests all pass)."""
    params = rt.request.params
    paths = _lines(t.inputs.get("paths", ""))
    tests = _lines(t.inputs.get("tests", ""))
    if rt.request.kind == "fix" and "task" not in t.inputs:
        tests = tests or _lines(params.get("tests", ""))
        must: tuple[str, ...] = ()
        if not tests:
            baseline = baseline_of(rt, view) or {}
            must = tuple(
                str(n) for n, o, _ in baseline.get("items", []) if o in ("failed", "error")
            )
            if not must:
                return "nothing to fix: every test passed before the mission (name the tests)"
        goal = params.get("prompt") or "Make the failing tests pass without breaking others."
        return LoopTask(goal, paths, tests, must)
    text = t.inputs.get("task") or params.get("prompt") or ""
    if not text:
        return "the loop ticket names no task and the request has no prompt"
    return LoopTask(text, paths, tests)


def _lines(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.splitlines() if x.strip())


def first_turn(rt: Runtime, brain: OpenAIBrain, task: LoopTask, read: Any) -> Conversation:
    """The conversation's opening: the system prompt and the context-budgeted first turn."""
    s = brain.settings
    budget = s.context_tokens - s.max_tokens - estimate_tokens(SYSTEM_PROMPT)
    first = int(budget * 0.6)  # the rest is room for answers and feedback

    def maybe(path: str) -> str | None:
        try:
            return str(read(path))
        except (FileNotFoundError, OSError, UnicodeDecodeError):
            return None

    lessons = memory_lessons(task.text, rt.tenant, rt.project, first // 8)
    with rt.index_lock:
        ctx = build_context(
            rt.index,
            maybe,
            task.text,
            paths=task.paths,
            tests=(*task.tests, *task.must_fix[:10]),
            budget_tokens=first,
            lessons=lessons,
        )
    return Conversation(
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": ctx.text},
        ]
    )


def _budget_specs(rt: Runtime, t: Ticket) -> list[str]:
    """The ticket's own budget (its inputs) before the mission's budget policies."""
    own = [
        f"{name}:{t.inputs[key]}"
        for key, name in (
            ("max_rounds", "max-rounds"),
            ("max_tokens", "max-tokens"),
            ("max_wall_s", "max-wall"),
        )
        if t.inputs.get(key)
    ]
    named = {s.split(":", 1)[0] for s in own}
    return own + [s for s in rt.options.policies if s.split(":", 1)[0] not in named]


def _passed_edits(
    rt: Runtime, tv: TicketView, task: LoopTask, convo: Conversation, read: Any
) -> tuple[FileEdit, ...]:
    """The passing round's edits, rebuilt from its recorded answer (deterministic)."""
    fresh = MissionView(rt.led, rt.tenant, rt.project, rt.mission_id)
    call = recorded_call(rt, fresh, tv, convo.rounds[-1].round)
    assert call is not None, "a passed round has its call recorded"
    edits = candidate(rt, task, answer_text(call), read)
    assert not isinstance(edits, RoundResult), "a passed round's answer applies again"
    return edits


def _usage_summary(convo: Conversation) -> Mapping[str, Any]:
    p = sum(r.usage.prompt_tokens for r in convo.rounds)
    c = sum(r.usage.completion_tokens for r in convo.rounds)
    est = any(r.usage.estimated for r in convo.rounds)
    return {
        "prompt_tokens": p,
        "completion_tokens": c,
        "estimated": est,
        "calls": len(convo.rounds),
    }
