"""Forking: a new project whose history starts from a past state of another."""

from __future__ import annotations

from dataclasses import dataclass

import ledger
from ledger import Ledger, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from replay._errors import ForkError, UnsafePath
from replay._guard import metadata_problem, path_problem
from replay._state import Entry, State

FORK_AGENT = "replay.fork"
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Forked:
    """The new project, the event that links it to its origin, and what it holds."""

    project: str
    link: Versionstamp
    files: int


def _created(link_id: str, path: str, entry: Entry) -> pb.SwarmEvent:
    """The fork's CREATE of ``path`` as ``entry`` (its blob shared, its mode kept)."""
    return pb.SwarmEvent(
        event_id=ledger.new_event_id(),
        agent_role=pb.AGENT_ROLE_SYSTEM,
        agent_id=FORK_AGENT,
        parent_event_id=link_id,
        state_change=pb.StateChange(
            path=path,
            new_sha256=entry.sha256,
            new_size=entry.size,
            content=pb.BlobRef(sha256=entry.sha256, size=entry.size),
            kind=pb.CHANGE_KIND_CREATE,
            reversible=True,
            executable=entry.executable,
        ),
    )


def fork(led: Ledger, tenant: str, origin: str, state: State, new_project: str) -> Forked:
    """Create ``new_project`` holding ``state``'s files, linked to ``origin`` by a FORKED signal.

    The new log reads: PROJECT_CREATED, SIGNAL_KIND_FORKED (subject = origin
    project, attributes ``origin_project``, ``origin_versionstamp``,
    ``origin_time_us``), then one CREATE StateChange per file. Content blobs are
    shared within the tenant, so nothing is copied. The same signal is appended
    to the origin, so its history names its forks too. A state holding a path the
    guard refuses (``..``, absolute, NUL, VCS metadata) is refused before anything
    is created (:class:`UnsafePath`).
    """
    for path in state.files:
        problem = path_problem(path) or metadata_problem(path)
        if problem is not None:
            raise UnsafePath(path, f"fork of {origin} at {state.versionstamp}", problem)
    try:
        led.create_project(tenant, new_project)
    except ledger.AlreadyExists:
        raise ForkError(f"project {new_project!r} already exists; choose another name") from None
    except ledger.InvalidArgument as exc:
        raise ForkError(f"cannot name a project {new_project!r}: {exc}") from None
    attributes = {
        "origin_project": origin,
        "origin_versionstamp": str(state.versionstamp),
        "origin_time_us": str(state.time_us),
        "new_project": new_project,
        "files": str(len(state.files)),
    }
    link = pb.SwarmEvent(
        event_id=ledger.new_event_id(),
        agent_role=pb.AGENT_ROLE_SYSTEM,
        agent_id=FORK_AGENT,
        signal=pb.Signal(
            kind=pb.SIGNAL_KIND_FORKED,
            subject=origin,
            detail=f"forked from {origin} at {state.versionstamp}",
            attributes=attributes,
        ),
    )
    (linked,) = led.append(tenant, new_project, [link])
    changes = [_created(link.event_id, p, e) for p, e in sorted(state.files.items())]
    for start in range(0, len(changes), _BATCH):
        led.append(tenant, new_project, changes[start : start + _BATCH])
    back = pb.SwarmEvent()
    back.CopyFrom(link)
    back.event_id = ledger.new_event_id()
    back.signal.subject = new_project
    led.append(tenant, origin, [back])
    return Forked(new_project, linked.versionstamp, len(changes))
