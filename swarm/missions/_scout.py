"""The scout: find the files a request changes, and expand the plan with a coder per file."""

from __future__ import annotations

import time

from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import BrainError, ModelUnreachable
from swarm.missions._errors import InvalidPlan, MissionError
from swarm.missions._events import decision_event, planned_event, step_id
from swarm.missions._identity import AgentId
from swarm.missions._loop import deny, fail_or_retry, finish
from swarm.missions._plan import Plan, Ticket, validate_plan
from swarm.missions._records import encode_targets
from swarm.missions._runtime import Runtime, describe_request
from swarm.missions._view import MissionView, TicketView
from swarm.missions._workspace import resolve

# Events per append when the scout plans a large mission.
_PLAN_BATCH = 500


def edit_ticket_id(i: int) -> str:
    return f"edit-{i:05d}"


def scout(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Find the files the request changes and expand the plan with one coder ticket per file."""
    started = time.perf_counter()
    if loop_mission(rt):
        _plan_loop(rt, view, tv, agent)
        return
    try:
        targets = _targets(rt, view, tv)
    except ModelUnreachable as exc:
        fail_or_retry(rt, tv, agent, str(exc))
        return
    except (BrainError, MissionError) as exc:
        fail_or_retry(rt, tv, agent, f"{type(exc).__name__}: {exc}", retryable=False)
        return
    found = rt.led.put_blob(rt.tenant, encode_targets(targets))
    edits, verify = _tickets(rt, targets)
    decision = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, "targets"),
        agent,
        "scout.targets",
        outcome="found",
        input=describe_request(rt.request),
        rationale=f"{rt.request.kind}: {len(targets)} file(s) to change "
        f"({time.perf_counter() - started:.2f}s)",
        attributes={"files": str(len(targets)), "brain": rt.brain.name},
        detail=found,
    )
    try:
        validate_plan(Plan(rt.mission_id, (*view.plan().tickets, *edits, verify)), rt.policies)
    except InvalidPlan as exc:
        rt.led.append(rt.tenant, rt.project, [decision])
        deny(rt, tv, agent, str(exc), "plan")
        return
    events = [decision, *(planned_event(rt.mission_id, t) for t in (*edits, verify))]
    for i in range(0, len(events), _PLAN_BATCH):
        rt.led.append(rt.tenant, rt.project, events[i : i + _PLAN_BATCH])
    finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload={"files": len(targets)})


def loop_mission(rt: Runtime) -> bool:
    """Whether the mission's one coder ticket is a model's loop (ask, fix: ADR 0015)."""
    from swarm.missions._modelcoder import LOOP_KINDS

    return rt.uses_model() and rt.request.kind in LOOP_KINDS


def _plan_loop(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Plan the loop ticket and the verify ticket after it: the model is asked by the
    coder that takes the loop, round by round, not by the scout."""
    from swarm.missions._modelcoder import loop_ticket

    edit = loop_ticket(rt)
    verify = _tickets(rt, [])[1]
    verify = Ticket(
        id=verify.id,
        kind=verify.kind,
        inputs=dict(verify.inputs),
        depends_on=(edit.id,),
        retries=rt.options.critic_rounds,  # a rejection goes back to the loop as feedback
        backoff_s=verify.backoff_s,
        timeout_s=verify.timeout_s,
    )
    try:
        validate_plan(Plan(rt.mission_id, (*view.plan().tickets, edit, verify)), rt.policies)
    except InvalidPlan as exc:
        deny(rt, tv, agent, str(exc), "plan")
        return
    decision = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, "targets"),
        agent,
        "scout.targets",
        outcome="found",
        input=describe_request(rt.request),
        rationale=f"{rt.request.kind}: one model-backed loop ticket (the files are the model's)",
        attributes={"files": "0", "brain": rt.brain.name, "loop": "1"},
    )
    events = [decision, planned_event(rt.mission_id, edit), planned_event(rt.mission_id, verify)]
    rt.led.append(rt.tenant, rt.project, events)
    finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload={"files": 0})


def _targets(rt: Runtime, view: MissionView, tv: TicketView) -> list[str]:
    """The paths the request changes (each checked by the path guard), sorted."""
    if rt.uses_model():
        proposal = rt.proposal(view, record_as=(tv.ticket.id, tv.attempt))
        targets = sorted(e.path for e in proposal.edits)
    else:
        with rt.index_lock:
            targets = rt.brain.targets(rt.request, rt.index)
    for path in targets:
        resolve(rt.root, path)
    return targets


def _tickets(rt: Runtime, targets: list[str]) -> tuple[list[Ticket], Ticket]:
    """One coder ticket per target, and the verify ticket that waits for them all."""
    edits = [
        Ticket(
            id=edit_ticket_id(i),
            kind="coder",
            inputs={"path": p},
            depends_on=("scout", "baseline"),
            retries=rt.options.edit_retries,
            backoff_s=rt.options.backoff_s,
            timeout_s=rt.options.ticket_timeout_s,
        )
        for i, p in enumerate(targets, 1)
    ]
    verify = Ticket(
        id="verify",
        kind="critic",
        inputs={"suite": "changed-then-full"},
        depends_on=tuple(t.id for t in edits) or ("scout", "baseline"),
        retries=rt.options.critic_rounds,
        backoff_s=0.0,
        timeout_s=rt.options.test_timeout_s,
    )
    return edits, verify
