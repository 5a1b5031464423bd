"""What a workspace import left out, recorded so a replay can say which files it lacks.

An import copies the repository's tracked files into the ledger; the rest
(hidden files, caches, virtual environments, symlinks) never enters it, so a
replay cannot bring them back. :func:`left_out` lists them against the set of
imported paths, without knowing the import's rules: a folder holding no
imported file is one entry (never descended into), and in a folder that does,
each entry not imported is one. VCS and tool metadata (``.git``, ``.swarm``)
are not project files and are not listed. :func:`omission_event` records the
list as a Decision of kind ``workspace.omitted`` (an ``ImportOmissions``), and
:func:`omissions_at` finds the one in force at a point of the log.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledger import METADATA_DIRS, Ledger, LedgerError, RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import records_pb2 as rpb

OMITTED_KIND = "workspace.omitted"
IMPORTER = "orchestrator-1"  # the agent that imports a workspace (and records its omissions)
MAX_LISTED = 200
_REASONS = {
    rpb.OMIT_REASON_FOLDER: "folder",
    rpb.OMIT_REASON_FILE: "file",
    rpb.OMIT_REASON_SYMLINK: "symlink",
    rpb.OMIT_REASON_SPECIAL: "special",
}


@dataclass(frozen=True, slots=True)
class Omissions:
    """The entries an import left out (``paths``: (path, reason)), and how many more."""

    paths: tuple[tuple[str, str], ...]
    more: int = 0
    recorded_at: Versionstamp | None = None
    unreadable: str = ""  # why the record could not be read (the replay itself stands)

    def __len__(self) -> int:
        return len(self.paths) + self.more


def left_out(root: Path, imported: Iterable[str]) -> rpb.ImportOmissions:
    """The entries under ``root`` that are not among the ``imported`` paths (see above)."""
    held: set[str] = set()
    for path in imported:
        parts = path.split("/")
        held.update("/".join(parts[:i]) for i in range(1, len(parts)))
    wanted = set(imported)
    found: _Found = []
    _scan(root, "", wanted, held, found)
    found.sort()
    return rpb.ImportOmissions(
        paths=[rpb.OmittedPath(path=p, reason=r) for p, r in found[:MAX_LISTED]],
        more=max(0, len(found) - MAX_LISTED),
    )


_Found = list[tuple[str, rpb.OmitReason]]


def _scan(root: Path, rel: str, wanted: set[str], held: set[str], found: _Found) -> None:
    """Add the entries of folder ``rel`` that no imported path accounts for to ``found``."""
    with os.scandir(root / rel if rel else root) as entries:
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            if entry.name.rstrip(". ").casefold() in METADATA_DIRS or path in wanted:
                continue
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                found.append((path, rpb.OMIT_REASON_SYMLINK))
            elif stat.S_ISDIR(mode):
                if path in held:
                    _scan(root, path, wanted, held, found)
                else:
                    found.append((path + "/", rpb.OMIT_REASON_FOLDER))
            elif stat.S_ISREG(mode):
                found.append((path, rpb.OMIT_REASON_FILE))
            else:
                found.append((path, rpb.OMIT_REASON_SPECIAL))


def omission_event(
    event_id: str, mission_id: str, omitted: rpb.ImportOmissions, agent_id: str = IMPORTER
) -> pb.SwarmEvent:
    """The Decision that records ``omitted`` for a mission's import."""
    count = len(omitted.paths) + omitted.more
    return pb.SwarmEvent(
        event_id=event_id,
        mission_id=mission_id,
        agent_role=pb.AGENT_ROLE_ORCHESTRATOR,
        agent_id=agent_id,
        decision=pb.Decision(
            kind=OMITTED_KIND,
            rationale=(
                f"{count} entr{'y' if count == 1 else 'ies'} of the folder are not imported "
                "(hidden, caches, environments, symlinks): a replay cannot bring them back"
            ),
            outcome="left out",
            omitted=omitted,
        ),
    )


def omissions_at(
    led: Ledger, tenant: str, project: str, vs: Versionstamp, agent_id: str = IMPORTER
) -> Omissions | None:
    """The omissions recorded by the last import at or before ``vs`` (None: none recorded).

    A log that cannot be read on the way (a damaged record) gives ``unreadable``
    saying why, rather than failing a replay whose own state was read and checked.
    """
    try:
        return _find(led, tenant, project, vs, agent_id)
    except LedgerError as exc:
        return Omissions((), unreadable=str(exc))


def _find(
    led: Ledger, tenant: str, project: str, vs: Versionstamp, agent_id: str
) -> Omissions | None:
    before: Versionstamp | None = None
    while True:
        page = led.history(tenant, project, agent=agent_id, before=before, reverse=True)
        for rec in page:
            if rec.versionstamp <= vs and _is_omission(rec):
                return _read(rec)
        if len(page) < 1000:
            return None
        before = page[-1].versionstamp


def _is_omission(rec: RecordedEvent) -> bool:
    return rec.kind == "decision" and rec.event.decision.kind == OMITTED_KIND


def _read(rec: RecordedEvent) -> Omissions:
    o = rec.event.decision.omitted
    paths = tuple((p.path, _REASONS.get(p.reason, "unknown")) for p in o.paths)
    return Omissions(paths, o.more, rec.versionstamp)
