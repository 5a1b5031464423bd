"""The coder's loop on the record: each model call and each round as a Decision, and
read back, so a resumed run rebuilds the conversation without calling the model.

A call is a ``model.exchange`` Decision the moment it returns, failed ones too
(detail: ``ModelCall``); a round is a ``coder.round`` Decision (detail:
``ModelRound``). Their ids are ``<mission>.<ticket>.a<attempt>.round<n>[.call]``.
"""

from __future__ import annotations

import json

from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import model_pb2 as mp
from swarm.brain import (
    Exchange,
    ModelError,
    ModelHTTPError,
    ModelTimeout,
    ModelUnreachable,
    OpenAIBrain,
    Usage,
)
from swarm.missions._context import estimate_tokens
from swarm.missions._events import decision_event, step_id
from swarm.missions._identity import AgentId
from swarm.missions._rounds import RoundResult, content_sha
from swarm.missions._runtime import Runtime
from swarm.missions._view import MissionView, TicketView


def ask(
    rt: Runtime,
    tv: TicketView,
    agent: AgentId,
    brain: OpenAIBrain,
    messages: list[dict[str, str]],
    n: int,
) -> mp.ModelCall:
    """Call the model once and record the exchange at once (failed calls too)."""
    fitted = fit(messages, brain.settings.context_tokens - brain.settings.max_tokens)
    call = mp.ModelCall(round=n, provider=brain.settings.provider, model=brain.model)
    try:
        reply = brain.reply(fitted)
    except ModelTimeout as exc:
        _failed(call, exc.exchange, str(exc), "timeout")
    except ModelHTTPError as exc:
        _failed(call, exc.exchange, str(exc), "http")
    except ModelError as exc:
        _failed(call, exc.exchange, str(exc), "malformed")
    except ModelUnreachable as exc:
        _failed(call, exc.exchange, str(exc), "unreachable")
    else:
        _exchanged(call, reply.exchange)
        if reply.truncated:
            call.error_kind = "truncated"  # kept: the answer may still hold whole blocks
    if not call.request_json:
        call.request_json = json.dumps({"messages": fitted})
    record_call(rt, tv, agent, call)
    return call


def _exchanged(call: mp.ModelCall, ex: Exchange | None) -> None:
    if ex is None:
        return
    call.request_json, call.response_json, call.seconds = (
        ex.request_json,
        ex.response_json,
        ex.seconds,
    )
    usage = ex.usage or Usage()
    call.usage.CopyFrom(
        mp.ModelUsage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            estimated=usage.estimated,
            calls=1,
        )
    )


def _failed(call: mp.ModelCall, ex: Exchange | None, why: str, kind: str) -> None:
    _exchanged(call, ex)
    call.error, call.error_kind = why[:2000], kind
    call.usage.calls = 1


def record_call(rt: Runtime, tv: TicketView, agent: AgentId, call: mp.ModelCall) -> None:
    """The call as a ``model.exchange`` Decision (detail: the ModelCall)."""
    blob = rt.led.put_blob(rt.tenant, call.SerializeToString())
    u = call.usage
    said = f"failed ({call.error_kind}): {call.error[:300]}" if call.error else "answered"
    ev = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"round{call.round}.call"),
        agent,
        "model.exchange",
        outcome="failed" if call.error and call.error_kind != "truncated" else "answered",
        input=tv.ticket.id,
        rationale=f"round {call.round}: {call.provider} model {call.model} {said} in "
        f"{call.seconds:.2f}s, {u.prompt_tokens}+{u.completion_tokens} tokens"
        + (" (estimated)" if u.estimated else ""),
        attributes={
            "round": str(call.round),
            "provider": call.provider,
            "model": call.model,
            "seconds": f"{call.seconds:.3f}",
            "prompt_tokens": str(u.prompt_tokens),
            "completion_tokens": str(u.completion_tokens),
            "estimated": str(u.estimated).lower(),
            "error_kind": call.error_kind,
        },
        detail=blob,
    )
    rt.led.append(rt.tenant, rt.project, [ev])


def round_record(n: int, r: RoundResult, usage: mp.ModelUsage, elapsed: float) -> mp.ModelRound:
    rec = mp.ModelRound(
        round=n,
        outcome=r.outcome,  # type: ignore[arg-type]  # an int from the same enum
        summary=r.summary[:1000],
        feedback=r.feedback,
        failing_tests=list(r.failing[:50]),
        tests_event_id=r.tests_event_id,
        duplicate_of=r.duplicate_of,
        elapsed_s=elapsed,
    )
    rec.usage.CopyFrom(usage)
    for e in r.edits:
        rec.files.add(path=e.path, new_sha256=content_sha(e.new_source))
    return rec


_OUTCOME_WORDS: dict[int, str] = {
    mp.ROUND_OUTCOME_PASSED: "passed",
    mp.ROUND_OUTCOME_NO_EDIT: "no_edit",
    mp.ROUND_OUTCOME_DID_NOT_APPLY: "did_not_apply",
    mp.ROUND_OUTCOME_SYNTAX_ERROR: "syntax_error",
    mp.ROUND_OUTCOME_TESTS_FAILED: "tests_failed",
    mp.ROUND_OUTCOME_DUPLICATE: "duplicate",
    mp.ROUND_OUTCOME_MODEL_ERROR: "model_error",
    mp.ROUND_OUTCOME_TESTS_INCOMPLETE: "tests_incomplete",
}


def outcome_word(outcome: int) -> str:
    """A round outcome as one word (``mission show``, attributes)."""
    return _OUTCOME_WORDS.get(outcome, "unknown")


def record_round(rt: Runtime, tv: TicketView, agent: AgentId, rec: mp.ModelRound) -> None:
    """The round as a ``coder.round`` Decision (detail: the ModelRound)."""
    blob = rt.led.put_blob(rt.tenant, rec.SerializeToString())
    u = rec.usage
    ev = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"round{rec.round}"),
        agent,
        "coder.round",
        outcome=outcome_word(rec.outcome),
        input=tv.ticket.id,
        rationale=f"round {rec.round}: {rec.summary} "
        f"({u.prompt_tokens}+{u.completion_tokens} tokens)",
        attributes={
            "round": str(rec.round),
            "files": ",".join(f.path for f in rec.files)[:2000],
            "failing": ",".join(rec.failing_tests[:20])[:2000],
            "prompt_tokens": str(u.prompt_tokens),
            "completion_tokens": str(u.completion_tokens),
            "elapsed_s": f"{rec.elapsed_s:.3f}",
        },
        detail=blob,
    )
    rt.led.append(rt.tenant, rt.project, [ev])


def recorded_call(
    rt: Runtime, view: MissionView, tv: TicketView, n: int, attempt: int | None = None
) -> mp.ModelCall | None:
    """The call of round ``n`` a run before this one recorded (it is not asked again)."""
    a = tv.attempt if attempt is None else attempt
    rec = decision_at(rt, view, step_id(rt.mission_id, tv.ticket.id, a, f"round{n}.call"))
    if rec is None:
        return None
    return mp.ModelCall.FromString(rt.led.get_blob(rt.tenant, rec.detail.sha256))


def decision_at(rt: Runtime, view: MissionView, event_id: str) -> pb.Decision | None:
    for d in view.decisions:
        if d.event.event_id == event_id:
            return d.event.decision
    found = rt.led.find_event(rt.tenant, event_id)
    if found is None:
        return None
    project, vs = found
    return rt.led.get_event(rt.tenant, project, vs).event.decision


def answer_text(call: mp.ModelCall) -> str:
    """The answer's text in a recorded chat completion ("" when there is none)."""
    try:
        data = json.loads(call.response_json)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""


def fit(messages: list[dict[str, str]], budget_tokens: int) -> list[dict[str, str]]:
    """``messages`` within the budget: the opening two kept, the oldest feedback turns
    dropped first (the latest answer and its feedback are what the model needs)."""
    head, turns = messages[:2], messages[2:]
    while turns and sum(estimate_tokens(m["content"]) for m in head + turns) > budget_tokens:
        turns = turns[2:]
    return head + turns
