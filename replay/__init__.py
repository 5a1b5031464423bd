"""Any past state of a project, from its ledger alone: replay, diff, fork, bisect.

::

    from replay import Replayer, materialise

    r = Replayer(led, "acme", "shop")
    state = r.state_at(r.at_time("-2h"))      # or at_event(hex), at_mission_step(id, n)
    materialise(led, "acme", state, Path("out"))

A state is the fold of the project's StateChanges, started from the nearest
snapshot (a manifest of path → content hash kept in the ledger, taken every N
events and at mission ends by ``Replayer.take_snapshots``). Every change is
checked against the hash chain (its previous hash must be the replayed
content's) and every file's content against its hash; a disagreement is
``ChainBroken`` and nothing is written. Replay never calls a model, a tool or
the sandbox: bisect takes the test runner as an argument. Every file written
to disk (here, and by the missions' workspace code above this layer) goes
through ``GuardedTree``, the one path guard: component by component, never
through a symlink, never outside its root. Errors derive from
``ReplayError`` (tree in ``replay._errors``).
"""

from __future__ import annotations

from replay._bisect import BisectResult, Probe, TestRunner, bisect, decision_behind
from replay._errors import (
    BadPoint,
    BisectError,
    ChainBroken,
    EmptyRange,
    ForkError,
    OutputNotEmpty,
    ReplayError,
    TimeBeforeProject,
    TimeInFuture,
    UnknownPoint,
    UnparseableTime,
    UnsafePath,
)
from replay._fork import FORK_AGENT, Forked, fork
from replay._guard import (
    METADATA_NAMES,
    SCRATCH,
    GuardedTree,
    metadata_problem,
    path_problem,
)
from replay._materialise import (
    Materialised,
    materialise,
    read_contents,
    unified_diff,
    write_tree,
)
from replay._omissions import (
    IMPORTER,
    OMITTED_KIND,
    Omissions,
    left_out,
    omission_event,
    omissions_at,
)
from replay._state import (
    DEFAULT_SNAPSHOT_EVERY,
    Entry,
    Progress,
    Replayer,
    State,
    apply_change,
    decode_manifest,
    encode_manifest,
    executable_after,
    fold,
)
from replay._time import format_time, parse_time

__all__ = [
    "DEFAULT_SNAPSHOT_EVERY",
    "FORK_AGENT",
    "IMPORTER",
    "METADATA_NAMES",
    "OMITTED_KIND",
    "SCRATCH",
    "BadPoint",
    "BisectError",
    "BisectResult",
    "ChainBroken",
    "EmptyRange",
    "Entry",
    "ForkError",
    "Forked",
    "GuardedTree",
    "Materialised",
    "Omissions",
    "OutputNotEmpty",
    "Probe",
    "Progress",
    "ReplayError",
    "Replayer",
    "State",
    "TestRunner",
    "TimeBeforeProject",
    "TimeInFuture",
    "UnknownPoint",
    "UnparseableTime",
    "UnsafePath",
    "apply_change",
    "bisect",
    "decision_behind",
    "decode_manifest",
    "encode_manifest",
    "executable_after",
    "fold",
    "fork",
    "format_time",
    "left_out",
    "materialise",
    "metadata_problem",
    "omission_event",
    "omissions_at",
    "parse_time",
    "path_problem",
    "read_contents",
    "unified_diff",
    "write_tree",
]
