"""What a ``Client`` returns: frozen value objects, the same whichever client made them.

A mission is ``Mission`` (with its ``TicketInfo``\\ s) and its story
``MissionStory`` (with its ``StoryLine``\\ s). Audit answers are ``ops``' own
value objects (``AuditRow``, ``ChangeWhy``, ``VerifyReport``), re-exported
here: the CLI prints one type whether the rows came from this process's
ledger or from a daemon. ``swarm.client._wire`` is each type's one codec to
and from the API's messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops import AuditRow, ChangeWhy, Problem, Query, VerifyReport
from swarm.brain import EditRequest
from swarm.missions import MissionOptions, MissionReport

__all__ = [
    "AuditRow",
    "ChangeWhy",
    "Forked",
    "Mission",
    "MissionReport",
    "MissionRun",
    "MissionStory",
    "Point",
    "Problem",
    "Query",
    "Replayed",
    "StoryLine",
    "TicketInfo",
    "VerifyReport",
]

#: States a mission is over in.
FINISHED = frozenset({"succeeded", "failed"})


@dataclass(frozen=True, slots=True)
class TicketInfo:
    """One ticket of a mission's DAG as the log says it stands."""

    id: str
    kind: str  # scout, coder, critic, ...
    state: str  # planned, ready, claimed, done, failed, retry, cancelled
    attempt: int
    reason: str
    depends_on: tuple[str, ...] = ()
    inputs: Mapping[str, str] = field(default_factory=dict)  # in a story only

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "inputs": dict(self.inputs),
            "depends_on": list(self.depends_on),
            "state": self.state,
            "attempt": self.attempt,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Mission:
    """A mission as it stands: what was asked, where it is, what it changed, the verdict.

    ``state`` is ``succeeded`` or ``failed`` once it is over; before that,
    ``running`` or ``interrupted`` through a daemon (which knows its own
    threads), ``unfinished`` from a ledger opened here, ``starting`` while a
    daemon imports its workspace.
    """

    mission_id: str
    tenant: str
    project: str
    kind: str  # rename, add_param, patch, ask
    state: str
    reason: str
    started_us: int
    finished_us: int
    files_changed: tuple[str, ...] = ()
    tickets: tuple[TicketInfo, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    workspace: str = ""
    verdict: str = ""  # the critic's verdict's name; "" before it has spoken
    verdict_reason: str = ""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def outcome(self) -> str:
        """The state as ``mission show`` heads the story with it."""
        if self.finished:
            return self.state
        return "not finished" if self.state == "unfinished" else f"{self.state} (not finished)"


@dataclass(frozen=True, slots=True)
class StoryLine:
    """One event of a mission's story."""

    versionstamp: str  # 24 hex digits: `replay --at-event` takes it
    time_us: int
    agent: str
    kind: str  # decision, state_change, ticket, signal
    event_id: str
    what: str
    path: str = ""  # a state_change's file

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "versionstamp": self.versionstamp,
            "time_us": self.time_us,
            "agent": self.agent,
            "kind": self.kind,
            "event_id": self.event_id,
            "what": self.what,
        }
        if self.kind == "state_change":
            line["path"] = self.path
        return line


@dataclass(frozen=True, slots=True)
class MissionStory:
    """A mission (its tickets with their inputs) and every event of it, in log order."""

    mission: Mission
    story: tuple[StoryLine, ...]

    def to_json(self) -> dict[str, Any]:
        """The document ``mission show --json`` prints."""
        m = self.mission
        return {
            "mission_id": m.mission_id,
            "verdict": m.verdict,
            "verdict_reason": m.verdict_reason,
            "dag": [t.to_json() for t in m.tickets],
            "story": [line.to_json() for line in self.story],
        }


@dataclass(frozen=True, slots=True)
class MissionRun:
    """A mission to run: the request, its options and where it runs.

    ``repo`` is a folder on this machine (``LocalClient``); ``workspace`` a
    folder under a daemon's --workspaces (``GrpcClient``). ``brain`` and
    ``brain_settings`` choose who plans the edits (local runs only).
    """

    request: EditRequest
    options: MissionOptions = field(default_factory=MissionOptions)
    mission_id: str | None = None
    repo: Path | None = None
    workspace: str = ""
    brain: str = "rules"
    brain_settings: Mapping[str, str] = field(default_factory=dict)


#: Progress of a long call: (phase, done, total).
Progress = Callable[[str, int, int], None]
#: Told the mission's id as soon as it has one.
Started = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Point:
    """A point in a project's history: head, a time or an event, or a mission's Nth event.

    ``text`` is a time (ISO 8601 or relative, ``-2h``, measured from this
    machine's clock) or an event's 24-hex-digit versionstamp; None is head.
    """

    text: str | None = None
    mission: str | None = None
    step: int = 0


@dataclass(frozen=True, slots=True)
class Replayed:
    """A project's files written into a folder as they were at one event.

    A local replay says how it got there (``snapshot``, ``events_folded``,
    ``verification``); a replay through a daemon names it (``server``).
    """

    out: Path
    versionstamp: str
    files: int
    bytes: int
    verified: bool
    time: str = ""
    snapshot: str | None = None
    events_folded: int = 0
    verification: str = ""
    server: str = ""
    left_out: tuple[tuple[str, str], ...] = ()  # (path, reason) the import left out
    left_out_more: int = 0  # and how many more than listed
    left_out_unreadable: str = ""  # why the import's record of them could not be read

    def to_json(self) -> dict[str, Any]:
        """The document ``replay --json`` prints."""
        facts: dict[str, Any] = {
            "out": str(self.out),
            "versionstamp": self.versionstamp,
            "files": self.files,
            "bytes": self.bytes,
            "verified": self.verified,
        }
        if self.server:
            return {**facts, "server": self.server}
        return {
            **facts,
            "time": self.time,
            "snapshot": self.snapshot,
            "events_folded": self.events_folded,
            "verification": self.verification,
            "left_out": [{"path": p, "reason": why} for p, why in self.left_out],
            "left_out_more": self.left_out_more,
            **(
                {"left_out_unreadable": self.left_out_unreadable}
                if self.left_out_unreadable
                else {}
            ),
        }


@dataclass(frozen=True, slots=True)
class Forked:
    """A new project started from a past state of ``origin``."""

    project: str
    link: str  # the FORKED signal's versionstamp in the new project's log
    files: int
    origin: str
    origin_versionstamp: str

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "link": self.link,
            "files": self.files,
            "origin": self.origin,
            "origin_versionstamp": self.origin_versionstamp,
        }
