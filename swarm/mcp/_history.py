"""The history tools: a tree or a file at a point, who changed a path, a person's lock."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from pydantic import Field

from swarm.daemon import Role
from swarm.mcp import _checks as check
from swarm.mcp._binding import Binding
from swarm.mcp._missions import Project

At = Annotated[
    str | None,
    Field(
        description="a time (ISO 8601, or relative: -2h) or an event's 24-hex-digit "
        "versionstamp; default: head"
    ),
]
Mission = Annotated[str | None, Field(description="a mission id: the point is its step-th event")]
Step = Annotated[int, Field(ge=0, description="with mission: which of its events (from 1)")]
RepoPath = Annotated[str, Field(description="a file's path in the repository, e.g. shop/cart.py")]
Holder = Annotated[str, Field(description="the person holding the lock: human:<name>")]


class HistoryTools:
    """Replay, audit and locks through the binding's client."""

    def __init__(self, binding: Binding) -> None:
        self.b = binding

    def tree(
        self,
        at: At = None,
        mission: Mission = None,
        step: Step = 0,
        prefix: Annotated[str, Field(description="only paths starting with this")] = "",
        project: Project = None,
    ) -> dict[str, Any]:
        """The project's files (path, size, sha256) as they stood at a point in its history."""
        self.b.need(Role.OPS, "a replay")
        point = check.point(at, mission, step)
        got = self.b.client.files_at(self.b.project_of(project), point)
        files = [f.to_json() for f in got.files if f.path.startswith(prefix)]
        return {"versionstamp": got.versionstamp, "files": files}

    def file(
        self,
        path: RepoPath,
        at: At = None,
        mission: Mission = None,
        step: Step = 0,
        project: Project = None,
    ) -> dict[str, Any]:
        """One file's content as it stood at a point (UTF-8 text, else base64)."""
        self.b.need(Role.OPS, "a replay")
        point = check.point(at, mission, step)
        got = self.b.client.file_at(self.b.project_of(project), point, check.path(path))
        out: dict[str, Any] = {
            "path": got.path,
            "versionstamp": got.versionstamp,
            "size": got.size,
            "sha256": got.sha256,
        }
        try:
            out.update(encoding="utf-8", content=got.content.decode("utf-8"))
        except UnicodeDecodeError:
            out.update(encoding="base64", content=base64.b64encode(got.content).decode("ascii"))
        return out

    def who_changed(
        self,
        path: RepoPath,
        since: Annotated[str | None, Field(description="from this time (ISO or -2h)")] = None,
        until: Annotated[str | None, Field(description="up to this time (ISO or -2h)")] = None,
        project: Project = None,
    ) -> dict[str, Any]:
        """Each change of ``path``: who made it, when, and the Decision (and verdict) behind it."""
        self.b.need(Role.OPS, "an audit")
        since_us, until_us = check.window(since, until)
        rows = self.b.client.who_changed(
            self.b.project_of(project), check.path(path), since_us=since_us, until_us=until_us
        )
        return {"path": path, "changes": [r.as_dict() for r in rows]}

    def lock(
        self,
        path: RepoPath,
        holder: Holder,
        ttl_s: Annotated[float, Field(gt=0, le=86_400, description="the lease, seconds")] = 300.0,
        project: Project = None,
    ) -> dict[str, Any]:
        """Take a person's lock on ``path``: agents wait for it (or the lease to lapse)."""
        self.b.need(Role.IDE, "a lock")
        held = self.b.client.acquire_lock(
            self.b.project_of(project), check.path(path), holder, ttl_s
        )
        return held.to_json()

    def unlock(
        self,
        path: RepoPath,
        holder: Holder,
        token: Annotated[str, Field(description="the fencing token lock_take returned")],
        project: Project = None,
    ) -> dict[str, Any]:
        """Release a person's lock on ``path``."""
        self.b.need(Role.IDE, "a lock")
        self.b.client.release_lock(self.b.project_of(project), check.path(path), holder, token)
        return {"path": path, "released": True}
