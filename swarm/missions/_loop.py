"""The loop every agent runs, and the moves on tickets and locks the agents share.

Each agent folds the mission's events into its own :class:`MissionView`,
claims a ready ticket with a deterministic claim event (the first append of
that id wins; the others see ``duplicate``), does the work, and records the
result; when nothing is ready it blocks on ``wait_for_append``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping

import ledger
from ledger import Lock
from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._errors import MissionError
from swarm.missions._events import change_event, decision_event, step_id, ticket_event
from swarm.missions._identity import AgentId
from swarm.missions._runtime import Runtime
from swarm.missions._view import MissionView, TicketView
from swarm.missions._workspace import unified_diff
from swarm.telemetry import ticket_span

Handler = Callable[[Runtime, MissionView, TicketView, AgentId], None]


def agent_loop(
    rt: Runtime, agent: AgentId, kinds: tuple[str, ...], handler: Handler, offset: int = 0
) -> None:
    """Take and work tickets of ``kinds`` until the mission run stops."""
    view = MissionView(rt.led, rt.tenant, rt.project, rt.mission_id)
    while not rt.stop.is_set():
        head = rt.led.head(rt.tenant, rt.project)
        view.catch_up()
        if view.finished is not None:
            return
        claimed = _claim_one(rt, view.ready(kinds, rt.run), agent, offset)
        if claimed is None:
            rt.wait(head)
            continue
        if claimed.attempt > 1 and claimed.state == pb.TICKET_STATE_RETRY:
            rt.stop.wait(claimed.ticket.backoff_s * 2 ** (claimed.attempt - 2))
        with _span_of(rt, view, claimed, agent):
            try:
                handler(rt, view, claimed, agent)
            except Exception as exc:  # an agent must not die silently: the ticket says why
                reason = f"{agent} crashed: {type(exc).__name__}: {exc}"
                finish(rt, claimed, agent, pb.TICKET_STATE_FAILED, reason=reason)
        if rt.options.step_delay_s:
            rt.stop.wait(rt.options.step_delay_s)


def _span_of(
    rt: Runtime, view: MissionView, tv: TicketView, agent: AgentId
) -> contextlib.AbstractContextManager[object]:
    """The span of this attempt at the ticket: the ids its events carry, linked to the
    attempts of the tickets it waited for."""
    deps = {d: view.tickets[d].attempt for d in tv.ticket.depends_on if d in view.tickets}
    return ticket_span(
        rt.mission_id, tv.ticket.id, tv.attempt, kind=tv.ticket.kind, agent=str(agent),
        depends_on=deps,
    )  # fmt: skip


def _claim_one(
    rt: Runtime, ready: list[TicketView], agent: AgentId, offset: int
) -> TicketView | None:
    """The first of ``ready`` (rotated by ``offset``, so coders spread out) this agent claims."""
    if ready:
        k = offset % len(ready)
        ready = ready[k:] + ready[:k]
    for tv in ready:
        if rt.stop.is_set():
            return None
        if claim(rt, tv, agent):
            return tv
    return None


def claim(rt: Runtime, tv: TicketView, agent: AgentId) -> bool:
    ev = ticket_event(
        rt.mission_id,
        tv.ticket,
        pb.TICKET_STATE_CLAIMED,
        tv.attempt,
        agent,
        step=f"claim.r{rt.run}",
        payload={"run": rt.run},
    )
    (landed,) = rt.led.append(rt.tenant, rt.project, [ev])
    if not landed.duplicate:
        tv.state, tv.claim_run, tv.claimed_by = pb.TICKET_STATE_CLAIMED, rt.run, str(agent)
    return not landed.duplicate


_STEPS: dict[int, str] = {
    pb.TICKET_STATE_DONE: "done",
    pb.TICKET_STATE_FAILED: "failed",
    pb.TICKET_STATE_RETRY: "retry",
}


def finish(
    rt: Runtime,
    tv: TicketView,
    agent: AgentId,
    state: pb.TicketState,
    *,
    reason: str = "",
    payload: Mapping[str, object] | None = None,
    attempt: int | None = None,
) -> None:
    step = _STEPS[state]
    a = tv.attempt if attempt is None else attempt
    ev = ticket_event(
        rt.mission_id,
        tv.ticket,
        state,
        a,
        agent,
        step=f"{step}.from{tv.attempt}" if state == pb.TICKET_STATE_RETRY else step,
        reason=reason,
        payload=payload,
    )
    rt.led.append(rt.tenant, rt.project, [ev])


def fail_or_retry(
    rt: Runtime, tv: TicketView, agent: AgentId, reason: str, *, retryable: bool = True
) -> None:
    if retryable and tv.attempt <= tv.ticket.retries:
        finish(rt, tv, agent, pb.TICKET_STATE_RETRY, reason=reason, attempt=tv.attempt + 1)
    else:
        finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=reason)


def deny(rt: Runtime, tv: TicketView, agent: AgentId, reason: str, when: str) -> None:
    """A policy's denial: its decision, then the ticket fails."""
    rt.led.append(
        rt.tenant,
        rt.project,
        [
            decision_event(
                rt.mission_id,
                step_id(rt.mission_id, tv.ticket.id, tv.attempt, f"policy.{when}"),
                agent,
                "policy.deny",
                outcome="deny",
                rationale=reason,
                input=tv.ticket.id,
            )
        ],
    )
    finish(rt, tv, agent, pb.TICKET_STATE_FAILED, reason=reason)


def acquire(rt: Runtime, path: str, holder: AgentId, timeout_s: float) -> Lock | str:
    """The lock on ``path``, waiting on ledger watches while someone else holds it;
    a reason string when it could not be had within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        head = rt.led.head(rt.tenant, rt.project)
        try:
            return rt.led.acquire_lock(
                rt.tenant,
                rt.project,
                path,
                str(holder),
                rt.options.lock_ttl_s,
                role=holder.role.proto,
                mission_id=rt.mission_id,
            )
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


def release(rt: Runtime, path: str, holder: AgentId, lock: Lock) -> None:
    """Let go of ``lock``; a lapsed lease is fine: the fencing token kept the change honest."""
    with contextlib.suppress(ledger.LockNotHeld):
        rt.led.release_lock(
            rt.tenant,
            rt.project,
            path,
            str(holder),
            lock.token,
            role=holder.role.proto,
            mission_id=rt.mission_id,
        )


def read_head(rt: Runtime, path: str) -> tuple[bytes, bytes | None]:
    """The ledger's head of ``path``: its hash (b"" when absent) and its bytes."""
    head = rt.led.file_state(rt.tenant, rt.project, path)
    if head is None:
        return b"", None
    return head.sha256, rt.led.get_blob(rt.tenant, head.sha256)


def restore(
    rt: Runtime,
    holder: AgentId,
    path: str,
    want: bytes,
    *,
    event_id: str,
    reverts: str,
    wait_s: float,
) -> None:
    """Compensate: a StateChange (``event_id``, reverting ``reverts``) that brings ``path``
    back to the content hashed ``want`` (b"": absent), under its lock, then the workspace.

    The one way both a failed mission's rollback and a critic's rejection undo a
    change; a step that already landed (a resumed run) only brings the workspace to it.
    """
    if rt.led.find_event(rt.tenant, event_id) is None:
        lock = acquire(rt, path, holder, wait_s)
        if isinstance(lock, str):
            raise MissionError(f"cannot restore {path}: {lock}")
        try:
            head, data = read_head(rt, path)
            old = rt.led.get_blob(rt.tenant, want) if want else None
            blob = rt.led.put_blob(rt.tenant, old) if old is not None else None
            diff = unified_diff(path, data, old)
            ev = change_event(
                rt.mission_id, event_id, holder, path, head, blob, diff, lock.token, reverts
            )
            rt.led.append(rt.tenant, rt.project, [ev])
        finally:
            release(rt, path, holder, lock)
    _, data = read_head(rt, path)
    rt.write(path, data)
