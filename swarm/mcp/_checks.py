"""What a tool refuses before it calls anything: bad cursors, paths, diffs, options.

Each check raises ``ClientError`` with INVALID_ARGUMENT and a message naming the
argument, so a refused call writes nothing and says why (the tool turns it
into an error result).
"""

from __future__ import annotations

import ledger
import replay
from swarm.brain import BrainError, parse_unified_diff
from swarm.client import ClientError, Point
from swarm.client._points import event_versionstamp


def invalid(message: str) -> ClientError:
    return ClientError("INVALID_ARGUMENT", message)


def cursor(after: str) -> str:
    """``after`` as a 24-hex-digit versionstamp ('' for the start)."""
    if not after:
        return ""
    vs = event_versionstamp(after)
    if vs is None:
        raise invalid(f"after {after[:40]!r}: a cursor is a 24-hex-digit versionstamp")
    return vs


def path(text: str, what: str = "path") -> str:
    """A repository path that stays beneath the root (no '..', not absolute, not empty)."""
    problem = replay.path_problem(text)
    if problem is not None:
        raise invalid(f"{what} {text[:200]!r}: {problem}")
    return text


def diff_paths(diff: str) -> None:
    """Refuse a diff that writes outside the repository or into its VCS metadata."""
    try:
        patches = parse_unified_diff(diff)
    except BrainError as exc:
        raise invalid(f"diff: {exc}") from None
    for patch in patches:
        for name in {patch.old_path, patch.new_path} - {None}:
            assert name is not None
            problem = replay.path_problem(name) or replay.metadata_problem(name)
            if problem is not None:
                raise invalid(f"the diff writes {name[:200]!r}: {problem}")


def point(at: str | None, mission: str | None, step: int) -> Point:
    """A point in history: ``at`` (a time or a versionstamp), or ``mission``'s ``step``th event."""
    if at and mission:
        raise invalid("give either at (a time or versionstamp) or mission with step, not both")
    if mission:
        if step < 1:
            raise invalid(f"step {step}: a mission's events count from 1")
        return Point(mission=mission, step=step)
    if at:
        try:  # a time is checked here, so a bad one is named before anything is read
            if event_versionstamp(at) is None:
                replay.parse_time(at, ledger.wall_clock_us())
        except replay.ReplayError as exc:
            raise invalid(f"at {at[:60]!r}: {exc}") from None
        return Point(text=at)
    return Point()


def window(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """(since_us, until_us) from times as ``swarm audit who --since/--until`` takes them."""
    now = ledger.wall_clock_us()
    out: list[int | None] = []
    for name, text in (("since", since), ("until", until)):
        try:
            out.append(None if not text else replay.parse_time(text, now))
        except replay.ReplayError as exc:
            raise invalid(f"{name} {text!r}: {exc}") from None
    return out[0], out[1]
