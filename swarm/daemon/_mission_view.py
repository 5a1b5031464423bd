"""A mission as the API shows it (``api.Mission``), folded from its events.

The fold is ``swarm.client._reads``, the one ``LocalClient`` reads with too;
this module adds what only the daemon knows (whether its own thread runs the
mission, a start still importing) and encodes it (``swarm.client._wire``).
"""

from __future__ import annotations

import ledger
from proto.swarm.v1 import service_pb2 as api
from swarm.client._reads import mission_of, story_of
from swarm.client._wire import mission_to_pb, story_to_pb
from swarm.daemon._mission_records import Starting

_INTERRUPTED = ("interrupted", "no process runs it; a daemon restart resumes it")


def _unfinished(alive: bool) -> tuple[str, str]:
    return ("running", "") if alive else _INTERRUPTED


def describe(
    led: ledger.Ledger, tenant: str, project: str, mission_id: str, *, alive: bool
) -> api.Mission:
    """The mission from its log; ``alive`` says whether a thread of this daemon runs it.

    Raises UnknownMission if the log has no such mission.
    """
    found = mission_of(led, tenant, project, mission_id, unfinished=_unfinished(alive))
    return mission_to_pb(found)


def story(
    led: ledger.Ledger, tenant: str, project: str, mission_id: str, *, alive: bool
) -> api.MissionStory:
    """The mission with its tickets' inputs, and every event of it (UnknownMission if none)."""
    told = story_of(led, tenant, project, mission_id, unfinished=_unfinished(alive))
    return story_to_pb(told)


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
