"""The missions package's errors: one root, facts carried as attributes.

::

    MissionError                 anything the orchestrator refuses before or while running
    ├── InvalidPlan              a ticket DAG that fails validation (``problems`` lists every one)
    ├── InvalidMission           a request, option or repository the orchestrator cannot act on
    │   ├── OutsideRepository    a path that resolves outside the repository
    │   ├── RefusedPath          a path the path guard refuses (symlink, metadata, malformed)
    │   └── TooManyFiles         a repository over the files-per-workspace cap
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


class RefusedPath(InvalidMission):
    """A path the path guard (``replay.GuardedTree``) refuses; ``rule`` says why."""

    def __init__(self, path: str, root: str, rule: str) -> None:
        shown = path if len(path) <= 120 else path[:117] + "..."
        super().__init__(f"refused path {shown!r} in {root}: {rule}")
        self.path = path
        self.root = root
        self.rule = rule


class TooManyFiles(InvalidMission):
    """The repository holds more tracked files than a mission may import."""

    def __init__(self, root: str, limit: int) -> None:
        super().__init__(
            f"repository {root} holds more than {limit} files, the most a mission imports "
            "(the daemon's --max-workspace-files); split it or raise the limit"
        )
        self.root = root
        self.limit = limit


class UnknownMission(MissionError):
    """No mission with this id was ever started in the project."""

    def __init__(self, mission_id: str, project: str) -> None:
        super().__init__(f"no mission {mission_id!r} in project {project!r}")
        self.mission_id = mission_id
        self.project = project
