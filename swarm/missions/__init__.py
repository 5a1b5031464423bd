"""Missions: what a person asks for, run as a durable ticket DAG by scout, coder and critic agents.

``start_mission`` imports the repository into the ledger and records the
mission; ``run_mission`` runs it (or resumes it after a crash) with one
scout, N coders and a critic that take tickets by watching the ledger::

    mid = start_mission(led, tenant, project, repo, EditRequest("rename", {...}))
    report = run_mission(led, tenant, project, mid)
    report.outcome, report.files_changed, report.tests

Everything a mission is (plan, ticket states, results, model exchanges,
changes, verdicts) is an event; ``load_view``/``mission_story`` read it back.
Errors derive from :class:`MissionError` (tree in ``swarm.missions._errors``).
"""

from __future__ import annotations

from swarm.missions._critic import Judgement, judge, run_budget
from swarm.missions._errors import (
    InvalidMission,
    InvalidPlan,
    MissionError,
    OutsideRepository,
    RefusedPath,
    TooManyFiles,
    UnknownMission,
)
from swarm.missions._identity import (
    CRITIC,
    ORCHESTRATOR,
    SCOUT,
    AgentId,
    MissionOutcome,
    Role,
    coder_id,
)
from swarm.missions._options import MissionOptions
from swarm.missions._orchestrator import (
    MissionReport,
    load_view,
    new_mission_id,
    report_of,
    rollback,
    run_mission,
    start_mission,
)
from swarm.missions._plan import (
    AGENT_KINDS,
    AllowPaths,
    DenyPaths,
    MaxFilesChanged,
    Plan,
    Policy,
    Ticket,
    check_target,
    parse_policy,
    topological_order,
    validate_plan,
)
from swarm.missions._records import MissionEnd, MissionStart
from swarm.missions._runtime import Progress
from swarm.missions._story import describe_event, mission_story
from swarm.missions._view import VERDICT_NAMES, ChangeView, MissionView, TicketView
from swarm.missions._workspace import walk_repo

__all__ = [
    "AGENT_KINDS",
    "CRITIC",
    "ORCHESTRATOR",
    "SCOUT",
    "VERDICT_NAMES",
    "AgentId",
    "AllowPaths",
    "ChangeView",
    "DenyPaths",
    "InvalidMission",
    "InvalidPlan",
    "Judgement",
    "MaxFilesChanged",
    "MissionEnd",
    "MissionError",
    "MissionOptions",
    "MissionOutcome",
    "MissionReport",
    "MissionStart",
    "MissionView",
    "OutsideRepository",
    "Plan",
    "Policy",
    "Progress",
    "RefusedPath",
    "Role",
    "Ticket",
    "TicketView",
    "TooManyFiles",
    "UnknownMission",
    "check_target",
    "coder_id",
    "describe_event",
    "judge",
    "load_view",
    "mission_story",
    "new_mission_id",
    "parse_policy",
    "report_of",
    "rollback",
    "run_budget",
    "run_mission",
    "start_mission",
    "topological_order",
    "validate_plan",
    "walk_repo",
]
