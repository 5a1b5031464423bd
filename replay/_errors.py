"""Replay's errors: every refusal names its problem; nothing is written half.

::

    ReplayError
    ├── BadPoint                    the point to replay at cannot be used
    │   ├── UnparseableTime         not ISO 8601 nor a relative offset like -2h
    │   ├── TimeBeforeProject       earlier than the project's first event
    │   ├── TimeInFuture            later than now
    │   ├── UnknownPoint            a versionstamp or mission step the log does not hold
    │   └── EmptyRange              --from/--to or --good/--bad out of order
    ├── OutputNotEmpty              --out exists and holds files (use --force)
    ├── ChainBroken                 a StateChange or blob disagrees with the hash chain
    ├── UnsafePath                  a path the guard will not read or write (leaves its root,
    │                               goes through a symlink, names VCS/tool metadata, malformed)
    ├── ForkError                   the fork's new project cannot be made
    └── BisectError                 the good/bad endpoints do not behave as claimed

Ledger errors (``ledger.LedgerError``) pass through unchanged: an unknown
tenant or project is the ledger's to name.
"""

from __future__ import annotations


class ReplayError(Exception):
    """Root of every error replay raises."""


class BadPoint(ReplayError, ValueError):
    """The point in history to replay at cannot be used."""


class UnparseableTime(BadPoint):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"cannot read time {text!r}: use ISO 8601 (2026-11-21T17:30:00Z) "
            "or a relative offset like -2h, -15m, -3d, -30s"
        )
        self.text = text


class TimeBeforeProject(BadPoint):
    def __init__(self, text: str, time_us: int, created_us: int) -> None:
        super().__init__(
            f"time {text!r} ({_iso(time_us)}) is before the project existed "
            f"(its first event is at {_iso(created_us)})"
        )
        self.text = text
        self.time_us = time_us
        self.created_us = created_us


class TimeInFuture(BadPoint):
    def __init__(self, text: str, time_us: int, now_us: int) -> None:
        super().__init__(
            f"time {text!r} ({_iso(time_us)}) is in the future (now is {_iso(now_us)})"
        )
        self.text = text
        self.time_us = time_us
        self.now_us = now_us


class UnknownPoint(BadPoint):
    def __init__(self, what: str) -> None:
        super().__init__(f"no such point in this project's history: {what}")
        self.what = what


class EmptyRange(BadPoint):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class OutputNotEmpty(ReplayError):
    def __init__(self, path: str) -> None:
        super().__init__(
            f"output folder {path} exists and is not empty (pass --force to replace it)"
        )
        self.path = path


class ChainBroken(ReplayError):
    """The log's StateChanges or the stored content disagree with the hash chain."""

    def __init__(self, path: str, versionstamp: str, detail: str) -> None:
        super().__init__(f"hash chain broken at event {versionstamp} for {path!r}: {detail}")
        self.path = path
        self.versionstamp = versionstamp
        self.detail = detail


class UnsafePath(ReplayError):
    """A path the guard refuses; ``rule`` says which rule it breaks, ``root`` where it was."""

    def __init__(self, path: str, root: str, rule: str) -> None:
        shown = path if len(path) <= 120 else path[:117] + "..."
        super().__init__(f"refused path {shown!r} under {root}: {rule}")
        self.path = path
        self.root = root
        self.rule = rule


class ForkError(ReplayError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BisectError(ReplayError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _iso(time_us: int) -> str:
    import datetime as dt

    when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=time_us)
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")
