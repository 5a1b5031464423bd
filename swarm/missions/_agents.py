"""The agents' loops: scout, coders and the critic take tickets by watching the ledger.

Each agent folds the mission's events into its own :class:`MissionView`,
claims a ready ticket with a deterministic claim event (the first append of
that id wins; the others see ``duplicate``), does the work, and records the
result; when nothing is ready it blocks on ``wait_for_append``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping

import ledger
from ledger import Lock
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import BrainError, ModelUnreachable
from swarm.missions._errors import InvalidPlan, MissionError
from swarm.missions._plan import Plan, Ticket, validate_plan
from swarm.missions._runtime import Runtime
from swarm.missions._view import (
    MissionView,
    TicketView,
    decision_event,
    planned_event,
    step_id,
    ticket_event,
)
from swarm.missions._workspace import (
    change_event,
    resolve,
    unified_diff,
)
from swarm.scout import check_syntax

Handler = Callable[[Runtime, MissionView, TicketView, str], None]


# -- the loop ------------------------------------------------------------------------


def agent_loop(
    rt: Runtime, agent_id: str, kinds: tuple[str, ...], handler: Handler, offset: int = 0
) -> None:
    """Take and work tickets of ``kinds`` until the mission run stops."""
    view = MissionView(rt.led, rt.tenant, rt.project, rt.mission_id)
    while not rt.stop.is_set():
        head = rt.led.head(rt.tenant, rt.project)
        view.catch_up()
        if view.finished is not None:
            return
        ready = view.ready(kinds, rt.run)
        if ready:
            k = offset % len(ready)
            ready = ready[k:] + ready[:k]
        claimed = None
        for tv in ready:
            if rt.stop.is_set():
                return
            if claim(rt, tv, agent_id):
                claimed = tv
                break
        if claimed is None:
            rt.wait(head)
            continue
        if claimed.attempt > 1 and claimed.state == pb.TICKET_STATE_RETRY:
            rt.stop.wait(claimed.ticket.backoff_s * 2 ** (claimed.attempt - 2))
        try:
            handler(rt, view, claimed, agent_id)
        except Exception as exc:  # an agent must not die silently: the ticket says why
            finish(
                rt,
                claimed,
                agent_id,
                pb.TICKET_STATE_FAILED,
                reason=f"{agent_id} crashed: {type(exc).__name__}: {exc}",
            )
        if rt.options.step_delay_s:
            rt.stop.wait(rt.options.step_delay_s)


def claim(rt: Runtime, tv: TicketView, agent_id: str) -> bool:
    ev = ticket_event(
        rt.mission_id,
        tv.ticket,
        pb.TICKET_STATE_CLAIMED,
        tv.attempt,
        agent_id,
        step=f"claim.r{rt.run}",
        payload={"run": rt.run},
    )
    (landed,) = rt.led.append(rt.tenant, rt.project, [ev])
    if not landed.duplicate:
        tv.state, tv.claim_run, tv.claimed_by = pb.TICKET_STATE_CLAIMED, rt.run, agent_id
    return not landed.duplicate


def finish(
    rt: Runtime,
    tv: TicketView,
    agent_id: str,
    state: int,
    *,
    reason: str = "",
    payload: Mapping[str, object] | None = None,
    attempt: int | None = None,
) -> None:
    steps: dict[int, str] = {
        pb.TICKET_STATE_DONE: "done",
        pb.TICKET_STATE_FAILED: "failed",
        pb.TICKET_STATE_RETRY: "retry",
    }
    step = steps[state]
    a = tv.attempt if attempt is None else attempt
    ev = ticket_event(
        rt.mission_id,
        tv.ticket,
        state,
        a,
        agent_id,
        step=f"{step}.from{tv.attempt}" if state == pb.TICKET_STATE_RETRY else step,
        reason=reason,
        payload=payload,
    )
    rt.led.append(rt.tenant, rt.project, [ev])


def fail_or_retry(
    rt: Runtime, tv: TicketView, agent_id: str, reason: str, *, retryable: bool = True
) -> None:
    if retryable and tv.attempt <= tv.ticket.retries:
        finish(rt, tv, agent_id, pb.TICKET_STATE_RETRY, reason=reason, attempt=tv.attempt + 1)
    else:
        finish(rt, tv, agent_id, pb.TICKET_STATE_FAILED, reason=reason)


def deny(rt: Runtime, tv: TicketView, agent_id: str, reason: str, when: str) -> None:
    rt.led.append(
        rt.tenant,
        rt.project,
        [
            decision_event(
                rt.mission_id,
                step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"policy.{when}"),
                agent_id,
                "policy.deny",
                outcome="deny",
                rationale=reason,
                input=tv.ticket.id,
            )
        ],
    )
    finish(rt, tv, agent_id, pb.TICKET_STATE_FAILED, reason=reason)


# -- scout ---------------------------------------------------------------------------


def edit_ticket_id(i: int) -> str:
    return f"edit-{i:05d}"


def scout(rt: Runtime, view: MissionView, tv: TicketView, agent_id: str) -> None:
    """Find the files the request changes and expand the plan with one coder ticket per file."""
    a = tv.attempt
    started = time.perf_counter()
    try:
        if rt.uses_model():
            targets = sorted(e.path for e in rt.proposal(view, record_as=(tv.ticket.id, a)).edits)
        else:
            with rt.index_lock:
                targets = rt.brain.targets(rt.request, rt.index)
        for path in targets:
            resolve(rt.root, path)
    except ModelUnreachable as exc:
        fail_or_retry(rt, tv, agent_id, str(exc))
        return
    except (BrainError, MissionError) as exc:
        fail_or_retry(rt, tv, agent_id, f"{type(exc).__name__}: {exc}", retryable=False)
        return
    found = rt.led.put_blob(rt.tenant, json.dumps(targets).encode())
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
    plan = Plan(rt.mission_id, (*view.plan().tickets, *edits, verify))
    decision = decision_event(
        rt.mission_id,
        step_id(rt.mission_id, tv.ticket.id, a, "targets"),
        agent_id,
        "scout.targets",
        outcome="found",
        input=json.dumps(dict(rt.request.params))[:4000],
        rationale=f"{rt.request.kind}: {len(targets)} file(s) to change "
        f"({time.perf_counter() - started:.2f}s)",
        attributes={"files": str(len(targets)), "brain": rt.brain.name},
        detail=found,
    )
    try:
        validate_plan(plan, rt.policies)
    except InvalidPlan as exc:
        rt.led.append(rt.tenant, rt.project, [decision])
        deny(rt, tv, agent_id, str(exc), "plan")
        return
    events = [decision, *(planned_event(rt.mission_id, t) for t in (*edits, verify))]
    for i in range(0, len(events), 500):
        rt.led.append(rt.tenant, rt.project, events[i : i + 500])
    finish(rt, tv, agent_id, pb.TICKET_STATE_DONE, payload={"files": len(targets)})


# -- coder ---------------------------------------------------------------------------


def acquire(rt: Runtime, path: str, holder: str, timeout_s: float) -> Lock | str:
    """The lock on ``path``, waiting on ledger watches while someone else holds it;
    a reason string when it could not be had within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        head = rt.led.head(rt.tenant, rt.project)
        try:
            return rt.led.acquire_lock(rt.tenant, rt.project, path, holder, rt.options.lock_ttl_s)
        except ledger.LockHeld as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return f"{path} is locked by {exc.holder}; gave up after waiting {timeout_s:g}s"
            if rt.stop.is_set():
                return f"{path} is locked by {exc.holder}; the mission stopped while waiting"
            lease_left = (exc.expires_us - ledger.wall_clock_us()) / 1e6
            rt.led.wait_for_append(
                rt.tenant, rt.project, head, max(0.01, min(remaining, lease_left + 0.01, 5.0))
            )


def _read_head(rt: Runtime, path: str) -> tuple[bytes, bytes | None]:
    head = rt.led.file_state(rt.tenant, rt.project, path)
    if head is None:
        return b"", None
    return head.sha256, rt.led.get_blob(rt.tenant, head.sha256)


def coder(rt: Runtime, view: MissionView, tv: TicketView, agent_id: str) -> None:
    """Edit one file under its lock: StateChange first, then the workspace file."""
    t, a = tv.ticket, tv.attempt
    path = t.inputs["path"]
    for policy in rt.policies:
        reason = policy.before(t)
        if reason:
            deny(rt, tv, agent_id, reason, "before")
            return
    change_id = step_id(rt.mission_id, t.id, a, "change")
    if rt.led.find_event(rt.tenant, change_id) is not None:
        # Landed before a crash: the ledger is the truth, bring the workspace to it.
        head, data = _read_head(rt, path)
        rt.write(path, data)
        _done(rt, tv, agent_id, path, changed=True, change_id=change_id, new=head)
        return
    lock = acquire(rt, path, agent_id, t.timeout_s)
    if isinstance(lock, str):
        finish(rt, tv, agent_id, pb.TICKET_STATE_FAILED, reason=lock)
        return
    try:
        prev, data = _read_head(rt, path)
        source = data.decode("utf-8") if data is not None else None
        try:
            edit = rt.edit(view, path, source)
        except ModelUnreachable as exc:
            fail_or_retry(rt, tv, agent_id, str(exc))
            return
        except BrainError as exc:
            fail_or_retry(rt, tv, agent_id, f"{type(exc).__name__}: {exc}", retryable=False)
            return
        new = edit.new_source.encode("utf-8") if edit.new_source is not None else None
        if new == data:
            _done(rt, tv, agent_id, path, changed=False, change_id="", new=prev)
            return
        errors = check_syntax(path, new) if new is not None else ()
        syntax = decision_event(
            rt.mission_id,
            step_id(rt.mission_id, t.id, a, "syntax"),
            "critic-1",
            "critic.syntax",
            outcome="reject" if errors else "accept",
            input=path,
            rationale="; ".join(errors) if errors else "parses cleanly",
        )
        if errors:
            rt.led.append(rt.tenant, rt.project, [syntax])
            fail_or_retry(
                rt,
                tv,
                agent_id,
                f"syntax error in the edit of {path}: {'; '.join(errors)}",
                retryable=False,
            )
            return
        blob = rt.led.put_blob(rt.tenant, new) if new is not None else None
        ev = change_event(
            rt.mission_id,
            change_id,
            agent_id,
            path,
            prev,
            blob,
            unified_diff(path, data, new),
            lock.token,
        )
        ev.parent_event_id = syntax.event_id
        try:
            # The accepting decision and the change it lets in land in one append: one
            # commit, not two, and never a decision whose change a crash lost.
            rt.led.append(rt.tenant, rt.project, [syntax, ev])
        except (ledger.HashChainBroken, ledger.StaleFencingToken) as exc:
            fail_or_retry(rt, tv, agent_id, f"{type(exc).__name__}: {exc}")
            return
        rt.write(path, new)
        _done(
            rt,
            tv,
            agent_id,
            path,
            changed=True,
            change_id=change_id,
            new=blob.sha256 if blob else b"",
            rationale=edit.rationale,
        )
    finally:
        # A lapsed lease is fine here: the fencing token already kept the change honest.
        with contextlib.suppress(ledger.LockNotHeld):
            rt.led.release_lock(rt.tenant, rt.project, path, agent_id, lock.token)


def _done(
    rt: Runtime,
    tv: TicketView,
    agent_id: str,
    path: str,
    *,
    changed: bool,
    change_id: str,
    new: bytes,
    rationale: str = "",
) -> None:
    result: dict[str, object] = {
        "path": path,
        "changed": changed,
        "change_event_id": change_id,
        "new_sha256": new.hex(),
        "attempt": tv.attempt,
        "rationale": rationale,
    }
    for policy in rt.policies:
        reason = policy.after(tv.ticket, result)
        if reason:
            deny(rt, tv, agent_id, reason, "after")
            return
    finish(rt, tv, agent_id, pb.TICKET_STATE_DONE, payload=result)


# -- the critic's compensation (its judging lives in swarm.missions._critic) ----------


def revert(rt: Runtime, view: MissionView, tv: TicketView, agent_id: str) -> None:
    """A compensating StateChange that undoes one coder ticket's change."""
    path = str(tv.result["path"])
    change_id = str(tv.result["change_event_id"])
    original = next(c for c in view.changes if c.event_id == change_id)
    eid = step_id(rt.mission_id, tv.ticket.id, tv.attempt, "revert")
    if rt.led.find_event(rt.tenant, eid) is None:
        lock = acquire(rt, path, agent_id, tv.ticket.timeout_s)
        if isinstance(lock, str):
            raise MissionError(f"cannot revert {path}: {lock}")
        try:
            head, data = _read_head(rt, path)
            old = rt.led.get_blob(rt.tenant, original.previous) if original.previous else None
            blob = rt.led.put_blob(rt.tenant, old) if old is not None else None
            rt.led.append(
                rt.tenant,
                rt.project,
                [
                    change_event(
                        rt.mission_id,
                        eid,
                        agent_id,
                        path,
                        head,
                        blob,
                        unified_diff(path, data, old),
                        lock.token,
                        reverts=change_id,
                    )
                ],
            )
        finally:
            with contextlib.suppress(ledger.LockNotHeld):
                rt.led.release_lock(rt.tenant, rt.project, path, agent_id, lock.token)
    _, data = _read_head(rt, path)
    rt.write(path, data)
