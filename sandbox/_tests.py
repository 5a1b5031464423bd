"""Run a project's tests inside the sandbox and read back a typed report."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import SandboxInputError
from ._types import Limits, TestItem, TestOutcome, TestReport

if TYPE_CHECKING:
    from ._runner import Sandbox

FRAMEWORKS = ("auto", "unittest", "pytest")
_RUNNER_SOURCE = Path(__file__).with_name("_guest_runner.py")
# Test suites do more than one script: a longer default deadline, the same caps otherwise.
_TEST_LIMITS = Limits(timeout=300.0)


def run_tests_in(
    box: Sandbox,
    folder: Path | str,
    *,
    framework: str = "auto",
    writable: bool = True,
    limits: Limits | None = None,
) -> TestReport:
    """Run the tests under ``folder`` in ``box``; see ``Sandbox.run_tests``."""
    if framework not in FRAMEWORKS:
        raise SandboxInputError(
            "framework", f"must be one of {', '.join(FRAMEWORKS)}, got {framework!r}"
        )
    if not Path(folder).is_dir():
        raise SandboxInputError("folder", f"not a directory: {folder}")
    tag = f"SANDBOX-REPORT-{secrets.token_hex(8)}:"
    env = {
        "SANDBOX_REPORT_TAG": tag,
        "SANDBOX_FRAMEWORK": framework,
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/work",
    }
    if writable:
        env["TMPDIR"] = "/work"
    result = box.run(
        _RUNNER_SOURCE.read_text(),
        folder=folder,
        writable=writable,
        env=env,
        limits=limits or _TEST_LIMITS,
    )
    payload = None
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(tag.encode()):
            payload = json.loads(line[len(tag) :])
            break
    if payload is None:
        return TestReport(framework=framework, items=(), run=result, complete=False)
    items = tuple(
        TestItem(name, TestOutcome(outcome), message) for name, outcome, message in payload["items"]
    )
    return TestReport(framework=payload["framework"], items=items, run=result, complete=True)
