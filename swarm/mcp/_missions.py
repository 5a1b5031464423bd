"""The mission tools: submit a rename, an add-param or a diff; follow it; get its result.

Each submit tool builds the CLI's ``MissionRun`` and hands it to ``Runs`` (the
client's ``run_mission`` on a thread); ``follow`` returns the mission's events
after a cursor (waiting a little for new ones), ``result`` what it came to.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from pydantic import Field

from swarm.brain import EditRequest
from swarm.client import ClientError, MissionRun
from swarm.daemon import Role
from swarm.mcp import _checks as check
from swarm.mcp._binding import Binding
from swarm.mcp._runs import Runs
from swarm.missions import InvalidMission, MissionOptions

#: How often ``follow`` looks again while it waits for new events.
_POLL_S = 0.2
_MAX_WAIT_S = 60.0

Project = Annotated[
    str | None, Field(description="the project (default: the one this server was started on)")
]
Workspace = Annotated[
    str | None,
    Field(
        description="through a daemon: the repository folder under its --workspaces "
        "(default: the project's name); not used on the embedded ledger"
    ),
]
RunTests = Annotated[
    bool, Field(description="run the project's tests in the sandbox before and after (critic)")
]
Coders = Annotated[int, Field(ge=1, le=64, description="coders working in parallel")]
AllowUnverified = Annotated[
    bool, Field(description="finish marked unverified when the tests cannot judge the change")
]
MissionId = Annotated[str, Field(description="the mission's id (m + hex digits)")]


class MissionTools:
    """Submit, follow and read missions through the binding's client."""

    def __init__(self, binding: Binding, runs: Runs) -> None:
        self.b = binding
        self.runs = runs

    def submit(
        self,
        request: EditRequest,
        project: str | None,
        workspace: str | None,
        *,
        run_tests: bool,
        coders: int,
        allow_unverified: bool,
    ) -> dict[str, Any]:
        """Start the mission; its id and where to follow it."""
        self.b.need(Role.IDE, "a mission")
        p = self.b.project_of(project)
        if not self.b.remote and p != self.b.project:
            raise check.invalid(
                f"project {p!r}: this server runs missions on {self.b.repo} (project "
                f"{self.b.project!r}); start another `swarm mcp --repo DIR` for another repository"
            )
        if workspace and not self.b.remote:
            raise check.invalid("workspace names a folder under a daemon's --workspaces")
        try:
            options = MissionOptions(
                coders=coders, run_tests=run_tests, allow_unverified=allow_unverified
            )
        except InvalidMission as exc:
            raise check.invalid(str(exc)) from None
        run = MissionRun(
            request=request,
            options=options,
            repo=self.b.repo,
            workspace=(workspace or p) if self.b.remote else "",
        )
        mid = self.runs.submit(p, run)
        return {"mission_id": mid, "project": p, "kind": request.kind, "state": "running"}

    def follow(
        self,
        mission_id: MissionId,
        after: Annotated[
            str,
            Field(description="the cursor a previous call returned ('' for the first event)"),
        ] = "",
        wait_s: Annotated[
            float,
            Field(ge=0, le=_MAX_WAIT_S, description="wait up to this long for new events"),
        ] = 10.0,
        limit: Annotated[int, Field(ge=1, le=1000, description="at most this many events")] = 200,
        project: Project = None,
    ) -> dict[str, Any]:
        """The mission's events after the cursor ``after``, its state, and the next cursor.

        Call again with the returned ``cursor`` until ``finished`` is true.
        """
        self.b.need(Role.OPS, "following a mission")
        p, since = self.b.project_of(project), check.cursor(after)
        deadline = time.monotonic() + wait_s
        while True:
            story = self.b.client.mission_story(p, mission_id)
            new = [e for e in story.story if e.versionstamp > since][:limit]
            m = story.mission
            if new or m.finished or time.monotonic() >= deadline:
                break
            time.sleep(_POLL_S)
        more = len(new) == limit
        return {
            "mission_id": m.mission_id,
            "state": m.state,
            "finished": m.finished and not more,  # over, and every event handed out
            "events": [e.to_json() for e in new],
            "cursor": new[-1].versionstamp if new else since,
            "more": more,
        }

    def result(self, mission_id: MissionId, project: Project = None) -> dict[str, Any]:
        """What the mission came to: state, verdict, files changed, tickets (and test counts
        when this server ran it)."""
        self.b.need(Role.OPS, "reading a mission")
        m = self.b.client.get_mission(self.b.project_of(project), mission_id)
        out: dict[str, Any] = {
            "mission_id": m.mission_id,
            "project": m.project,
            "kind": m.kind,
            "state": m.state,
            "finished": m.finished,
            "reason": m.reason,
            "verdict": m.verdict,
            "verdict_reason": m.verdict_reason,
            "files_changed": list(m.files_changed),
            "tickets": [t.to_json() for t in m.tickets],
        }
        report, error = self.runs.outcome(mission_id)
        if report is not None:
            out["report"] = report.to_json()
        if error is not None:
            out["error"] = str(error)
        return out

    def listing(self, project: Project = None) -> dict[str, Any]:
        """The project's missions, oldest first."""
        self.b.need(Role.OPS, "listing missions")
        missions = self.b.client.list_missions(self.b.project_of(project))
        return {
            "missions": [
                {
                    "mission_id": m.mission_id,
                    "kind": m.kind,
                    "state": m.state,
                    "verdict": m.verdict,
                    "files_changed": len(m.files_changed),
                }
                for m in missions
            ]
        }


def rename_request(old: str, new: str, in_docs: bool) -> EditRequest:
    params = {"old": old, "new": new}
    if in_docs:
        params["in_docs"] = "1"
    return EditRequest("rename", params)


def add_param_request(function: str, param: str, default: str, value: str | None) -> EditRequest:
    params = {"function": function, "param": param, "default": default}
    if value is not None:
        params["value"] = value
    return EditRequest("add_param", params)


def patch_request(diff: str) -> EditRequest:
    check.diff_paths(diff)
    return EditRequest("patch", {"diff": diff})


__all__ = ["ClientError", "MissionTools", "add_param_request", "patch_request", "rename_request"]
