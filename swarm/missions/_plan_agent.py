"""The agents of a ``plan`` mission: the planner in the scout's place, and the coders that
work its tickets, each with its own conversation.

A plan mission starts like every mission (the scout ticket, the baseline). Its
scout ticket is worked by :func:`plan_scout`: the planner's conversation
(:mod:`swarm.missions._planner`) runs against the model named by the request
(``planner_model`` / ``planner_url``, else the mission's own), every answer and
refusal is recorded, and the accepted plan lands in one append with its
tickets. Its coder tickets carry a ``goal``, and :func:`planned_coder` hands
each to :func:`code_ticket`: the one seam to the model-backed coder.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence

from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import plan_pb2 as ppb
from swarm.brain import (
    BrainError,
    ChatClient,
    EditRequest,
    Exchange,
    ModelError,
    ModelSettings,
    ModelUnreachable,
)
from swarm.missions._coder import coder
from swarm.missions._errors import InvalidMission, MissionError
from swarm.missions._events import decision_event, planned_event, step_id
from swarm.missions._identity import AgentId
from swarm.missions._loop import Handler, fail_or_retry, finish
from swarm.missions._plan import Ticket
from swarm.missions._planner import (
    DEFAULT_PLAN_ANSWERS,
    PlanContext,
    PlanRefused,
    check_answer,
    converse,
    first_messages,
    mission_tickets,
    plan_record,
)
from swarm.missions._records import decode_exchange, encode_exchange
from swarm.missions._runtime import Runtime
from swarm.missions._scout import scout
from swarm.missions._view import MissionView, TicketView
from swarm.missions._workspace import resolve
from swarm.scout import RepoIndex

#: The most answers a request may allow the planner (``plan_answers``).
MAX_PLAN_ANSWERS = 10
_MAP_CHARS = 6_000  # the repository map's share of the planner's prompt


def agent_handlers(request: EditRequest) -> tuple[Handler, Handler]:
    """The scout's and the coders' handlers for a mission of this request."""
    if request.kind == "plan":
        return plan_scout, planned_coder
    return scout, coder


def check_plan_request(request: EditRequest, brain: str) -> None:
    """Refuse (``InvalidMission``) a plan request that could never run, before anything is
    written: it needs a model, and ``plan_answers`` must be a whole number in range."""
    if request.kind != "plan":
        return
    if brain == "rules":
        raise InvalidMission("a plan mission needs a model: use the openai brain")
    answers_bound(request)


def answers_bound(request: EditRequest) -> int:
    """How many answers the planner may give (``plan_answers``, default 3)."""
    raw = request.params.get("plan_answers", "")
    if not raw:
        return DEFAULT_PLAN_ANSWERS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PLAN_ANSWERS:
        raise InvalidMission(
            f"plan_answers {raw!r} must be a whole number from 1 to {MAX_PLAN_ANSWERS}"
        )
    return int(raw)


def planner_settings(rt: Runtime) -> ModelSettings:
    """The planner's model: the brain's own for the "planner" kind where it keeps one, else
    the mission's, with the request's ``planner_url`` / ``planner_model`` in its place."""
    for_kind = getattr(rt.brain, "for_kind", None)
    brain = for_kind("planner") if callable(for_kind) else rt.brain
    settings = getattr(brain, "settings", None)
    if not isinstance(settings, ModelSettings):
        raise MissionError(f"a plan mission needs a model brain, not {rt.brain.name!r}")
    p = rt.request.params
    return dataclasses.replace(
        settings,
        endpoint=p.get("planner_url") or settings.endpoint,
        model=p.get("planner_model") or settings.model,
    )


def repo_map(index: RepoIndex, budget: int = _MAP_CHARS) -> str:
    """One line per file: its module-level and class-level definitions (test files: their
    test ids), cut at ``budget`` characters."""
    lines: list[str] = []
    used = 0
    for path in index.files():
        try:
            occ = index.file(path).occurrences
        except (BrainError, MissionError, KeyError, OSError):
            continue
        defs = [o for o in occ if o.kind == "definition" and o.scope in ("module", "class")]
        names = [f"{o.owner}.{o.name}" if o.owner else o.name for o in defs]
        if path.rsplit("/", 1)[-1].startswith("test_"):
            names = [
                f"{path}::{n.replace('.', '::')}"
                for n in names
                if n.split(".")[-1].startswith("test")
            ]
        line = f"{path}: {', '.join(dict.fromkeys(names))}" if names else path
        if used + len(line) > budget:
            lines.append(f"... ({len(index.files()) - len(lines)} more files)")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _guard(rt: Runtime) -> Callable[[str], str | None]:
    """Why the workspace's path guard refuses a path a plan names (None: it may be written)."""

    def why(path: str) -> str | None:
        try:
            resolve(rt.root, path)
        except MissionError as exc:
            return str(exc)
        return None

    return why


# -- the planner ------------------------------------------------------------------------


def plan_scout(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Work a plan mission's scout ticket: ask the planner, record the plan and its tickets."""
    plan_id = step_id(rt.mission_id, tv.ticket.id, tv.attempt, "planner.plan")
    if rt.led.find_event(rt.tenant, plan_id) is not None:  # recorded before a crash
        finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload={"files": _planned_files(view)})
        return
    ctx = PlanContext(
        frozenset(rt.manifest), _guard(rt), view.plan(), tuple(rt.policies), rt.options
    )
    try:
        settings = planner_settings(rt)
        bound = answers_bound(rt.request)
    except MissionError as exc:
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=str(exc))
        return
    asker = _Asker(rt, view, tv, agent, settings)
    messages = first_messages(rt.request.params["goal"], repo_map(rt.index))
    try:
        conv = converse(messages, asker, lambda a: check_answer(a, ctx), bound, asker.refused)
    except ModelUnreachable as exc:
        fail_or_retry(rt, tv, agent, str(exc))
        return
    except BrainError as exc:
        fail_or_retry(rt, tv, agent, f"{type(exc).__name__}: {exc}", retryable=False)
        return
    finally:
        asker.close()
    if conv.accepted is None:
        reason = str(PlanRefused(len(conv.answers), conv.refusals[-1]))
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=reason)
        return
    record = plan_record(
        rt.request.params["goal"], conv.accepted, len(conv.answers), settings.model
    )
    new = mission_tickets(conv.accepted, ctx)[len(ctx.existing.tickets) :]
    _record_plan(rt, agent, plan_id, record, new)
    paths = {t.path for t in record.tickets}
    finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload={"files": len(paths)})


def _record_plan(
    rt: Runtime, agent: AgentId, plan_id: str, record: ppb.ModelPlan, tickets: Sequence[Ticket]
) -> None:
    """The planner.plan Decision and every new ticket, in one append: nothing of the plan
    can run before all of it is recorded."""
    blob = rt.led.put_blob(rt.tenant, record.SerializeToString(deterministic=True))
    decision = decision_event(
        rt.mission_id,
        plan_id,
        agent,
        "planner.plan",
        outcome="planned",
        input=record.goal,
        rationale=_plan_rationale(record),
        attributes={"tickets": str(len(record.tickets)), "answers": str(record.attempts)},
        detail=blob,
    )
    planned = [planned_event(rt.mission_id, t) for t in tickets]
    rt.led.append(rt.tenant, rt.project, [decision, *planned])


def _planned_files(view: MissionView) -> int:
    return len(
        {t.ticket.inputs["path"] for t in view.tickets.values() if "planned_as" in t.ticket.inputs}
    )


def _plan_rationale(record: ppb.ModelPlan) -> str:
    """The plan in one line a person can read in ``mission show``."""
    parts = []
    for t in record.tickets:
        after = f" after {','.join(t.depends_on)}" if t.depends_on else ""
        parts.append(f"{t.id}: {t.path}{after} ({t.goal[:60]})")
    tail = f" — {record.summary[:80]}" if record.summary else ""
    return (
        f"{len(record.tickets)} ticket(s) in {record.attempts} answer(s): "
        + "; ".join(parts)
        + tail
    )


class _Asker:
    """Answer ``i`` of the planner: read back from the record, or asked and recorded."""

    def __init__(
        self,
        rt: Runtime,
        view: MissionView,
        tv: TicketView,
        agent: AgentId,
        settings: ModelSettings,
    ) -> None:
        self.rt, self.tv, self.agent, self.settings = rt, tv, agent, settings
        self.recorded = recorded_answers(rt, view, tv.ticket.id, tv.attempt, "planner.answer")
        self._client: ChatClient | None = None

    def __call__(self, i: int, messages: list[dict[str, str]]) -> str:
        if i in self.recorded:
            return self.recorded[i]
        if self._client is None:
            self._client = ChatClient(self.settings)
        step = f"planner.answer{i}"
        try:
            reply = self._client.complete(messages)
        except ModelError as exc:
            if exc.exchange is not None:
                record_exchange(self.rt, self.agent, self.tv, step, exc.exchange, failed=str(exc))
            raise
        record_exchange(self.rt, self.agent, self.tv, step, reply.exchange)
        return reply.content

    def refused(self, i: int, problems: list[str]) -> None:
        rt, tv = self.rt, self.tv
        body = ppb.PlanRefusal(attempt=i + 1, problems=problems)
        blob = rt.led.put_blob(rt.tenant, body.SerializeToString(deterministic=True))
        ev = decision_event(
            rt.mission_id,
            step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"planner.refused{i}"),
            self.agent,
            "planner.refused",
            outcome="refused",
            input=f"answer {i + 1}",
            rationale=f"plan refused and sent back ({len(problems)} problem(s)): "
            + "; ".join(problems)[:300],
            detail=blob,
        )
        rt.led.append(rt.tenant, rt.project, [ev])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


# -- recorded exchanges -------------------------------------------------------------------


def record_exchange(
    rt: Runtime, agent: AgentId, tv: TicketView, step: str, ex: Exchange, *, failed: str = ""
) -> None:
    """One model exchange of a ticket as a Decision (``<role>.exchange``, or
    ``<role>.failed-exchange`` with the reason), its bodies in a blob, its tokens attributes."""
    role = step.split(".", 1)[0]
    blob = rt.led.put_blob(rt.tenant, encode_exchange(ex.request_json, ex.response_json))
    usage = ex.usage
    attributes = {"model": ex.model, "provider": ex.provider, "seconds": f"{ex.seconds:.3f}"}
    if usage is not None:
        attributes.update(
            prompt_tokens=str(usage.prompt_tokens),
            completion_tokens=str(usage.completion_tokens),
            tokens_estimated=str(usage.estimated).lower(),
        )
    ev = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, step),
        agent,
        f"{role}.failed-exchange" if failed else f"{role}.exchange",
        outcome="failed" if failed else "answered",
        input=tv.ticket.id,
        rationale=failed or f"{ex.provider} model {ex.model} answered in {ex.seconds:.2f}s",
        attributes=attributes,
        detail=blob,
    )
    rt.led.append(rt.tenant, rt.project, [ev])


def recorded_answers(
    rt: Runtime, view: MissionView, ticket_id: str, attempt: int, step: str
) -> dict[int, str]:
    """Answer number -> text of the exchanges already recorded for this ticket attempt."""
    prefix = step_id(rt.mission_id, ticket_id, attempt, step)
    out: dict[int, str] = {}
    for d in view.decisions:
        eid = d.event.event_id
        kind = d.event.decision.kind
        if kind.endswith(".exchange") and eid.startswith(prefix) and eid[len(prefix) :].isdigit():
            _, response = decode_exchange(
                rt.led.get_blob(rt.tenant, d.event.decision.detail.sha256)
            )
            out[int(eid[len(prefix) :])] = answer_text(response)
    return out


def answer_text(response_json: str) -> str:
    """The text of a recorded chat completion ("" when it holds none)."""
    try:
        content = json.loads(response_json)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""


# -- the coders -------------------------------------------------------------------------


def planned_coder(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """A plan mission's coder: a planned ticket goes to the model-backed coder."""
    if "planned_as" in tv.ticket.inputs:
        code_ticket(rt, view, tv, agent)
    else:
        coder(rt, view, tv, agent)


def code_ticket(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """THE SEAM: one planned ticket worked by a model-backed coder in its own conversation.

    The ticket's inputs are the coder loop's (ADR 0015): ``loop``, ``task``,
    ``paths`` and ``tests`` (one per line), and ``path``. Where the loop
    (``run_model_ticket``) is built in, it works the ticket: propose, apply,
    test, feed the failure back. A build without it gives the ticket one round
    (:mod:`swarm.missions._plan_coder`).
    """
    try:
        from swarm.missions._modelcoder import (  # type: ignore[import-not-found,unused-ignore]
            run_model_ticket,
        )
    except ImportError:
        from swarm.missions._plan_coder import one_round as run_model_ticket

    run_model_ticket(rt, view, tv, agent)


def ticket_lists(inputs: Mapping[str, str], key: str) -> list[str]:
    """One of a planned ticket's list inputs (stored one value per line)."""
    values = inputs.get(key, "")
    return [v for v in values.splitlines() if v.strip()]
