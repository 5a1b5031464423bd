"""``Client``: the one surface every ``swarm`` command is written against."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from swarm.client._types import (
    AuditRow,
    ChangeWhy,
    Forked,
    Mission,
    MissionReport,
    MissionRun,
    MissionStory,
    Point,
    Progress,
    Query,
    Replayed,
    Started,
    VerifyReport,
)


class Client(Protocol):
    """Missions and audit of one tenant's projects, wherever they live.

    ``LocalClient`` reads and runs on a ledger opened in this process;
    ``GrpcClient`` calls a daemon. Both return the same value types (equal
    values for the same ledger) and raise only ``ClientError``.
    """

    #: Where the answers come from, as a person reads it ("the ledger", "the daemon at H:P").
    where: str

    def list_missions(self, project: str) -> list[Mission]:
        """The project's missions, oldest first."""
        ...

    def get_mission(self, project: str, mission_id: str) -> Mission:
        """One mission as it stands (NOT_FOUND if there is none)."""
        ...

    def mission_story(self, project: str, mission_id: str) -> MissionStory:
        """The mission's DAG (its tickets with their inputs) and every event of it."""
        ...

    def cancel_mission(self, project: str, mission_id: str, reason: str) -> Mission:
        """Record a cancel (a daemon only: a local mission stops with its process)."""
        ...

    def run_mission(
        self, project: str, run: MissionRun, *, progress: Progress, started: Started
    ) -> MissionReport:
        """Start the mission, tell ``started`` its id, and see it to its end."""
        ...

    def query_audit(self, project: str, q: Query) -> list[AuditRow]:
        """The events matching ``q``'s filters, oldest first (INVALID_ARGUMENT: bad filter)."""
        ...

    def who_changed(
        self, project: str, path: str, *, since_us: int | None, until_us: int | None
    ) -> list[ChangeWhy]:
        """Each change of ``path`` in the window, with the Decision behind it."""
        ...

    def verify(self, project: str, *, progress: Progress | None = None) -> VerifyReport:
        """The project's hash chain re-walked; heads, snapshots and blobs checked against it."""
        ...

    def replay_to(
        self, project: str, point: Point, out: Path, *, force: bool, progress: Progress
    ) -> Replayed:
        """Write the project's files at ``point`` into ``out``, each checked, all or nothing."""
        ...

    def fork(self, project: str, point: Point, new_project: str, *, progress: Progress) -> Forked:
        """A new project holding ``project``'s files at ``point``, linked to it."""
        ...
