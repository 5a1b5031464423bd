"""Value objects of the sandbox: limits in, results out."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum

from ._errors import SandboxInputError

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


class Status(StrEnum):
    """How a run ended. Host-imposed limits win over the guest's own exit."""

    OK = "ok"  # exited 0
    EXIT = "exit"  # exited non-zero on its own (an exception, sys.exit(n))
    OUT_OF_FUEL = "out_of_fuel"  # executed more instructions than Limits.fuel
    DEADLINE = "deadline"  # ran past Limits.timeout (busy or blocked in sleep/select)
    MEMORY = "memory"  # needed more linear memory than Limits.memory
    OUTPUT_CUT = "output_cut"  # wrote more than Limits.output to stdout or stderr; stopped
    DISK_QUOTA = "disk_quota"  # tried to create more files/bytes in its folder than allowed
    CRASH = "crash"  # the interpreter trapped (wasm stack overflow, abort); host unharmed


@dataclass(frozen=True, slots=True)
class Limits:
    """What one run may consume. ``None`` lifts a limit (the deadline is never lifted).

    The CPU limit is the wall-clock ``timeout``, enforced by epoch interruption.
    ``fuel`` is an optional guard against runaway code on top of it, off by
    default: a run that sets it uses a fuel-metered build of the interpreter,
    which runs ~20-25% slower (docs/adr/0010-sandbox-speed.md).

    ``max_files`` counts entries the guest *creates* in its folder (files,
    directories, hard links); ``max_write_bytes`` is a budget on the growth of
    files' apparent size there (a seek far out and one byte is charged the
    gap; overwrites in place are free), so it bounds how much the folder can grow.
    """

    timeout: float = 30.0  # wall-clock seconds, including time blocked in sleep/select
    fuel: int | None = None  # wasm instructions, roughly (startup takes ~0.25e9); None: unmetered
    memory: int = 512 * MIB  # linear-memory bytes
    output: int = 4 * MIB  # bytes kept per stream (stdout, stderr); more stops the run
    max_files: int = 1_000
    max_write_bytes: int = 256 * MIB

    def __post_init__(self) -> None:
        if not (isinstance(self.timeout, int | float) and math.isfinite(self.timeout)):
            raise SandboxInputError(
                "limits.timeout", f"must be a finite number, got {self.timeout!r}"
            )
        if self.timeout <= 0:
            raise SandboxInputError("limits.timeout", f"must be > 0 seconds, got {self.timeout}")
        if self.fuel is not None and self.fuel <= 0:
            raise SandboxInputError("limits.fuel", f"must be > 0 or None, got {self.fuel}")
        # The interpreter's initial memory is ~12 MiB; below 16 MiB nothing can start.
        if self.memory < 16 * MIB:
            raise SandboxInputError("limits.memory", f"must be at least 16 MiB, got {self.memory}")
        for name in ("output", "max_files", "max_write_bytes"):
            value = getattr(self, name)
            if value < 0:
                raise SandboxInputError(f"limits.{name}", f"must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class RunResult:
    """What happened in one run: status, captured output, and what it cost."""

    status: Status
    exit_code: int | None  # the guest's exit code when it exited on its own
    stdout: bytes
    stderr: bytes
    fuel_used: int  # 0 when the run was not metered (Limits.fuel is None)
    wall_time: float  # seconds, instantiation to exit
    detail: str = ""  # a human sentence on why the run stopped when status is not OK/EXIT
    files_created: int = 0
    bytes_written: int = 0  # growth of files' apparent size charged to max_write_bytes

    @property
    def ok(self) -> bool:
        """True when the guest ran to completion and exited 0."""
        return self.status is Status.OK

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")


class TestOutcome(StrEnum):
    """The verdict on one test."""

    __test__ = False  # not a pytest class

    PASSED = "passed"
    FAILED = "failed"  # an assertion failed
    ERROR = "error"  # the test raised something other than an assertion failure
    SKIPPED = "skipped"
    COULD_NOT_RUN = "could_not_run"  # the sandbox cannot run it (threads, C extensions, fixtures)


@dataclass(frozen=True, slots=True)
class TestItem:
    """One test (or one module that could not be imported) and its verdict."""

    __test__ = False

    name: str  # dotted id: "tests.test_cart.CartTest.test_total" or "tests/test_x.py::test_y"
    outcome: TestOutcome
    message: str = ""  # the traceback or the reason, empty when passed


@dataclass(frozen=True, slots=True)
class TestReport:
    """The outcome of a project's test run, counted and itemised."""

    __test__ = False

    framework: str  # "unittest" or "pytest"
    items: tuple[TestItem, ...]
    run: RunResult  # the sandbox run that produced the report
    complete: bool  # False when there is no report the host can trust (see ``problem``)
    runner: str = ""  # which runner ran: "pytest 9.0.3 (pinned in the sandbox)", ...
    problem: str = ""  # why the report is incomplete: the run stopped, or the report was refused
    passed: int = field(init=False)
    failed: int = field(init=False)
    errors: int = field(init=False)
    skipped: int = field(init=False)
    could_not_run: int = field(init=False)

    def __post_init__(self) -> None:
        counts = {outcome: 0 for outcome in TestOutcome}
        for item in self.items:
            counts[item.outcome] += 1
        object.__setattr__(self, "passed", counts[TestOutcome.PASSED])
        object.__setattr__(self, "failed", counts[TestOutcome.FAILED])
        object.__setattr__(self, "errors", counts[TestOutcome.ERROR])
        object.__setattr__(self, "skipped", counts[TestOutcome.SKIPPED])
        object.__setattr__(self, "could_not_run", counts[TestOutcome.COULD_NOT_RUN])

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def succeeded(self) -> bool:
        """True when the run completed with no failures or errors (skips allowed)."""
        return self.complete and self.failed == 0 and self.errors == 0

    def names(self, outcome: TestOutcome) -> tuple[str, ...]:
        """The ids of the tests that ended with ``outcome``, in run order."""
        return tuple(item.name for item in self.items if item.outcome is outcome)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)


def parse_size(text: str, *, setting: str = "size") -> int:
    """Bytes from ``"256M"``, ``"64MiB"``, ``"1G"``, ``"4096"`` (binary multiples)."""
    match = _SIZE.match(text)
    if not match:
        raise SandboxInputError(setting, f"not a size: {text!r} (try 64M, 1G, 4096)")
    number, unit = float(match.group(1)), match.group(2).lower()
    scale = {"": 1, "k": KIB, "m": MIB, "g": GIB, "t": 1024 * GIB}[unit]
    return int(number * scale)


def parse_duration(text: str, *, setting: str = "duration") -> float:
    """Seconds from ``"5s"``, ``"500ms"``, ``"2m"``, ``"1.5"`` (bare numbers are seconds)."""
    match = _DURATION.match(text)
    if not match:
        raise SandboxInputError(setting, f"not a duration: {text!r} (try 5s, 500ms, 2m)")
    number, unit = float(match.group(1)), (match.group(2) or "s").lower()
    seconds = number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]
    if seconds <= 0:
        raise SandboxInputError(setting, f"must be positive: {text!r}")
    return seconds
