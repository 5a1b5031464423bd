"""A mission's DAG and story, read back from the ledger alone."""

from __future__ import annotations

from typing import Any

from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._view import STATE_NAMES, MissionView


def mission_story(led: Ledger, tenant: str, project: str, view: MissionView) -> dict[str, Any]:
    """The critic's verdict, the DAG (tickets, dependencies, states, attempts, reasons) and
    every event in order."""
    dag = [
        {
            "id": tid,
            "kind": view.tickets[tid].ticket.kind,
            "inputs": dict(view.tickets[tid].ticket.inputs),
            "depends_on": list(view.tickets[tid].ticket.depends_on),
            "state": view.tickets[tid].state_name,
            "attempt": view.tickets[tid].attempt,
            "reason": view.tickets[tid].reason,
        }
        for tid in view.order
    ]
    story = []
    for rec in led.iter_events(tenant, project, after=None):
        ev = rec.event
        if ev.mission_id != view.mission_id:
            continue
        line: dict[str, Any] = {
            "versionstamp": str(rec.versionstamp),
            "time_us": rec.time_us,
            "agent": ev.agent_id,
            "kind": rec.kind,
            "event_id": ev.event_id,
        }
        line["what"] = describe_event(ev)
        if rec.kind == "state_change":
            line["path"] = ev.state_change.path
        story.append(line)
    return {
        "mission_id": view.mission_id,
        "verdict": view.verdict_name,
        "verdict_reason": view.verdict_reason,
        "dag": dag,
        "story": story,
    }


def describe_event(ev: pb.SwarmEvent) -> str:
    """One line a person can read: what this event decided, changed, moved or signalled."""
    kind = ev.WhichOneof("payload")
    if kind == "decision":
        d = ev.decision
        return f"{d.kind} -> {d.outcome}: {d.rationale[:200]}"
    if kind == "state_change":
        sc = ev.state_change
        verb = "reverts " + sc.reverts_event_id if sc.reverts_event_id else "changes"
        old, new = sc.previous_sha256.hex()[:10] or "-", sc.new_sha256.hex()[:10] or "-"
        return f"{verb} {sc.path} {old} -> {new}"
    if kind == "ticket":
        t = ev.ticket
        why = f": {t.reason[:200]}" if t.reason else ""
        state = STATE_NAMES.get(t.state, "?")
        return f"ticket {t.ticket_id} {state} (attempt {t.attempt}){why}"
    name = pb.SignalKind.Name(ev.signal.kind).removeprefix("SIGNAL_KIND_").lower()
    return f"signal {name}: {ev.signal.detail}"
