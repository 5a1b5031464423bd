"""Bisect: find the first StateChange between a good and a bad point that breaks a test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger import Ledger, RecordedEvent, Versionstamp
from replay._errors import BisectError, EmptyRange
from replay._materialise import materialise
from replay._state import Replayer

# A test runner takes a materialised project folder and says whether it passes.
# The CLI passes one that runs the command in the sandbox; replay never runs
# anything itself.
TestRunner = Callable[[Path], bool]


@dataclass(frozen=True, slots=True)
class Probe:
    versionstamp: Versionstamp
    passed: bool


@dataclass(frozen=True, slots=True)
class BisectResult:
    """The first bad change, the Decision that led to it (when found), and every probe."""

    first_bad: RecordedEvent
    decision: RecordedEvent | None
    candidates: int
    probes: list[Probe] = field(default_factory=list)


def bisect(
    replayer: Replayer,
    good: Versionstamp,
    bad: Versionstamp,
    runner: TestRunner,
    *,
    on_probe: Callable[[Probe, int, int], None] | None = None,
) -> BisectResult:
    """Binary-search the StateChanges in (good, bad] for the first whose state fails.

    It first checks that ``good`` passes and ``bad`` fails, and refuses with
    ``BisectError`` otherwise. Each probe materialises a state into a fresh
    temporary folder and hands it to ``runner``.
    """
    if not good < bad:
        raise EmptyRange(f"--good {good} must come before --bad {bad}")
    led, t, p = replayer.led, replayer.tenant, replayer.project
    changes: list[RecordedEvent] = []
    for rec in led.iter_events(t, p, after=good):
        if rec.versionstamp > bad:
            break
        if rec.kind == "state_change":
            changes.append(rec)
    if not changes:
        raise BisectError(f"no file changed between {good} and {bad}, so nothing to bisect")
    probes: list[Probe] = []
    work = Path(tempfile.mkdtemp(prefix="swarm-bisect-"))
    budget = max(2, len(changes).bit_length() + 2)

    def probe(vs: Versionstamp) -> bool:
        out = work / f"probe-{len(probes)}"
        materialise(led, t, replayer.state_at(vs), out)
        try:
            passed = runner(out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        result = Probe(vs, passed)
        probes.append(result)
        if on_probe is not None:
            on_probe(result, len(probes), budget)
        return passed

    try:
        if not probe(good):
            raise BisectError(f"the test fails at --good {good}; choose an earlier good point")
        if probe(bad):
            raise BisectError(f"the test passes at --bad {bad}; nothing broke in between")
        lo, hi = -1, len(changes) - 1  # state after changes[lo] passes, after changes[hi] fails
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if probe(changes[mid].versionstamp):
                lo = mid
            else:
                hi = mid
    finally:
        shutil.rmtree(work, ignore_errors=True)
    first = changes[hi]
    return BisectResult(first, decision_behind(led, t, p, first), len(changes), probes)


def decision_behind(led: Ledger, t: str, p: str, change: RecordedEvent) -> RecordedEvent | None:
    """The Decision that led to ``change``: its parent event, else the last one of its mission."""
    parent = change.event.parent_event_id
    if parent:
        found = led.find_event(t, parent)
        if found is not None and found[0] == p:
            rec = led.get_event(t, p, found[1])
            if rec.kind == "decision":
                return rec
    mission = change.event.mission_id
    if mission:
        earlier = led.history(
            t, p, mission=mission, before=change.versionstamp, reverse=True, limit=1000
        )
        for rec in earlier:
            if rec.kind == "decision":
                return rec
    return None
