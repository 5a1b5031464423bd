"""The coder: edit one file under its lock, recording why before the change lands.

Per edit a coder appends, in one commit, the critic's syntax check of the new
content, its own Decision (what it changed, where, for which request: the
``why`` that ``swarm audit who`` prints), and the StateChange, whose parent is
that Decision; only then does it write the workspace file.
"""

from __future__ import annotations

import ledger
from ledger import Lock
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import BrainError, FileEdit, ModelUnreachable
from swarm.missions._events import change_event, decision_event, step_id
from swarm.missions._identity import CRITIC, AgentId
from swarm.missions._loop import acquire, deny, fail_or_retry, finish, read_head, release
from swarm.missions._runtime import Runtime, describe_request
from swarm.missions._view import MissionView, TicketView
from swarm.missions._workspace import unified_diff
from swarm.scout import check_syntax


def coder(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    """Edit one file under its lock: StateChange first, then the workspace file.
    A model-backed loop ticket (ADR 0015) runs its loop instead."""
    t = tv.ticket
    if t.inputs.get("loop") == "1":
        _run_loop(rt, view, tv, agent)
        return
    path = t.inputs["path"]
    for policy in rt.policies:
        reason = policy.before(t)
        if reason:
            deny(rt, tv, agent, reason, "before")
            return
    change_id = step_id(rt.mission_id, t.id, tv.attempt, "change")
    if rt.led.find_event(rt.tenant, change_id) is not None:
        # Landed before a crash: the ledger is the truth, bring the workspace to it.
        head, data = read_head(rt, path)
        rt.write(path, data)
        _done(rt, tv, agent, path, change_id=change_id, new=head)
        return
    lock = acquire(rt, path, agent, t.timeout_s)
    if isinstance(lock, str):
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=lock)
        return
    try:
        _edit_locked(rt, view, tv, agent, path, lock)
    finally:
        release(rt, path, agent, lock)


def _run_loop(rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId) -> None:
    # Imported here: the loop's modules build on this one (its edit Decision).
    from swarm.missions._modelcoder import run_model_ticket

    run_model_ticket(rt, view, tv, agent)


def _edit_locked(
    rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId, path: str, lock: Lock
) -> None:
    """Ask the brain for the file's new content, check it, and record it (lock held)."""
    prev, data = read_head(rt, path)
    try:
        edit = rt.edit(view, path, data.decode("utf-8") if data is not None else None)
    except ModelUnreachable as exc:
        fail_or_retry(rt, tv, agent, str(exc))
        return
    except BrainError as exc:
        fail_or_retry(rt, tv, agent, f"{type(exc).__name__}: {exc}", retryable=False)
        return
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


def _record(
    rt: Runtime,
    tv: TicketView,
    agent: AgentId,
    edit: FileEdit,
    contents: tuple[bytes, bytes | None, bytes | None],
    syntax: pb.SwarmEvent,
    lock: Lock,
) -> None:
    """Append the syntax check, the coder's Decision and the StateChange in one commit,
    then write the workspace file."""
    prev, data, new = contents
    path, change_id = edit.path, step_id(rt.mission_id, tv.ticket.id, tv.attempt, "change")
    blob = rt.led.put_blob(rt.tenant, new) if new is not None else None
    diff = unified_diff(path, data, new)
    why = edit_decision(rt, tv, agent, edit, diff, parent=syntax.event_id)
    ev = change_event(rt.mission_id, change_id, agent, path, prev, blob, diff, lock.token)
    ev.parent_event_id = why.event_id
    try:
        # The decisions and the change they let in land in one append: one commit, not
        # three, and never a decision whose change a crash lost.
        rt.led.append(rt.tenant, rt.project, [syntax, why, ev])
    except (ledger.HashChainBroken, ledger.StaleFencingToken) as exc:
        fail_or_retry(rt, tv, agent, f"{type(exc).__name__}: {exc}")
        return
    rt.write(path, new)
    new_sha = blob.sha256 if blob else b""
    _done(rt, tv, agent, path, change_id=change_id, new=new_sha, rationale=edit.rationale)


def edit_decision(
    rt: Runtime, tv: TicketView, agent: AgentId, edit: FileEdit, diff: str, *, parent: str
) -> pb.SwarmEvent:
    """The coder's own Decision behind one StateChange: what it changed, where, and for
    which request (``input``: the request; ``rationale``: the brain's reason, the path,
    the lines touched, the ticket)."""
    added = sum(1 for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++"))
    removed = sum(1 for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---"))
    request = describe_request(rt.request)
    what = edit.rationale or "edited"
    verb = "deleted" if edit.new_source is None else f"+{added} -{removed} line(s)"
    return decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, "edit"),
        agent,
        "coder.edit",
        outcome="change",
        input=request,
        rationale=f"{what} in {edit.path} ({verb}), for the request {request} "
        f"(mission {rt.mission_id}, ticket {tv.ticket.id}, attempt {tv.attempt})",
        attributes={
            "path": edit.path,
            "request": rt.request.kind,
            "ticket": tv.ticket.id,
            "lines_added": str(added),
            "lines_removed": str(removed),
            "brain": rt.brain.name,
        },
        parent=parent,
    )


def _done(
    rt: Runtime,
    tv: TicketView,
    agent: AgentId,
    path: str,
    *,
    change_id: str,
    new: bytes,
    rationale: str = "",
) -> None:
    result: dict[str, object] = {
        "path": path,
        "changed": bool(change_id),
        "change_event_id": change_id,
        "new_sha256": new.hex(),
        "attempt": tv.attempt,
        "rationale": rationale,
    }
    for policy in rt.policies:
        reason = policy.after(tv.ticket, result)
        if reason:
            deny(rt, tv, agent, reason, "after")
            return
    finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload=result)
