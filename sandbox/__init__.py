"""Run untrusted Python in a Wasmtime sandbox with hard limits.

A CPython interpreter compiled to WASI runs under Wasmtime with one host folder
preopened, an empty environment, no network, and limits on CPU (a wall-clock
deadline that also ends ``sleep``/``select``, and optional fuel), memory,
output, and the files and bytes the guest may create in its folder::

    from sandbox import Limits, Sandbox

    box = Sandbox()                          # compiles once, then loads from cache
    result = box.run("print(6 * 7)", limits=Limits(timeout=5))
    result.status, result.stdout             # (Status.OK, b"42\\n")
    report = box.run_tests("path/to/project")
    report.passed, report.failed, report.names(TestOutcome.FAILED)

Errors are ``SandboxError`` subclasses (see ``sandbox._errors``); a guest that
misbehaves is not an error but a ``RunResult`` status. The first use on a
machine compiles the interpreter (10-40 s); it says so first on the standard
``logging`` logger ``sandbox`` (INFO) and to ``Sandbox(on_compile=...)``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._engine import LoadInfo, Runtime, default_cache_dir
from ._errors import (
    CacheError,
    CompileError,
    HostError,
    RunnerError,
    RuntimeIntegrityError,
    SandboxError,
    SandboxInputError,
)
from ._runner import GUEST_DIR, Sandbox
from ._tests import run_tests_in
from ._types import (
    GIB,
    KIB,
    MIB,
    Limits,
    RunResult,
    Status,
    TestItem,
    TestOutcome,
    TestReport,
    parse_duration,
    parse_size,
)

__all__ = [
    "GIB",
    "GUEST_DIR",
    "KIB",
    "MIB",
    "CacheError",
    "CompileError",
    "HostError",
    "Limits",
    "LoadInfo",
    "RunResult",
    "RunnerError",
    "Runtime",
    "RuntimeIntegrityError",
    "Sandbox",
    "SandboxError",
    "SandboxInputError",
    "Status",
    "TestItem",
    "TestOutcome",
    "TestReport",
    "default_cache_dir",
    "default_sandbox",
    "parse_duration",
    "parse_size",
    "run",
    "run_tests",
]

_default: Sandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    """The process-wide sandbox on the bundled runtime and the default cache dir."""
    global _default
    if _default is None:
        with _default_lock:  # only guards construction; runs never take it
            if _default is None:
                _default = Sandbox()
    return _default


def run(
    code: str | None = None,
    *,
    argv: Sequence[str] | None = None,
    folder: Path | str | None = None,
    writable: bool = False,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
) -> RunResult:
    """``Sandbox.run`` on the process-wide default sandbox."""
    return default_sandbox().run(
        code,
        argv=argv,
        folder=folder,
        writable=writable,
        stdin=stdin,
        env=env,
        limits=limits or Limits(),
    )


def run_tests(
    folder: Path | str,
    *,
    framework: str = "auto",
    writable: bool = True,
    limits: Limits | None = None,
    sandbox: Sandbox | None = None,
) -> TestReport:
    """Run a pure-Python project's tests in the sandbox and count the verdicts.

    See ``Sandbox.run_tests``; this uses ``sandbox`` or the process-wide default.
    """
    box = sandbox or default_sandbox()
    return run_tests_in(box, folder, framework=framework, writable=writable, limits=limits)
