"""The missions package's errors: one root, facts carried as attributes.

::

    MissionError                 anything the orchestrator refuses before or while running
    ├── InvalidPlan              a ticket DAG that fails validation (``problems`` lists every one)
    ├── InvalidMission           a request, option or repository the orchestrator cannot act on
    │   └── OutsideRepository    a path that resolves outside the repository
    └── UnknownMission           no mission with that id in this project

A mission that *runs* and fails (a ticket out of retries, a critic
rejection, a lock a person never released) is not an exception: it is a
:class:`~swarm.missions.MissionReport` with ``outcome == "failed"`` and the
reason, and the ledger holds the whole story.
"""

from __future__ import annotations

from collections.abc import Sequence


class MissionError(Exception):
    """Root of every error the missions package raises."""


class InvalidPlan(MissionError):
    """A plan failed validation; ``problems`` names every problem found, not just the first."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid plan ({len(self.problems)} problem(s)):\n{listed}")


class InvalidMission(MissionError):
    """A request, option or repository the orchestrator cannot act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutsideRepository(InvalidMission):
    """A path that resolves outside the repository."""

    def __init__(self, path: str, root: str) -> None:
        super().__init__(f"path {path!r} is outside the repository {root}")
        self.path = path
        self.root = root


class UnknownMission(MissionError):
    """No mission with this id was ever started in the project."""

    def __init__(self, mission_id: str, project: str) -> None:
        super().__init__(f"no mission {mission_id!r} in project {project!r}")
        self.mission_id = mission_id
        self.project = project
