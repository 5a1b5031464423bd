"""A mission as the API shows it (``api.Mission``), folded from its events."""

from __future__ import annotations

from pathlib import Path

import ledger
from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._mission_records import Starting
from swarm.missions import load_view
from swarm.missions._view import MissionView


def describe(
    led: ledger.Ledger, tenant: str, project: str, mission_id: str, *, alive: bool
) -> api.Mission:
    """The mission from its log; ``alive`` says whether a thread of this daemon runs it.

    Raises UnknownMission if the log has no such mission.
    """
    view = load_view(led, tenant, project, mission_id)
    assert view.started is not None
    request = view.started.request
    if view.finished is not None:
        state, reason = str(view.finished.outcome), view.finished.reason
    else:
        state = "running" if alive else "interrupted"
        reason = "" if alive else "no process runs it; a daemon restart resumes it"
    started_us, finished_us = _times(led, tenant, project, mission_id)
    return api.Mission(
        mission_id=mission_id,
        project=api.ProjectRef(tenant=tenant, project=project),
        kind=request.kind,
        params={str(k): str(v) for k, v in request.params.items()},
        state=state,
        reason=reason,
        tickets=_tickets(view),
        started_us=started_us,
        finished_us=finished_us,
        files_changed=view.changed_paths(),
        workspace=view.started.workspace or Path(view.started.repo).name,
        verdict=view.verdict,  # type: ignore[arg-type]
        verdict_reason=view.verdict_reason,
    )


def _times(led: ledger.Ledger, tenant: str, project: str, mission_id: str) -> tuple[int, int]:
    """When the mission's MISSION_STARTED and MISSION_FINISHED landed (0: not yet)."""
    times = []
    for end in ("started", "finished"):
        found = led.find_event(tenant, f"{mission_id}.{end}")
        times.append(led.get_event(tenant, project, found[1]).time_us if found else 0)
    return times[0], times[1]


def _tickets(view: MissionView) -> list[api.Ticket]:
    return [
        api.Ticket(
            ticket_id=tv.ticket.id,
            state=tv.state,  # type: ignore[arg-type]
            agent_kind=tv.ticket.kind,
            depends_on=list(tv.ticket.depends_on),
            attempt=tv.attempt,
            reason=tv.reason,
        )
        for tv in (view.tickets[t] for t in view.order)
    ]


def describe_start(tenant: str, project: str, mission_id: str, start: Starting) -> api.Mission:
    """A mission whose thread is still importing its workspace, or whose import failed."""
    return api.Mission(
        mission_id=mission_id,
        project=api.ProjectRef(tenant=tenant, project=project),
        kind=start.request.kind,
        params=dict(start.request.params),
        state="failed" if start.error else "starting",
        reason=start.error
        or ("importing the workspace" + ("; cancel requested" if start.cancel else "")),
        started_us=start.started_us,
        workspace=start.workspace,
    )
