"""One round of a planned ticket's own conversation: ask, apply, check, record.

What :func:`swarm.missions._plan_agent.code_ticket` does until the coder loop
takes its place: under the lock of the ticket's one file, the model gets the
ticket's goal, its acceptance tests, that file and the files it reads (its own
conversation: nothing of the other tickets), answers with edits, and the edit
of that file is checked for syntax and recorded as the rules coder records one
(the critic's syntax Decision, the coder's Decision, the StateChange, in one
append). The exchange is recorded first, a failed one too, and a resumed run
reads it back instead of asking again.
"""

from __future__ import annotations

from collections.abc import Callable

from ledger import Lock
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import (
    BrainError,
    FileEdit,
    ModelError,
    ModelUnreachable,
    proposal_from_answer,
)
from swarm.brain._openai import SYSTEM_PROMPT
from swarm.missions._coder import _done, _record
from swarm.missions._events import decision_event, step_id
from swarm.missions._identity import CRITIC, AgentId
from swarm.missions._loop import acquire, deny, fail_or_retry, finish, read_head, release
from swarm.missions._runtime import Runtime
from swarm.missions._view import MissionView, TicketView
from swarm.missions._workspace import read_file
from swarm.scout import check_syntax

_STEP = "coder.answer"


def one_round(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Work one planned ticket with one model answer (the lock of its file held)."""
    t = tv.ticket
    path = t.inputs["path"]
    for policy in rt.policies:
        reason = policy.before(t)
        if reason:
            deny(rt, tv, agent, reason, "before")
            return
    change_id = step_id(rt.mission_id, t.id, tv.attempt, "change")
    if rt.led.find_event(rt.tenant, change_id) is not None:
        head, data = read_head(rt, path)  # landed before a crash: bring the workspace to it
        rt.write(path, data)
        _done(rt, tv, agent, path, change_id=change_id, new=head)
        return
    lock = acquire(rt, path, agent, t.timeout_s)
    if isinstance(lock, str):
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=lock)
        return
    try:
        _round_locked(rt, view, tv, agent, lock)
    except ModelUnreachable as exc:
        fail_or_retry(rt, tv, agent, str(exc))
    except BrainError as exc:
        fail_or_retry(rt, tv, agent, f"{type(exc).__name__}: {exc}", retryable=False)
    finally:
        release(rt, path, agent, lock)


def _round_locked(
    rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId, lock: Lock
) -> None:
    path = tv.ticket.inputs["path"]
    prev, data = read_head(rt, path)
    source = data.decode("utf-8") if data is not None else ""
    read = _reader(rt, path, source)
    content = _answer(rt, view, tv, agent, ticket_messages(tv, source, read))
    edit = _edit_of(content, path, read, rt)
    new = edit.new_source.encode("utf-8") if edit.new_source is not None else None
    if new == data:
        _done(rt, tv, agent, path, change_id="", new=prev)
        return
    errors = check_syntax(path, new) if new is not None else ()
    syntax = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, "syntax"),
        CRITIC,
        "critic.syntax",
        outcome="reject" if errors else "accept",
        input=path,
        rationale="; ".join(errors) if errors else "parses cleanly",
    )
    if errors:
        rt.led.append(rt.tenant, rt.project, [syntax])
        why = f"syntax error in the edit of {path}: {'; '.join(errors)}"
        fail_or_retry(rt, tv, agent, why, retryable=False)
        return
    _record(rt, tv, agent, edit, (prev, data, new), syntax, lock)


def ticket_messages(
    tv: TicketView, source: str, read: Callable[[str], str]
) -> list[dict[str, str]]:
    """The ticket's own conversation: its goal, tests, its file and what it reads."""
    from swarm.missions._plan_agent import ticket_lists

    inputs = tv.ticket.inputs
    path = inputs["path"]
    parts = [f"Task: {inputs['task']}", f"Change only {path}."]
    tests = ticket_lists(inputs, "tests")
    if tests:
        parts.append("These tests must pass: " + ", ".join(tests))
    parts += ["", f"=== {path} ===", source]
    for other in ticket_lists(inputs, "reads"):
        try:
            parts += [f"=== {other} (read only) ===", read(other)]
        except (OSError, UnicodeDecodeError, BrainError):
            continue
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n".join(parts)},
    ]


def _reader(rt: Runtime, path: str, source: str) -> Callable[[str], str]:
    def read(p: str) -> str:
        if p == path:
            return source
        data = read_file(rt.root, p)
        if data is None:
            raise FileNotFoundError(p)
        return data.decode("utf-8")

    return read


def _answer(
    rt: Runtime,
    view: MissionView,
    tv: TicketView,
    agent: AgentId,
    messages: list[dict[str, str]],
) -> str:
    """The model's answer: read back from the record, or asked once and recorded."""
    from swarm.missions._plan_agent import record_exchange, recorded_answers

    recorded = recorded_answers(rt, view, tv.ticket.id, tv.attempt, _STEP)
    if 0 in recorded:
        return recorded[0]
    chat = getattr(rt.brain, "chat", None)
    if chat is None:
        raise ModelError("(brain)", f"the {rt.brain.name} brain cannot hold a conversation")
    try:
        content, exchange = chat(messages)
    except ModelError as exc:
        if exc.exchange is not None:
            record_exchange(rt, agent, tv, f"{_STEP}0", exc.exchange, failed=str(exc))
        raise
    record_exchange(rt, agent, tv, f"{_STEP}0", exchange)
    return str(content)


def _edit_of(content: str, path: str, read: Callable[[str], str], rt: Runtime) -> FileEdit:
    """The answer's edit of the ticket's file; an edit of any other file is refused."""
    proposal = proposal_from_answer(content, (), read, rt.index)
    others = sorted(e.path for e in proposal.edits if e.path != path)
    if others:
        raise ModelError(
            "(answer)", f"the ticket may change only {path}, the answer changes {', '.join(others)}"
        )
    (edit,) = proposal.edits
    return edit
