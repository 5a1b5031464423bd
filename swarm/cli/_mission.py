"""``swarm mission``: run a change across a repository as a durable mission, show it, resume it.

    swarm mission rename --repo PATH OLD NEW
    swarm mission add-param --repo PATH FUNCTION PARAM DEFAULT [--value EXPR]
    swarm mission patch --repo PATH DIFF_FILE|-
    swarm mission ask --repo PATH PROMPT --brain openai --model-url URL --model NAME
    swarm mission show ID --repo PATH
    swarm mission list --repo PATH
    swarm mission resume ID --repo PATH

The mission runs in this process on the embedded ledger: by default
``sqlite:///<repo>/.swarm/ledger.sqlite`` (the repository carries its own
story, as it carries .git; ``--ledger URL`` or $SWARM_LEDGER override it),
project = the repository folder's name. Progress goes to stderr, a summary to
stdout (``--json`` for scripts) with the critic's verdict: accepted,
rejected, could not judge (a test run did not complete: the mission fails),
unverified (the same, finished because of --allow-unverified), or not tested
(--no-tests). The exit code is 0 when the mission succeeded, 1 when it
failed, 2 when it was refused before it started.

Through a daemon (``swarm serve``), with a bearer token in $SWARM_TOKEN:

    swarm mission rename --server HOST:PORT --workspace NAME OLD NEW
    swarm mission show|cancel ID --server HOST:PORT --project P
    swarm mission list --server HOST:PORT --project P

The daemon runs the mission on the repository folder NAME under its
--workspaces (project = NAME unless --project); this process follows it and
prints the same summary. ``cancel`` is remote only: a local mission stops
with its process (Ctrl-C) and ``resume`` picks it up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ledger
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from replay import format_time
from swarm.brain import BrainError, EditRequest
from swarm.cli._common import emit_json, fail, open_from_args
from swarm.cli._context import add_context_options
from swarm.cli._remote import (
    Remote,
    RemoteRefused,
    add_server_options,
    describe,
    project_ref,
    run_remote,
)
from swarm.missions import (
    VERDICT_NAMES,
    MissionError,
    MissionOptions,
    MissionReport,
    describe_event,
    load_view,
    mission_story,
    run_mission,
    start_mission,
)
from swarm.scout import Scan

# How long `mission rename --server` follows a mission (Ctrl-C stops following sooner).
FOLLOW_DEADLINE_S = 7 * 24 * 3600.0
_TERMINAL = frozenset({pb.TICKET_STATE_DONE, pb.TICKET_STATE_FAILED, pb.TICKET_STATE_CANCELLED})
# What a local run can be told that SubmitMissionRequest does not carry, with the
# defaults: given through a daemon, they are refused rather than silently dropped.
_LOCAL_ONLY_RUN = {
    "ticket_timeout": 60.0,
    "retries": 1,
    "policy": [],
    "brain": "rules",
    "model_url": None,
    "model": None,
    "api_key_env": None,
}


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
    rename.add_argument(
        "old", help="the symbol: name, Class.attr, pkg.mod.name or pkg.mod:Class.attr"
    )
    rename.add_argument("new", help="the new name")
    rename.add_argument(
        "--in-docs",
        action="store_true",
        help="also rename code-like mentions in docstrings (Sphinx roles, doctests, `name`)",
    )
    _run_options(rename, remote=True)

    add = msub.add_parser("add-param", help="add a parameter with a default; update call sites")
    add.add_argument("function", help="the function: name, pkg.mod:func or pkg.mod.Class.method")
    add.add_argument("param", help="the new parameter's name")
    add.add_argument("default", help="the default, a Python expression")
    add.add_argument("--value", help="an expression passed at every call site (optional)")
    _run_options(add, remote=True)

    patch = msub.add_parser("patch", help="apply a unified diff (a file, or - for stdin)")
    patch.add_argument("diff", metavar="DIFF_FILE", help="the unified diff: a file, or - for stdin")
    _run_options(patch, remote=True)

    ask = msub.add_parser("ask", help="a free-form request answered by a model (openai brain)")
    ask.add_argument("prompt", help="what to change, in words")
    _run_options(ask, remote=False)

    show = msub.add_parser("show", help="print a mission's DAG and story from the ledger")
    show.add_argument("mission_id", metavar="ID", help="the mission's id (see mission list)")
    _where_options(show, remote=True)
    show.add_argument("--events", action="store_true", help="print every event of the story")
    show.set_defaults(handler=run_show)

    listing = msub.add_parser("list", help="the project's missions, oldest first")
    _where_options(listing, remote=True)
    listing.set_defaults(handler=run_list)

    cancel = msub.add_parser(
        "cancel",
        help="cancel a mission a daemon runs (remote only: --server); its changes roll back",
    )
    cancel.add_argument("mission_id", metavar="ID", help="the mission's id")
    cancel.add_argument("--reason", default="", help="why, recorded with the cancellation")
    _where_options(cancel, remote=True)
    cancel.set_defaults(handler=run_cancel)

    resume = msub.add_parser("resume", help="resume a mission whose process stopped")
    resume.add_argument("mission_id", metavar="ID", help="the mission's id")
    _where_options(resume, remote=False, repo_required=True)
    resume.add_argument("--api-key-env", metavar="NAME", help="env var holding the model key")
    resume.set_defaults(handler=run_resume)


def _where_options(
    p: argparse.ArgumentParser, *, remote: bool, read_only: bool = True, repo_required: bool = False
) -> None:
    # --repo defaults to the nearest folder holding .swarm/ (swarm.cli._context); a mission
    # run (or resumed) with neither asks for --repo rather than taking the working directory.
    add_context_options(p, read_only=read_only, repo_required=repo_required)
    if remote:
        add_server_options(p)


def _run_options(p: argparse.ArgumentParser, *, remote: bool) -> None:
    _where_options(p, remote=remote, read_only=False, repo_required=True)
    if remote:
        p.add_argument(
            "--workspace",
            metavar="NAME",
            help="with --server: the repository folder under the daemon's --workspaces",
        )
    p.add_argument("--coders", type=int, default=4, help="coders working in parallel (default 4)")
    p.add_argument(
        "--no-tests",
        action="store_true",
        help="skip the critic's sandbox test runs (syntax is still checked)",
    )
    p.add_argument(
        "--test-timeout",
        type=float,
        default=MissionOptions().test_timeout_s,
        metavar="S",
        help="wall-clock deadline of the baseline test run; later runs get a budget derived "
        "from what it took (default %(default)g s)",
    )
    p.add_argument(
        "--allow-unverified",
        action="store_true",
        help="when the tests cannot judge the changes (a run out of budget, crashed), "
        "finish marked unverified instead of failing",
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
        help="how many times a critic rejection sends the edits back, when a retry could "
        "make a different edit (no brain can yet: a patch, a codemod, a recorded model answer "
        "are fixed) (default 1)",
    )
    p.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="SPEC",
        help="allow:GLOB,..  deny:GLOB,..  max-files:N (repeatable)",
    )
    p.add_argument(
        "--brain",
        default="rules",
        choices=("rules", "openai"),
        help="who plans the edits: rules codemods, or an OpenAI-compatible model (default rules)",
    )
    p.add_argument("--model-url", help="openai brain: base URL of /v1/chat/completions")
    p.add_argument("--model", help="openai brain: model name")
    p.add_argument("--api-key-env", metavar="NAME", help="openai brain: env var holding the key")
    p.add_argument("--mission-id", help="choose the mission id (m + hex digits)")
    p.add_argument("--step-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    p.set_defaults(handler=run_new)


def _project_of(args: argparse.Namespace) -> str:
    return str(args.context.project)  # resolved once by swarm.cli._context


def _request(args: argparse.Namespace) -> EditRequest:
    cmd = args.mission_command
    if cmd == "rename":
        params = {"old": args.old, "new": args.new}
        if args.in_docs:
            params["in_docs"] = "1"
        return EditRequest("rename", params)
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


def _local_repo_missing(args: argparse.Namespace) -> int | None:
    """The exit code of a local command given no --repo (or --workspace), else None."""
    if getattr(args, "workspace", None):
        return fail("--workspace names a folder under a daemon's --workspaces: it needs --server")
    if args.repo is None:
        return fail("--repo PATH is required (or --server HOST:PORT to go through a daemon)")
    return None


def run_new(args: argparse.Namespace) -> int:
    if getattr(args, "server", None):
        return _remote_new(args)
    if (refused := _local_repo_missing(args)) is not None:
        return refused
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
            test_timeout_s=args.test_timeout,
            allow_unverified=args.allow_unverified,
        )
        # The symbol check's parses, handed on to the mission's index (same bytes, same parse).
        parses: dict[bytes, Scan] = {}
        with open_from_args(args) as led:
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
                parses=parses,
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
                parses=parses,
            )
    except (MissionError, BrainError, ledger.LedgerError, OSError) as exc:
        bar.close()
        return fail(str(exc))
    bar.close()
    return _print_report(args, report)


def run_resume(args: argparse.Namespace) -> int:
    bar = _Bar()
    try:
        with open_from_args(args) as led:
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


def _print_report(args: argparse.Namespace, report: MissionReport, where: str | None = None) -> int:
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
        _print_tests(report)
        for tid, why in report.failed_tickets.items():
            print(f"  failed {tid}: {why[:300]}")
        where = where or f"--repo {args.repo}"
        print(f"  the story: swarm mission show {report.mission_id} {where}")
    return 0 if report.ok else 1


def _counts_line(c: dict[str, Any]) -> str:
    return (
        f"{c.get('passed', 0)} passed, {c.get('failed', 0)} failed, "
        f"{c.get('errors', 0)} errors, {c.get('could_not_run', 0)} could not run"
    )


def _print_tests(report: MissionReport) -> None:
    """The verdict line, then the test counts that stand behind it (none when no test ran)."""
    if report.verdict:
        # The reason line above often says it already: then the verdict's name suffices.
        said = report.verdict_reason and report.verdict_reason in report.reason
        reason = "" if said else report.verdict_reason
        print(f"  verdict: {_verdict_line(report.verdict, reason)}")
    tests = report.tests
    before = tests.get("baseline")
    if isinstance(before, dict) and not before.get("complete", True):
        print("  tests before: the run did not complete (no counts to compare)")
    elif isinstance(before, dict):
        print(f"  tests before: {_counts_line(before)}")
    after = tests.get("after")
    if isinstance(after, dict) and "unverified" in after:
        print("  tests after:  not judged (see the verdict)")
    elif isinstance(after, dict) and "counts" in after:
        print(f"  tests after:  {_counts_line(after['counts'])}")
    code = after.get("test_code") if isinstance(after, dict) else None
    if isinstance(code, dict) and code.get("files"):
        # The change edited test code: say which rule kept it from vouching for itself.
        how = {
            "rename-only": "its edits there are the rename's words only",
            "original-tests": "the original tests ran against the new code too",
        }.get(str(code.get("rule")), str(code.get("rule")))
        print(f"  test code changed: {len(code['files'])} file(s); {how}")


def _verdict_line(verdict: str, reason: str) -> str:
    name = verdict.replace("_", " ")
    return f"{name}: {reason}" if reason else name


def run_show(args: argparse.Namespace) -> int:
    if args.server:
        return _through_daemon(args, _remote_show)
    if (refused := _local_repo_missing(args)) is not None:
        return refused
    started = time.perf_counter()
    try:
        with open_from_args(args) as led:
            project = _project_of(args)
            view = load_view(led, args.tenant, project, args.mission_id)
            story = mission_story(led, args.tenant, project, view)
    except (MissionError, ledger.LedgerError, OSError) as exc:
        return fail(str(exc))
    outcome = str(view.finished.outcome) if view.finished else "running (not finished)"
    return _print_story(args, outcome, story, started)


def _print_story(args: argparse.Namespace, outcome: str, story: dict[str, Any], t0: float) -> int:
    if args.json:
        emit_json(story)
        return 0
    print(f"mission {story['mission_id']}: {outcome}")
    if story.get("verdict"):
        print(f"verdict: {_verdict_line(story['verdict'], story.get('verdict_reason', ''))}")
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
        print(f"  {e['versionstamp']} {e['agent']:<15} {e['what'][:150]}")  # --at-event takes it
    source = f"the daemon at {args.server}" if args.server else "the ledger"
    print(f"(read from {source} in {time.perf_counter() - t0:.2f}s)", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    if args.server:
        return _through_daemon(args, _remote_list)
    if (refused := _local_repo_missing(args)) is not None:
        return refused
    rows = []
    try:
        with open_from_args(args) as led:
            tenant, project = args.tenant, _project_of(args)
            for rec in led.iter_events(tenant, project):
                if rec.kind != "signal" or rec.event.signal.kind != pb.SIGNAL_KIND_MISSION_STARTED:
                    continue
                view = load_view(led, tenant, project, rec.event.mission_id)
                assert view.started is not None  # load_view refuses a mission never started
                end = view.finished
                rows.append(
                    {
                        "mission_id": view.mission_id,
                        "state": str(end.outcome) if end else "unfinished",
                        "kind": view.started.request.kind,
                        "started": format_time(rec.time_us),
                        "files_changed": len(view.changed_paths()),
                        "reason": end.reason if end else "",
                        "verdict": view.verdict_name,
                    }
                )
    except (MissionError, ledger.LedgerError, OSError) as exc:
        return fail(str(exc))
    return _print_missions(args, rows)


def _print_missions(args: argparse.Namespace, rows: list[dict[str, Any]]) -> int:
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no missions")
    else:
        print(f"{'MISSION':<26}{'STATE':<12}{'KIND':<11}{'STARTED':<29}{'FILES':<7}VERDICT")
        for r in rows:
            print(
                f"{r['mission_id']:<26}{r['state']:<12}{r['kind']:<11}{r['started']:<29}"
                f"{r['files_changed']:<7}{r['verdict'].replace('_', ' ') or '-'}"
            )
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    if args.server:
        return _through_daemon(args, _remote_cancel)
    return fail(
        "mission cancel works through a daemon only (--server HOST:PORT): a mission run "
        "here stops with its process (Ctrl-C), and `swarm mission resume` continues it"
    )


# Through a daemon (--server) ----------------------------------------------------------


def _through_daemon(
    args: argparse.Namespace, body: Callable[[argparse.Namespace, Remote, str], int]
) -> int:
    """Check the options of a remote mission command, then run ``body(args, remote, project)``."""
    if args.repo is not None:
        return fail(
            "--repo names a folder on this machine and does not go with --server: name the "
            "repository by --workspace NAME (a folder under the daemon's --workspaces) and "
            "the project by --project"
        )
    project = args.project or getattr(args, "workspace", None)
    if not project:
        return fail("with --server, name the project: --project P")
    return run_remote(args, lambda remote: body(args, remote, project))


def _remote_new(args: argparse.Namespace) -> int:
    if args.repo is None and not args.workspace:
        return fail(
            "--server needs --workspace NAME: the repository folder under the daemon's --workspaces"
        )
    for dest, default in _LOCAL_ONLY_RUN.items():
        if getattr(args, dest) != default:
            flag = "--" + dest.replace("_", "-")
            return fail(f"{flag} is not carried by the daemon's API: run locally with --repo")
    if args.coders < 1:
        return fail(f"--coders must be at least 1, got {args.coders}")
    return _through_daemon(args, _remote_run)


def _remote_run(args: argparse.Namespace, remote: Remote, project: str) -> int:
    import grpc  # only a command talking to a daemon pays for loading it

    try:
        request = _request(args)
    except OSError as exc:
        raise RemoteRefused(f"{args.diff}: {exc.strerror or exc}") from None
    ref = project_ref(args, project)
    submitted = remote.call(
        "SubmitMission",
        api.SubmitMissionRequest(
            project=ref,
            kind=request.kind,
            params=dict(request.params),
            workspace=args.workspace,
            mission_id=args.mission_id or "",
            coders=args.coders,
            skip_tests=args.no_tests,
            step_delay_s=args.step_delay,
            allow_unverified=args.allow_unverified,
            test_timeout_s=args.test_timeout,
        ),
    )
    mid = submitted.mission_id
    where = f"--server {remote.target} --project {project}"
    print(
        f"mission {mid} started on {remote.target} ({request.kind}, project {project})",
        file=sys.stderr,
    )
    try:
        events = _follow(remote, ref, mid)
    except KeyboardInterrupt:
        print(f"\nstopped following; mission {mid} goes on in the daemon", file=sys.stderr)
        print(f"  see it: swarm mission show {mid} {where}", file=sys.stderr)
        return 130
    except grpc.RpcError as exc:
        raise RemoteRefused(
            f"{describe(exc)} (mission {mid} was submitted: swarm mission show {mid} {where})"
        ) from None
    done = remote.call("GetMission", api.GetMissionRequest(project=ref, mission_id=mid))
    return _print_report(args, _report_of(done, events), where)


def _follow(remote: Remote, ref: api.ProjectRef, mission_id: str) -> int:
    """Follow a mission to its end with a bar of its tickets on stderr; how many events."""
    bar = _Bar()
    states: dict[str, int] = {}
    seen = 0
    stream = remote.stream(
        "FollowMission",
        api.FollowMissionRequest(project=ref, mission_id=mission_id),
        # Finite on purpose: the daemon's stream wait overflows (INTERNAL) without a deadline.
        deadline=FOLLOW_DEADLINE_S,
    )
    try:
        for rec in stream:
            seen += 1
            if rec.event.WhichOneof("payload") == "ticket":
                states[rec.event.ticket.ticket_id] = rec.event.ticket.state
                bar("tickets", sum(s in _TERMINAL for s in states.values()), len(states))
    except KeyboardInterrupt:
        stream.cancel()
        raise
    finally:
        bar.close()
    return seen


def _state_name(state: int) -> str:
    return str(pb.TicketState.Name(state)).removeprefix("TICKET_STATE_").lower()


def _report_of(m: api.Mission, events: int) -> MissionReport:
    """The local run's report, from what the API says of a mission (no test counts there)."""
    counts: dict[str, int] = {}
    for t in m.tickets:
        counts[_state_name(t.state)] = counts.get(_state_name(t.state), 0) + 1
    end = m.finished_us or ledger.wall_clock_us()
    return MissionReport(
        mission_id=m.mission_id,
        outcome=m.state,
        reason=m.reason,
        tickets=counts,
        files_changed=tuple(m.files_changed),
        tests={},
        seconds=max(0, end - m.started_us) / 1e6,
        events=events,
        failed_tickets={
            t.ticket_id: t.reason for t in m.tickets if t.state == pb.TICKET_STATE_FAILED
        },
        verdict=VERDICT_NAMES.get(m.verdict, ""),
        verdict_reason=m.verdict_reason,
    )


def _remote_show(args: argparse.Namespace, remote: Remote, project: str) -> int:
    t0 = time.perf_counter()
    ref = project_ref(args, project)
    m = remote.call("GetMission", api.GetMissionRequest(project=ref, mission_id=args.mission_id))
    history = api.HistoryRequest(project=ref, mission_id=m.mission_id)
    story = []
    for rec in remote.pages("History", history, "records", 1000):
        line: dict[str, Any] = {
            "versionstamp": rec.cursor,
            "time_us": rec.event.time_us,
            "agent": rec.event.agent_id,
            "kind": rec.event.WhichOneof("payload") or "",
            "event_id": rec.event.event_id,
            "what": describe_event(rec.event),
        }
        if line["kind"] == "state_change":
            line["path"] = rec.event.state_change.path
        story.append(line)
    dag = [
        {
            "id": t.ticket_id,
            "kind": t.agent_kind,
            "inputs": {},  # the API does not carry a ticket's inputs
            "depends_on": list(t.depends_on),
            "state": _state_name(t.state),
            "attempt": t.attempt,
            "reason": t.reason,
        }
        for t in m.tickets
    ]
    outcome = m.state if m.state in ("succeeded", "failed") else f"{m.state} (not finished)"
    shown = {
        "mission_id": m.mission_id,
        "verdict": VERDICT_NAMES.get(m.verdict, ""),
        "verdict_reason": m.verdict_reason,
        "dag": dag,
        "story": story,
    }
    return _print_story(args, outcome, shown, t0)


def _remote_list(args: argparse.Namespace, remote: Remote, project: str) -> int:
    ref = project_ref(args, project)
    listed = remote.call("ListMissions", api.ListMissionsRequest(project=ref))
    rows = [
        {
            "mission_id": m.mission_id,
            "state": m.state,
            "kind": m.kind,
            "started": format_time(m.started_us),
            "files_changed": len(m.files_changed),
            "reason": m.reason,
            "verdict": VERDICT_NAMES.get(m.verdict, ""),
        }
        for m in listed.missions
    ]
    return _print_missions(args, rows)


def _remote_cancel(args: argparse.Namespace, remote: Remote, project: str) -> int:
    m = remote.call(
        "CancelMission",
        api.CancelMissionRequest(
            project=project_ref(args, project), mission_id=args.mission_id, reason=args.reason
        ),
    )
    if args.json:
        from google.protobuf.json_format import MessageToDict  # a remote reply as JSON only

        emit_json(MessageToDict(m, preserving_proto_field_name=True))
    else:
        print(
            f"mission {m.mission_id}: cancel recorded ({m.state}); in-flight work stops "
            "and its changes roll back"
        )
    return 0
