"""A loop ticket's passing edit, recorded: each file under its lock, then the workspace.

Like a plain coder's edit (``_coder``): per file the critic's syntax check, the
coder's Decision and the StateChange land in one append, then the workspace file
is written. A file someone changed since the loop read it is not overwritten: the
ticket fails, naming it. Step ids are per file, so a resumed run lands each once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import FileEdit
from swarm.missions._coder import edit_decision
from swarm.missions._events import change_event, decision_event, path_key, step_id
from swarm.missions._identity import CRITIC, AgentId
from swarm.missions._loop import acquire, deny, fail_or_retry, finish, read_head, release
from swarm.missions._rounds import content_sha
from swarm.missions._runtime import Runtime
from swarm.missions._view import TicketView
from swarm.missions._workspace import unified_diff


def land(
    rt: Runtime,
    tv: TicketView,
    agent: AgentId,
    edits: Sequence[FileEdit],
    usage: Mapping[str, Any],
    rounds: int,
    read_at_start: Mapping[str, str | None],
) -> None:
    """Record every file of the passing round, then finish the ticket with them all.
    ``read_at_start`` is each file's text as the loop read it (None: absent)."""
    changes: list[dict[str, str]] = []
    for edit in sorted(edits, key=lambda e: e.path):
        landed = _land_one(rt, tv, agent, edit, read_at_start.get(edit.path))
        if isinstance(landed, str):
            fail_or_retry(rt, tv, agent, landed, retryable=False)
            return
        changes.append(landed)
    first = changes[0] if changes else {"path": "", "change_event_id": "", "new_sha256": ""}
    result: dict[str, object] = {
        "path": first["path"],
        "changed": bool(changes),
        "change_event_id": first["change_event_id"],
        "new_sha256": first["new_sha256"],
        "attempt": tv.attempt,
        "rationale": f"the model's edit, passing in round {rounds}",
        "changes": changes,
        "usage": dict(usage),
        "rounds": rounds,
    }
    for policy in rt.policies:
        for c in changes or [first]:
            reason = policy.after(tv.ticket, {**result, "path": c["path"]})
            if reason:
                deny(rt, tv, agent, reason, "after")
                return
    finish(rt, tv, agent, pb.TICKET_STATE_DONE, payload=result)


def _land_one(
    rt: Runtime, tv: TicketView, agent: AgentId, edit: FileEdit, was: str | None
) -> dict[str, str] | str:
    """One file's change recorded (or found recorded by an earlier run); a reason if not."""
    path = edit.path
    change_id = step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"change.{path_key(path)}")
    new = edit.new_source.encode("utf-8") if edit.new_source is not None else None
    if rt.led.find_event(rt.tenant, change_id) is None:
        lock = acquire(rt, path, agent, tv.ticket.timeout_s)
        if isinstance(lock, str):
            return lock
        try:
            refused = _append(rt, tv, agent, edit, (was, new), change_id, lock)
        finally:
            release(rt, path, agent, lock)
        if refused:
            return refused
    _, data = read_head(rt, path)
    rt.write(path, data)
    return {
        "path": path,
        "change_event_id": change_id,
        "new_sha256": content_sha(edit.new_source).hex(),
    }


def _append(
    rt: Runtime,
    tv: TicketView,
    agent: AgentId,
    edit: FileEdit,
    contents: tuple[str | None, bytes | None],
    change_id: str,
    lock: ledger.Lock,
) -> str:
    path = edit.path
    was, new = contents
    prev, data = read_head(rt, path)
    if data != (was.encode("utf-8") if was is not None else None):
        return f"{path} changed while the model worked on it; its edit was not applied"
    key = path_key(path)
    syntax = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"syntax.{key}"),
        CRITIC,
        "critic.syntax",
        outcome="accept",
        input=path,
        rationale="compiles (checked in the loop's passing round)",
    )
    blob = rt.led.put_blob(rt.tenant, new) if new is not None else None
    diff = unified_diff(path, data, new)
    why = edit_decision(rt, tv, agent, edit, diff, parent=syntax.event_id)
    why.event_id = step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"edit.{key}")
    ev = change_event(rt.mission_id, change_id, agent, path, prev, blob, diff, lock.token)
    ev.parent_event_id = why.event_id
    try:
        rt.led.append(rt.tenant, rt.project, [syntax, why, ev])
    except (ledger.HashChainBroken, ledger.StaleFencingToken) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""
