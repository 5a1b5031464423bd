"""Run a project's tests inside the sandbox and read back a typed, checked report.

The report comes back on a channel of its own (``REPORT_PATH``), framed with a
nonce that travels on stdin and is read before any test code runs; see ADR
0009 for what this does and does not stop. A report is accepted only when
exactly one well-formed frame with the right nonce arrived, the run ended on
its own, and it names every test the host found in the files beforehand.
Anything else gives an incomplete report whose ``problem`` says why.
"""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _host
from ._bytecode import PYC_DIR, mounted_bytecode
from ._discover import ExpectedTest, choose_framework, expected_tests
from ._errors import RunnerError, SandboxInputError
from ._guest_runner import REPORT_MAGIC
from ._runners import RUNNERS_DIR, pinned_runners
from ._types import Limits, RunResult, Status, TestItem, TestOutcome, TestReport

if TYPE_CHECKING:
    from ._runner import Sandbox

FRAMEWORKS = ("auto", "unittest", "pytest")
_RUNNER_SOURCE = Path(__file__).with_name("_guest_runner.py")
# Test suites do more than one script: a longer default deadline, the same caps otherwise.
_TEST_LIMITS = Limits(timeout=300.0)
_SHOWN = 5  # missing test names quoted in a problem


class _Refused(Exception):
    """The report cannot be trusted; the message says why."""


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
    root = Path(folder)
    if not root.is_dir():
        raise SandboxInputError("folder", f"not a directory: {folder}")
    chosen = choose_framework(root, framework)
    # Taken before the guest runs: what the tests could change cannot change what is expected.
    expected = expected_tests(root, chosen)
    mounts = {}
    if chosen == "pytest":
        mounts[RUNNERS_DIR] = pinned_runners(
            box.cache_dir, lambda d: _compile_in(box, d), guest=box.runtime.sha256.lower()
        )
    with mounted_bytecode(box, root) as bytecode:
        result, channel, nonce = _run_runner(box, root, chosen, mounts, bytecode, writable, limits)
    try:
        body = _one_frame(channel, nonce.encode(), result)
        runner, items = _parse_body(body, chosen)
        _check_against(items, expected)
    except _Refused as refused:
        return TestReport(
            framework=chosen, items=(), run=result, complete=False, problem=str(refused)
        )
    return TestReport(framework=chosen, items=items, run=result, complete=True, runner=runner)


def _run_runner(
    box: Sandbox,
    root: Path,
    framework: str,
    mounts: dict[str, Path],
    bytecode: Path | None,
    writable: bool,
    limits: Limits | None,
) -> tuple[RunResult, _host.ReportChannel, str]:
    """One run of the guest runner over ``root``: its result, its channel and the nonce sent."""
    nonce = secrets.token_hex(16)
    header: dict[str, Any] = {"nonce": nonce, "framework": framework, "paths": list(mounts)}
    readonly = dict(mounts)
    # Read-only folders that do not change during a run: the runner memoises stats there.
    header["immutable"] = [guest for guest, _ in box.runtime.mounts] + list(mounts)
    if bytecode is not None:
        readonly[PYC_DIR] = bytecode
        header["bytecode"] = PYC_DIR
    env = {"PYTHONDONTWRITEBYTECODE": "1", "HOME": "/work"}
    if writable:
        env["TMPDIR"] = "/work"
    channel = _host.ReportChannel()
    result = box.run(
        # -I: no sitecustomize, .pth or PYTHON* variable of the project runs before the runner.
        argv=["-I", "-c", _RUNNER_SOURCE.read_text()],
        folder=root,
        writable=writable,
        stdin=json.dumps(header).encode() + b"\n",
        env=env,
        limits=limits or _TEST_LIMITS,
        readonly_dirs=readonly,
        report_channel=channel,
    )
    return result, channel, nonce


def _compile_in(box: Sandbox, staging: Path) -> None:
    """Byte-compile the staged runners with the guest's own interpreter (its version's .pyc)."""
    code = (
        "import compileall, sys\n"
        f"ok = compileall.compile_dir('/work', ddir={RUNNERS_DIR!r}, quiet=1)\n"
        "sys.exit(0 if ok else 1)"
    )
    result = box.run(
        code,
        folder=staging,
        writable=True,
        limits=Limits(timeout=600.0, max_files=10_000, max_write_bytes=512 * 1024 * 1024),
    )
    if not result.ok:
        raise RunnerError("pytest", f"byte-compiling the runners failed: {result.detail}")


def _one_frame(channel: _host.ReportChannel, nonce: bytes, result: RunResult) -> bytes:
    """The body of the single genuine frame on the channel, or why there is none."""
    if result.status not in (Status.OK, Status.DISK_QUOTA) or result.exit_code != 0:
        why = result.detail or result.status.value
        raise _Refused(f"the test run did not finish on its own ({result.status.value}: {why})")
    if channel.opens > 1:
        raise _Refused(
            f"the report channel was opened {channel.opens} times: code under test reached for it"
        )
    if channel.overflow:
        raise _Refused(f"more than {_host.REPORT_CAP} bytes on the report channel")
    data = bytes(channel.data)
    frames: list[tuple[bytes, bytes]] = []
    rest = data
    while rest:
        line, newline, rest = rest.partition(b"\n")
        parts = line.split(b" ")
        if not newline or len(parts) != 3 or parts[0] != REPORT_MAGIC or not parts[2].isdigit():
            raise _Refused("a malformed report on the report channel (not the runner's frame)")
        length = int(parts[2])
        if length > len(rest):
            raise _Refused("a report cut short on the report channel (too long, or truncated)")
        frames.append((parts[1], rest[:length]))
        rest = rest[length:]
    if not frames:
        raise _Refused("the runner sent no report")
    if len(frames) > 1:
        raise _Refused(
            f"{len(frames)} reports on the report channel: code under test wrote one "
            "(a forged verdict)"
        )
    sent, body = frames[0]
    if not hmac.compare_digest(sent, nonce):
        raise _Refused("a report with the wrong nonce: not written by the runner (forged)")
    return body


def _parse_body(body: bytes, framework: str) -> tuple[str, tuple[TestItem, ...]]:
    try:
        payload: Any = json.loads(body)
        if payload["framework"] != framework:
            raise _Refused(f"a report from {payload['framework']!r}, but {framework} was run")
        runner = payload["runner"]
        items = tuple(
            TestItem(name, TestOutcome(outcome), message)
            for name, outcome, message in payload["items"]
        )
        if not isinstance(runner, str) or not all(
            isinstance(i.name, str) and isinstance(i.message, str) for i in items
        ):
            raise TypeError("names, messages and the runner must be strings")
    except (ValueError, KeyError, TypeError) as exc:
        raise _Refused(f"a malformed report body: {exc}") from exc
    return runner, items


def _check_against(
    items: tuple[TestItem, ...], expected: dict[str, list[ExpectedTest] | None]
) -> None:
    """Each test the host found in the files is named, or its whole file is one item."""
    names = [item.name for item in items]
    whole_files = set(names)
    missing: list[str] = []
    for rel, tests in expected.items():
        if rel in whole_files:  # the file as one item: it failed to import, or was skipped
            continue
        if tests is None:  # the host could not parse it: the guest must have said something
            if not any(n.startswith(rel + "::") for n in names):
                missing.append(rel)
            continue
        missing.extend(t.node_id for t in tests if not any(t.matches(n) for n in names))
    if missing:
        shown = ", ".join(missing[:_SHOWN]) + (" ..." if len(missing) > _SHOWN else "")
        raise _Refused(
            f"the report lacks {len(missing)} tests found in the files before the run: {shown}"
        )
