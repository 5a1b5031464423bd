"""``swarm mission``: run a change across a repository as a durable mission, show it, resume it.

    swarm mission rename --repo PATH OLD NEW
    swarm mission add-param --repo PATH FUNCTION PARAM DEFAULT [--value EXPR]
    swarm mission patch --repo PATH DIFF_FILE|-
    swarm mission ask --repo PATH PROMPT --brain openai --model-url URL --model NAME
    swarm mission show ID --repo PATH
    swarm mission resume ID --repo PATH

The mission runs in this process on the embedded ledger: by default
``sqlite:///<repo>/.swarm/ledger.sqlite`` (the repository carries its own
story, as it carries .git; ``--ledger URL`` or $SWARM_LEDGER override it),
project = the repository folder's name. Progress goes to stderr, a summary to
stdout (``--json`` for scripts); the exit code is 0 when the mission
succeeded, 1 when it failed, 2 when it was refused before it started.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import ledger
from swarm.brain import BrainError, EditRequest
from swarm.cli._common import LEDGER_ENV, emit_json, fail
from swarm.missions import (
    InvalidMission,
    MissionError,
    MissionOptions,
    MissionReport,
    load_view,
    mission_story,
    run_mission,
    start_mission,
)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "mission",
        help="run a change across a repository as a durable ticket DAG; show or resume one",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    msub = parser.add_subparsers(dest="mission_command", metavar="ACTION")
    msub.required = True

    rename = msub.add_parser("rename", help="rename a symbol everywhere it is defined and used")
    rename.add_argument("old")
    rename.add_argument("new")
    _run_options(rename)

    add = msub.add_parser("add-param", help="add a parameter with a default; update call sites")
    add.add_argument("function")
    add.add_argument("param")
    add.add_argument("default", help="the default, a Python expression")
    add.add_argument("--value", help="an expression passed at every call site (optional)")
    _run_options(add)

    patch = msub.add_parser("patch", help="apply a unified diff (a file, or - for stdin)")
    patch.add_argument("diff", metavar="DIFF_FILE")
    _run_options(patch)

    ask = msub.add_parser("ask", help="a free-form request answered by a model (openai brain)")
    ask.add_argument("prompt")
    _run_options(ask)

    show = msub.add_parser("show", help="print a mission's DAG and story from the ledger")
    show.add_argument("mission_id", metavar="ID")
    _where_options(show)
    show.add_argument("--events", action="store_true", help="print every event of the story")
    show.set_defaults(handler=run_show)

    resume = msub.add_parser("resume", help="resume a mission whose process stopped")
    resume.add_argument("mission_id", metavar="ID")
    _where_options(resume)
    resume.add_argument("--api-key-env", metavar="NAME", help="env var holding the model key")
    resume.set_defaults(handler=run_resume)


def _where_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", required=True, type=Path, help="the repository folder")
    p.add_argument(
        "--ledger",
        metavar="URL",
        help=f"ledger URL (default: ${LEDGER_ENV} or sqlite:///<repo>/.swarm/ledger.sqlite)",
    )
    p.add_argument("--tenant", default="local", help="tenant id (default: local)")
    p.add_argument("--project", help="project id (default: the repository folder's name)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def _run_options(p: argparse.ArgumentParser) -> None:
    _where_options(p)
    p.add_argument("--coders", type=int, default=4, help="coders working in parallel (default 4)")
    p.add_argument(
        "--no-tests",
        action="store_true",
        help="skip the critic's sandbox test runs (syntax is still checked)",
    )
    p.add_argument(
        "--ticket-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="how long a ticket waits for a lock a person holds (default 60 s)",
    )
    p.add_argument(
        "--retries",
        type=int,
        default=1,
        help="how many times a critic rejection sends the edits back (default 1)",
    )
    p.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="SPEC",
        help="allow:GLOB,..  deny:GLOB,..  max-files:N (repeatable)",
    )
    p.add_argument("--brain", default="rules", choices=("rules", "openai"))
    p.add_argument("--model-url", help="openai brain: base URL of /v1/chat/completions")
    p.add_argument("--model", help="openai brain: model name")
    p.add_argument("--api-key-env", metavar="NAME", help="openai brain: env var holding the key")
    p.add_argument("--mission-id", help="choose the mission id (m + hex digits)")
    p.add_argument("--step-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    p.set_defaults(handler=run_new)


def _project_of(args: argparse.Namespace) -> str:
    if args.project:
        return str(args.project)
    name = re.sub(r"[^a-z0-9_-]+", "-", Path(args.repo).resolve().name.lower()).strip("-_")
    return (name or "repo")[:63]


def _ledger_url(args: argparse.Namespace) -> str:
    url: str | None = args.ledger or os.environ.get(LEDGER_ENV)
    if url:
        return url
    if not Path(args.repo).is_dir():  # never create a repository by creating its ledger
        raise InvalidMission(f"repository {args.repo} is not a directory")
    folder = Path(args.repo).resolve() / ".swarm"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite://{folder / 'ledger.sqlite'}"


def _request(args: argparse.Namespace) -> EditRequest:
    cmd = args.mission_command
    if cmd == "rename":
        return EditRequest("rename", {"old": args.old, "new": args.new})
    if cmd == "add-param":
        params = {"function": args.function, "param": args.param, "default": args.default}
        if args.value is not None:
            params["value"] = args.value
        return EditRequest("add_param", params)
    if cmd == "patch":
        text = sys.stdin.read() if args.diff == "-" else Path(args.diff).read_text("utf-8")
        return EditRequest("patch", {"diff": text})
    return EditRequest("ask", {"prompt": args.prompt})


class _Bar:
    """A one-line progress bar on stderr (a line per 10 % when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last: tuple[str, int] = ("", -1)

    def __call__(self, phase: str, done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 0
        if self.tty:
            filled = pct * 30 // 100
            sys.stderr.write(f"\r{phase:<8} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            sys.stderr.flush()
        elif (phase, pct // 10) != self.last:
            print(f"{phase}: {done}/{total}", file=sys.stderr)
        self.last = (phase, pct // 10)

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _api_key(args: argparse.Namespace) -> str | None:
    if not args.api_key_env:
        return None
    key = os.environ.get(args.api_key_env)
    if key is None:
        raise MissionError(f"--api-key-env: environment variable {args.api_key_env} is not set")
    return key


def run_new(args: argparse.Namespace) -> int:
    bar = _Bar()
    try:
        request = _request(args)
        settings: dict[str, Any] = {}
        if args.brain == "openai":
            settings = {"base_url": args.model_url or "", "model": args.model or ""}
            key = _api_key(args)
            if key:
                settings["api_key"] = key
        options = MissionOptions(
            coders=args.coders,
            run_tests=not args.no_tests,
            ticket_timeout_s=args.ticket_timeout,
            critic_rounds=args.retries,
            step_delay_s=args.step_delay,
            policies=tuple(args.policy),
        )
        with ledger.open_ledger(_ledger_url(args)) as led:
            tenant, project = args.tenant, _project_of(args)
            mid = start_mission(
                led,
                tenant,
                project,
                args.repo,
                request,
                brain=args.brain,
                brain_settings=settings,
                options=options,
                mission_id=args.mission_id,
                progress=bar,
            )
            print(f"mission {mid} started ({request.kind}, project {project})", file=sys.stderr)
            report = run_mission(
                led,
                tenant,
                project,
                mid,
                repo=args.repo,
                api_key=settings.get("api_key"),
                progress=bar,
            )
    except (MissionError, BrainError, ledger.LedgerError, OSError) as exc:
        bar.close()
        return fail(str(exc))
    bar.close()
    return _print_report(args, report)


def run_resume(args: argparse.Namespace) -> int:
    bar = _Bar()
    try:
        with ledger.open_ledger(_ledger_url(args)) as led:
            report = run_mission(
                led,
                args.tenant,
                _project_of(args),
                args.mission_id,
                repo=args.repo,
                api_key=_api_key(args),
                progress=bar,
            )
    except (MissionError, BrainError, ledger.LedgerError, OSError) as exc:
        bar.close()
        return fail(str(exc))
    bar.close()
    return _print_report(args, report)


def _print_report(args: argparse.Namespace, report: MissionReport) -> int:
    if args.json:
        emit_json(report.to_json())
    else:
        tickets = ", ".join(f"{n} {s}" for s, n in sorted(report.tickets.items()))
        print(f"mission {report.mission_id}: {report.outcome} in {report.seconds:.1f}s")
        print(f"  {report.reason}")
        print(f"  tickets: {tickets or 'none'}")
        print(f"  files changed: {len(report.files_changed)}")
        for path in report.files_changed[:20]:
            print(f"    {path}")
        if len(report.files_changed) > 20:
            print(f"    ... and {len(report.files_changed) - 20} more")
        tests = report.tests
        if "baseline" in tests:
            b = tests["baseline"]
            print(
                f"  tests before: {b.get('passed', 0)} passed, {b.get('failed', 0)} failed, "
                f"{b.get('errors', 0)} errors, {b.get('could_not_run', 0)} could not run"
            )
        after = tests.get("after")
        if isinstance(after, dict):
            c = after.get("counts", {})
            print(
                f"  tests after:  {c.get('passed', 0)} passed, {c.get('failed', 0)} failed, "
                f"{c.get('errors', 0)} errors, {c.get('could_not_run', 0)} could not run"
            )
        elif after == "skipped":
            print("  tests: not run (--no-tests)")
        for tid, why in report.failed_tickets.items():
            print(f"  failed {tid}: {why[:300]}")
        print(f"  the story: swarm mission show {report.mission_id} --repo {args.repo}")
    return 0 if report.ok else 1


def run_show(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        with ledger.open_ledger(_ledger_url(args)) as led:
            project = _project_of(args)
            view = load_view(led, args.tenant, project, args.mission_id)
            story = mission_story(led, args.tenant, project, view)
    except (MissionError, ledger.LedgerError, OSError) as exc:
        return fail(str(exc))
    if args.json:
        emit_json(story)
        return 0
    outcome = (view.finished or {}).get("outcome", "running (not finished)")
    print(f"mission {view.mission_id}: {outcome}")
    print("DAG:")
    for t in story["dag"]:
        deps = ", ".join(t["depends_on"])
        if len(deps) > 60:
            deps = f"{len(t['depends_on'])} tickets"
        what = t["inputs"].get("path", "") if t["kind"] == "coder" else ""
        line = f"  {t['id']:<12} {t['kind']:<7} {t['state']:<9} a{t['attempt']} {what}"
        print(line + (f"  <- {deps}" if deps else ""))
        if t["reason"] and t["state"] in ("failed", "retry", "cancelled"):
            print(f"      reason: {t['reason'][:300]}")
    events = story["story"]
    print(f"story: {len(events)} events")
    shown = events if args.events else [e for e in events if e["kind"] != "ticket"]
    for e in shown:
        print(f"  {e['versionstamp'][:20]} {e['agent']:<15} {e['what'][:150]}")
    print(f"(read from the ledger in {time.perf_counter() - started:.2f}s)", file=sys.stderr)
    return 0
