"""``Client``: the one surface every ``swarm`` command is written against."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from swarm.client import _files as files_
from swarm.client import _types as v
from swarm.memory import Hit


class Client(Protocol):
    """Missions and audit of one tenant's projects, wherever they live.

    ``LocalClient`` reads and runs on a ledger opened in this process;
    ``GrpcClient`` calls a daemon. Both return the same value types (equal
    values for the same ledger) and raise only ``ClientError``.
    """

    #: Where the answers come from, as a person reads it ("the ledger", "the daemon at H:P").
    where: str

    def list_missions(self, project: str) -> list[v.Mission]:
        """The project's missions, oldest first."""
        ...

    def get_mission(self, project: str, mission_id: str) -> v.Mission:
        """One mission as it stands (NOT_FOUND if there is none)."""
        ...

    def mission_story(self, project: str, mission_id: str) -> v.MissionStory:
        """The mission's DAG (its tickets with their inputs) and every event of it."""
        ...

    def cancel_mission(self, project: str, mission_id: str, reason: str) -> v.Mission:
        """Record a cancel (a daemon only: a local mission stops with its process)."""
        ...

    def run_mission(
        self, project: str, run: v.MissionRun, *, progress: v.Progress, started: v.Started
    ) -> v.MissionReport:
        """Start the mission, tell ``started`` its id, and see it to its end."""
        ...

    def query_audit(self, project: str, q: v.Query) -> list[v.AuditRow]:
        """The events matching ``q``'s filters, oldest first (INVALID_ARGUMENT: bad filter)."""
        ...

    def who_changed(
        self, project: str, path: str, *, since_us: int | None, until_us: int | None
    ) -> list[v.ChangeWhy]:
        """Each change of ``path`` in the window, with the Decision behind it."""
        ...

    def verify(self, project: str, *, progress: v.Progress | None = None) -> v.VerifyReport:
        """The project's hash chain re-walked; heads, snapshots and blobs checked against it."""
        ...

    def replay_to(
        self, project: str, point: v.Point, out: Path, *, force: bool, progress: v.Progress
    ) -> v.Replayed:
        """Write the project's files at ``point`` into ``out``, each checked, all or nothing."""
        ...

    def fork(
        self, project: str, point: v.Point, new_project: str, *, progress: v.Progress
    ) -> v.Forked:
        """A new project holding ``project``'s files at ``point``, linked to it."""
        ...

    def files_at(self, project: str, point: v.Point) -> files_.FilesAt:
        """The project's tree (paths, sizes, hashes) at ``point``; nothing is written."""
        ...

    def file_at(self, project: str, point: v.Point, path: str) -> files_.FileAt:
        """One file's bytes at ``point`` (NOT_FOUND if it was not there then)."""
        ...

    def acquire_lock(self, project: str, path: str, holder: str, ttl_s: float) -> files_.HeldLock:
        """A person's (``human:<name>``) lock on ``path`` for ``ttl_s`` seconds."""
        ...

    def release_lock(self, project: str, path: str, holder: str, token: str) -> None:
        """Release the person's lock on ``path``, naming its fencing token (hex)."""

    def search_memory(
        self, query: str, *, project: str | None, kind: str | None, limit: int
    ) -> list[Hit]:
        """The tenant's code chunks and lessons best matching ``query``, best first
        (``project`` None: every project; ``kind`` None: both kinds)."""
        ...
