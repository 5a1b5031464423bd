"""A mission's lesson: what it was asked, what it changed, what the critic said, how it ended.

Read from the ledger alone (``swarm.missions.load_view``), so dropping memory
and rebuilding it writes the same text. The order puts what a later mission
most needs first (the request, the outcome and the critic's rejections with
their failing tests), because the embedding model reads only the first 256
word pieces; the keyword vector covers the whole text.
"""

from __future__ import annotations

from dataclasses import dataclass

import ledger
from ops import format_request
from proto.swarm.v1 import events_pb2 as pb
from swarm.missions import MissionError, load_view
from swarm.missions._events import import_prefix
from swarm.missions._view import MissionView

MAX_DIFF_LINES = 12
MAX_DECISIONS = 24


@dataclass(frozen=True, slots=True)
class LessonDoc:
    """The lesson of one mission, ready to embed."""

    mission_id: str
    outcome: str
    verdict: str
    versionstamp: str
    text: str


def lesson_of(led: ledger.Ledger, tenant: str, project: str, mission_id: str) -> LessonDoc | None:
    """The mission's lesson as its events stand, or None if the log holds no such mission."""
    try:
        view = load_view(led, tenant, project, mission_id)
    except MissionError:
        return None
    assert view.started is not None and view.cursor is not None
    request = view.started.request
    outcome = str(view.finished.outcome) if view.finished is not None else "unfinished"
    lines = [f"Mission {mission_id} asked: {format_request(request.kind, request.params)}."]
    prompt = request.params.get("prompt") or request.params.get("goal")
    if prompt:
        lines.append(f"Request: {prompt[:600]}")
    reason = f": {view.finished.reason}" if view.finished is not None else ""
    lines.append(f"Outcome: {outcome}{reason}.")
    if view.verdict_name:
        lines.append(f"Critic verdict: {view.verdict_name}: {view.verdict_reason[:1500]}")
    lines.extend(_rejections(view))
    lines.extend(_edits(view))
    lines.extend(_decisions(view))
    return LessonDoc(
        mission_id, outcome, view.verdict_name, str(view.cursor), "\n".join(lines)[:12000]
    )


def _rejections(view: MissionView) -> list[str]:
    """Every critic rejection (a retry's earlier ones too), with its failing tests."""
    out = []
    for rec in view.decision("critic.verdict"):
        d = rec.event.decision
        if d.verdict == pb.CRITIC_VERDICT_REJECTED:
            out.append(f"Rejected ({d.input or 'the edits'}): {d.rationale[:1500]}")
    return out


def _edits(view: MissionView) -> list[str]:
    """Each edit the mission made (its import left out), a few of its diff lines, reverts."""
    prefix = import_prefix(view.mission_id)
    reverted = {c.reverts for c in view.changes if c.reverts}
    out = []
    for change in view.changes:
        if change.event_id.startswith(prefix):
            continue
        if change.reverts:
            out.append(f"Reverted the edit of {change.path}.")
            continue
        mark = " (later reverted)" if change.event_id in reverted else ""
        out.append(f"Edited {change.path} by {change.agent_id}{mark}:")
        changed = [
            ln
            for ln in change.diff.splitlines()
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
        ]
        out.extend(f"  {ln[:160]}" for ln in changed[:MAX_DIFF_LINES])
    return out


def _decisions(view: MissionView) -> list[str]:
    """The Decisions' rationales, one line each (the verdicts are above already)."""
    out = []
    for rec in view.decisions[:MAX_DECISIONS]:
        d = rec.event.decision
        if d.kind == "critic.verdict" or not d.rationale:
            continue
        out.append(f"Decision {d.kind} -> {d.outcome}: {d.rationale[:300]}")
    return out
