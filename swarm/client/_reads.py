"""Missions read back from a ledger as the value types: the one place both clients' answers
come from (``LocalClient`` directly, the daemon's servicer before it encodes them)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.client._types import Mission, MissionStory, StoryLine, TicketInfo
from swarm.missions import describe_event, load_view
from swarm.missions._view import MissionView

#: How an unfinished mission reads from a ledger opened here, which runs nothing itself.
UNFINISHED = ("unfinished", "")
_PAGE = 1000


def mission_ids(led: ledger.Ledger, tenant: str, project: str) -> list[str]:
    """The project's missions, oldest first."""
    return [
        rec.event.mission_id
        for rec in led.iter_events(tenant, project)
        if rec.kind == "signal" and rec.event.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED
    ]


def mission_of(
    led: ledger.Ledger,
    tenant: str,
    project: str,
    mission_id: str,
    *,
    unfinished: tuple[str, str] = UNFINISHED,
) -> Mission:
    """The mission folded from its log; ``unfinished`` is (state, reason) until it has ended.

    Raises UnknownMission if the log has no such mission.
    """
    return _mission(led, tenant, project, load_view(led, tenant, project, mission_id), unfinished)


def _mission(
    led: ledger.Ledger, tenant: str, project: str, view: MissionView, unfinished: tuple[str, str]
) -> Mission:
    assert view.started is not None
    mid = view.mission_id
    request = view.started.request
    if view.finished is not None:
        state, reason = str(view.finished.outcome), view.finished.reason
    else:
        state, reason = unfinished
    started_us, finished_us = _times(led, tenant, project, mid)
    return Mission(
        mission_id=mid,
        tenant=tenant,
        project=project,
        kind=request.kind,
        state=state,
        reason=reason,
        started_us=started_us,
        finished_us=finished_us,
        files_changed=tuple(view.changed_paths()),
        tickets=tuple(_ticket(view, tid, inputs=False) for tid in view.order),
        params={str(k): str(v) for k, v in request.params.items()},
        workspace=view.started.workspace or Path(view.started.repo).name,
        verdict=view.verdict_name,
        verdict_reason=view.verdict_reason,
    )


def _ticket(view: MissionView, tid: str, *, inputs: bool) -> TicketInfo:
    tv = view.tickets[tid]
    return TicketInfo(
        id=tid,
        kind=tv.ticket.kind,
        state=tv.state_name,
        attempt=tv.attempt,
        reason=tv.reason,
        depends_on=tuple(tv.ticket.depends_on),
        inputs=dict(tv.ticket.inputs) if inputs else {},
    )


def _times(led: ledger.Ledger, tenant: str, project: str, mission_id: str) -> tuple[int, int]:
    """When the mission's MISSION_STARTED and MISSION_FINISHED landed (0: not yet)."""
    times = []
    for end in ("started", "finished"):
        found = led.find_event(tenant, f"{mission_id}.{end}")
        times.append(led.get_event(tenant, project, found[1]).time_us if found else 0)
    return times[0], times[1]


def story_of(
    led: ledger.Ledger,
    tenant: str,
    project: str,
    mission_id: str,
    *,
    unfinished: tuple[str, str] = UNFINISHED,
) -> MissionStory:
    """The mission (its tickets with their inputs) and its events, read through the
    ledger's mission index (never the whole log)."""
    view = load_view(led, tenant, project, mission_id)
    mission = _mission(led, tenant, project, view, unfinished)
    dag = tuple(_ticket(view, tid, inputs=True) for tid in view.order)
    lines: list[StoryLine] = []
    after: ledger.Versionstamp | None = None
    while True:
        page = led.history(tenant, project, mission=mission_id, after=after, limit=_PAGE)
        lines.extend(_line(rec) for rec in page)
        if len(page) < _PAGE:
            break
        after = page[-1].versionstamp
    return MissionStory(dataclasses.replace(mission, tickets=dag), tuple(lines))


def _line(rec: ledger.RecordedEvent) -> StoryLine:
    ev = rec.event
    path = ev.state_change.path if rec.kind == "state_change" else ""
    return StoryLine(
        str(rec.versionstamp),
        rec.time_us,
        ev.agent_id,
        rec.kind,
        ev.event_id,
        describe_event(ev),
        path,
    )
