"""``swarm sandbox``: try the Wasmtime sandbox by hand.

``swarm sandbox run FILE --dir DIR --timeout 5s --memory 256M`` runs a Python
file in the sandbox with DIR as its only folder and prints what happened;
``swarm sandbox test DIR`` runs a project's tests there. ``--json`` prints one
JSON object for scripts. ``SWARM_CACHE_DIR`` (read here, once) moves the
compiled-module cache; ``--runtime`` (default ``$SWARM_SANDBOX_RUNTIME``, else
``bundled``) picks the interpreter: ``bundled``, ``optimised`` (built by
``python -m sandbox.build_runtime``) or a build folder. The first run on a
machine compiles the interpreter and says so on stderr before the 10-40 s wait.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import sandbox
from swarm.cli._common import fail


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "sandbox",
        help="run Python in the Wasmtime sandbox",
        description="Run untrusted Python under Wasmtime with CPU, memory, output and disk limits.",
    )
    commands = parser.add_subparsers(dest="sandbox_command", metavar="ACTION")
    commands.required = True

    run = commands.add_parser("run", help="run one Python file in the sandbox")
    run.add_argument(
        "file", metavar="FILE", help="the Python file to run ('-' reads it from stdin)"
    )
    run.add_argument("--dir", metavar="DIR", help="the one host folder the code may see (at /work)")
    run.add_argument(
        "--writable", action="store_true", help="let the code write to DIR (read-only otherwise)"
    )
    run.add_argument("--stdin", metavar="PATH", help="feed this file to the code's stdin")
    run.add_argument(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="an environment variable for the code (repeatable; empty otherwise)",
    )
    run.add_argument(
        "--arg",
        dest="args",
        metavar="ARG",
        action="append",
        default=[],
        help="an argument for the script, in sys.argv[1:] (repeatable)",
    )
    _limit_options(run, timeout="30s")
    run.set_defaults(handler=_run)

    test = commands.add_parser("test", help="run a project's tests in the sandbox (on a copy)")
    test.add_argument("dir", metavar="DIR", help="the project folder")
    test.add_argument(
        "--framework",
        choices=("auto", "unittest", "pytest"),
        default="auto",
        help="the test runner (default auto: the pinned pytest when the tests need it)",
    )
    test.add_argument(
        "--in-place", action="store_true", help="run in DIR itself instead of a temporary copy"
    )
    _limit_options(test, timeout="300s")
    test.set_defaults(handler=_test)


def _limit_options(parser: argparse.ArgumentParser, *, timeout: str) -> None:
    parser.add_argument(
        "--timeout", default=timeout, help=f"wall-clock deadline (default {timeout})"
    )
    parser.add_argument("--memory", default="512M", help="memory cap (default 512M)")
    parser.add_argument(
        "--fuel",
        default="none",
        help="instruction budget, e.g. 40e9, on top of the deadline; a metered run is "
        "~25%% slower (default none)",
    )
    parser.add_argument("--output", default="4M", help="cap per output stream (default 4M)")
    parser.add_argument(
        "--max-files", type=int, default=1000, help="new entries allowed in DIR (default 1000)"
    )
    parser.add_argument(
        "--max-write", default="256M", help="bytes the code may write into DIR (default 256M)"
    )
    parser.add_argument(
        "--cache-dir", help="compiled-module cache (default $SWARM_CACHE_DIR or the user cache)"
    )
    parser.add_argument(
        "--runtime",
        help="interpreter: bundled, optimised or a build folder "
        "(default $SWARM_SANDBOX_RUNTIME, else bundled)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _limits(args: argparse.Namespace) -> sandbox.Limits:
    fuel = None if args.fuel.lower() == "none" else int(float(args.fuel))
    return sandbox.Limits(
        timeout=sandbox.parse_duration(args.timeout, setting="--timeout"),
        memory=sandbox.parse_size(args.memory, setting="--memory"),
        fuel=fuel,
        output=sandbox.parse_size(args.output, setting="--output"),
        max_files=args.max_files,
        max_write_bytes=sandbox.parse_size(args.max_write, setting="--max-write"),
    )


def _box(args: argparse.Namespace) -> sandbox.Sandbox:
    cache = args.cache_dir or os.environ.get("SWARM_CACHE_DIR") or None
    # The compile notice reaches stderr through the CLI's handler on the
    # "sandbox" logger (swarm/cli/__init__.py), as for any command that compiles.
    setting = args.runtime or os.environ.get("SWARM_SANDBOX_RUNTIME") or "bundled"
    runtime = sandbox.Runtime.from_setting(setting, cache)
    return sandbox.Sandbox(runtime=runtime, cache_dir=Path(cache) if cache else None)


def _run(args: argparse.Namespace) -> int:
    try:
        limits = _limits(args)
        source = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
        stdin = Path(args.stdin).read_bytes() if args.stdin else b""
        env = dict(_pair(item) for item in args.env)
        script_args = args.args
        code = (
            source
            if not script_args
            else ("import sys\nsys.argv[1:] = " + repr(script_args) + "\n" + source)
        )
        result = _box(args).run(
            code, folder=args.dir, writable=args.writable, stdin=stdin, env=env, limits=limits
        )
    except (sandbox.SandboxError, OSError, ValueError) as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(_result_json(result)))
    else:
        sys.stdout.write(result.stdout_text)
        sys.stderr.write(result.stderr_text)
        note = f" — {result.detail}" if result.detail else ""
        fuel = f"; fuel {result.fuel_used:,}" if limits.fuel is not None else ""
        print(
            f"[sandbox] {result.status.value}{note}; exit {result.exit_code}; "
            f"{result.wall_time * 1000:.0f} ms{fuel}",
            file=sys.stderr,
        )
    if result.status is sandbox.Status.OK:
        return 0
    return result.exit_code if result.status is sandbox.Status.EXIT and result.exit_code else 1


def _test(args: argparse.Namespace) -> int:
    try:
        limits = _limits(args)
        box = _box(args)
        if args.in_place:
            report = box.run_tests(args.dir, framework=args.framework, limits=limits)
        else:
            if not Path(args.dir).is_dir():
                return fail(f"not a directory: {args.dir}")
            with tempfile.TemporaryDirectory(prefix="swarm-sandbox-") as tmp:
                copy = Path(tmp) / "project"
                shutil.copytree(
                    args.dir,
                    copy,
                    symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "__pycache__", ".venv"),
                )
                report = box.run_tests(copy, framework=args.framework, limits=limits)
    except (sandbox.SandboxError, OSError, ValueError) as exc:
        return fail(str(exc))
    if args.json:
        print(
            json.dumps(
                {
                    "framework": report.framework,
                    "complete": report.complete,
                    "runner": report.runner,
                    "problem": report.problem,
                    "passed": report.passed,
                    "failed": report.failed,
                    "errors": report.errors,
                    "skipped": report.skipped,
                    "could_not_run": report.could_not_run,
                    "items": [
                        {"name": i.name, "outcome": i.outcome.value, "message": i.message}
                        for i in report.items
                    ],
                    "run": _result_json(report.run),
                }
            )
        )
    else:
        for item in report.items:
            if item.outcome is not sandbox.TestOutcome.PASSED:
                first = item.message.strip().splitlines()[-1] if item.message.strip() else ""
                print(f"{item.outcome.value.upper():14} {item.name}  {first}")
        # A refused report comes from a run that ended "ok": the problem says why.
        why = report.problem or f"{report.run.status.value}: {report.run.detail}"
        verdict = "complete" if report.complete else f"INCOMPLETE ({why})"
        print(
            f"{report.framework}: {report.passed} passed, {report.failed} failed, "
            f"{report.errors} errors, "
            f"{report.skipped} skipped, {report.could_not_run} could not run — {verdict}, "
            f"{report.run.wall_time:.2f}s"
        )
    return 0 if report.succeeded else 1


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise ValueError(f"--env expects NAME=VALUE, got {item!r}")
    return name, value


def _result_json(result: sandbox.RunResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "exit_code": result.exit_code,
        "detail": result.detail,
        "stdout": result.stdout_text,
        "stderr": result.stderr_text,
        "fuel_used": result.fuel_used,
        "wall_time": result.wall_time,
        "files_created": result.files_created,
        "bytes_written": result.bytes_written,
    }
