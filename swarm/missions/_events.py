"""Every event a mission writes is built here: ids, the envelope, and one builder per kind.

Every step of a mission has a deterministic event id derived from the mission
id, the ticket id, the attempt and the step, so re-running a step after a
crash lands it once (the ledger refuses a second event with the same id).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import ledger
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import missions_pb2 as mpb
from swarm.brain import EditRequest
from swarm.missions._identity import ORCHESTRATOR, AgentId, MissionOutcome
from swarm.missions._options import MissionOptions
from swarm.missions._plan import Ticket
from swarm.missions._records import MissionEnd, MissionStart, run_record, ticket_record
from swarm.telemetry import event_span_id, trace_id


def path_key(path: str) -> str:
    """A short stable id fragment for a path (paths may hold characters event ids may not)."""
    return hashlib.sha256(path.encode()).hexdigest()[:20]


def step_id(mission_id: str, ticket_id: str, attempt: int, step: str) -> str:
    """The event id of one step of one attempt of one ticket."""
    return f"{mission_id}.{ticket_id}.a{attempt}.{step}"


def import_id(mission_id: str, path: str) -> str:
    """The event id of the import StateChange of ``path`` (what a mission did not change)."""
    return f"{import_prefix(mission_id)}{path_key(path)}"


def import_prefix(mission_id: str) -> str:
    return f"{mission_id}.import."


def envelope(mission_id: str, event_id: str, agent: AgentId, **payload: Any) -> pb.SwarmEvent:
    """An event of the mission: its trace id and its span's id (a ticket attempt's, or the
    mission's) are the ids its spans are made with (``swarm.telemetry``)."""
    return pb.SwarmEvent(
        event_id=event_id,
        mission_id=mission_id,
        trace_id=trace_id(mission_id),
        span_id=event_span_id(mission_id, event_id),
        agent_id=str(agent),
        agent_role=agent.role.proto,
        **payload,
    )


def ticket_event(
    mission_id: str,
    ticket: Ticket,
    state: pb.TicketState,
    attempt: int,
    agent: AgentId,
    *,
    step: str,
    reason: str = "",
    payload: Mapping[str, object] | None = None,
) -> pb.SwarmEvent:
    body = payload if payload is not None else {}
    return envelope(
        mission_id,
        step_id(mission_id, ticket.id, attempt, step),
        agent,
        ticket=pb.TicketUpdate(
            ticket_id=ticket.id,
            state=state,
            agent_kind=ticket.kind,
            depends_on=list(ticket.depends_on),
            attempt=attempt,
            reason=reason,
            record=ticket_record(ticket.kind, ticket.id, state, body),
        ),
    )


def planned_event(mission_id: str, ticket: Ticket) -> pb.SwarmEvent:
    return ticket_event(
        mission_id,
        ticket,
        pb.TICKET_STATE_PLANNED,
        1,
        ORCHESTRATOR,
        step="planned",
        payload=ticket.to_json(),
    )


def decision_event(
    mission_id: str,
    event_id: str,
    agent: AgentId,
    kind: str,
    *,
    outcome: str,
    rationale: str = "",
    input: str = "",
    attributes: Mapping[str, str] | None = None,
    detail: ledger.BlobRef | None = None,
    parent: str = "",
    verdict: pb.CriticVerdict = pb.CRITIC_VERDICT_UNSPECIFIED,
    memory_refs: Iterable[str] = (),
) -> pb.SwarmEvent:
    decision = pb.Decision(
        kind=kind,
        outcome=outcome,
        rationale=rationale[:4000],
        input=input[:4000],
        attributes=dict(attributes or {}),
        verdict=verdict,
        memory_refs=list(memory_refs),
    )
    if detail is not None:
        decision.detail.CopyFrom(pb.BlobRef(sha256=detail.sha256, size=detail.size))
    ev = envelope(mission_id, event_id, agent, decision=decision)
    ev.parent_event_id = parent
    return ev


def change_event(
    mission_id: str,
    event_id: str,
    agent: AgentId,
    path: str,
    previous: bytes,
    new_blob: ledger.BlobRef | None,
    diff: str,
    token: bytes,
    reverts: str = "",
    executable: bool | None = None,
) -> pb.SwarmEvent:
    """A StateChange of ``path`` from hash ``previous`` to ``new_blob`` (None deletes);
    ``executable`` None leaves the file's mode as it was."""
    sc = pb.StateChange(
        path=path,
        previous_sha256=previous,
        unified_diff=diff,
        fencing_token=token,
        reversible=True,
        reverts_event_id=reverts,
    )
    if new_blob is None:
        sc.kind = pb.CHANGE_KIND_DELETE
    else:
        sc.new_sha256 = new_blob.sha256
        sc.new_size = new_blob.size
        sc.content.CopyFrom(pb.BlobRef(sha256=new_blob.sha256, size=new_blob.size))
        sc.kind = pb.CHANGE_KIND_MODIFY if previous else pb.CHANGE_KIND_CREATE
        if executable is not None:
            sc.executable = executable
    return envelope(mission_id, event_id, agent, state_change=sc)


def signal_event(
    mission_id: str,
    event_id: str,
    kind: pb.SignalKind,
    detail: str,
    attributes: Mapping[str, str] | None = None,
    record: mpb.MissionRecord | None = None,
) -> pb.SwarmEvent:
    signal = pb.Signal(kind=kind, subject=mission_id, detail=detail, attributes=attributes or {})
    if record is not None:
        signal.mission.CopyFrom(record)
    return envelope(mission_id, event_id, ORCHESTRATOR, signal=signal)


def started_event(
    mission_id: str,
    request: EditRequest,
    *,
    brain: str,
    brain_settings: Mapping[str, Any],
    options: MissionOptions,
    manifest: ledger.BlobRef,
    repo: str,
    skipped_locked: Iterable[str] = (),
    workspace: str = "",
    detail: str,
) -> pb.SwarmEvent:
    """MISSION_STARTED: the request, how to run it, and the workspace as it started."""
    start = MissionStart(
        request,
        brain,
        dict(brain_settings),
        options,
        manifest.sha256,
        repo,
        tuple(skipped_locked),
        workspace,
    )
    attributes, record = start.signal()
    started_id = f"{mission_id}.started"
    return signal_event(
        mission_id, started_id, pb.SIGNAL_KIND_MISSION_STARTED, detail, attributes, record
    )


def finished_event(
    mission_id: str, outcome: MissionOutcome, reason: str, *, files_changed: int
) -> pb.SwarmEvent:
    """MISSION_FINISHED: the outcome, its reason (the signal's detail), the files changed."""
    end = MissionEnd(outcome, reason, files_changed)
    finished_id = f"{mission_id}.finished"
    kind = pb.SIGNAL_KIND_MISSION_FINISHED
    return signal_event(mission_id, finished_id, kind, reason, record=end.record())


def run_event(mission_id: str, run: int) -> pb.SwarmEvent:
    """AGENT_STARTED: run ``run`` of the mission (a resume is the next run)."""
    detail = "first run" if run == 1 else f"resumed (run {run})"
    run_id = f"{mission_id}.run.{run}"
    kind = pb.SIGNAL_KIND_AGENT_STARTED
    return signal_event(mission_id, run_id, kind, detail, record=run_record(run))


def stopping_event(mission_id: str, run: int) -> pb.SwarmEvent:
    """HEALTH: the agents of run ``run`` are stopping."""
    stop_id = f"{mission_id}.stopping.r{run}"
    kind = pb.SIGNAL_KIND_HEALTH
    return signal_event(mission_id, stop_id, kind, "agents stopping", record=run_record(run))
