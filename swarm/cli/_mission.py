"""``swarm mission``: run a change across a repository as a durable mission, show it, resume it.

    swarm mission rename --repo PATH OLD NEW
    swarm mission add-param --repo PATH FUNCTION PARAM DEFAULT [--value EXPR]
    swarm mission patch --repo PATH DIFF_FILE|-
    swarm mission ask --repo PATH PROMPT --model-url URL --model NAME
    swarm mission fix --repo PATH [TEST_ID ...] --model-url URL --model NAME
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
    swarm mission fix --server HOST:PORT --workspace NAME [TEST_ID ...]
    swarm mission show|cancel ID --server HOST:PORT --project P
    swarm mission list --server HOST:PORT --project P

The daemon runs the mission on the repository folder NAME under its
--workspaces (project = NAME unless --project); this process follows it and
prints the same summary; ``ask`` and ``fix`` use the daemon's model (``swarm serve
--model-url``). ``cancel`` is remote only: a local mission stops
with its process (Ctrl-C) and ``resume`` picks it up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from replay import format_time
from swarm.brain import BrainError, EditRequest, make_brain
from swarm.cli._client import run_client
from swarm.cli._common import emit_json, fail
from swarm.cli._context import add_context_options
from swarm.cli._model import (
    add_budget_options,
    add_model_options,
    api_key,
    budget_policies,
    model_flags_given,
    model_settings,
)
from swarm.cli._progress import Bar
from swarm.cli._remote import add_server_options
from swarm.client import Client, Detached, Mission, MissionReport, MissionRun, MissionStory
from swarm.client._local import CANCEL_IS_REMOTE
from swarm.missions import MissionError, MissionOptions

# What a local run can be told that SubmitMissionRequest does not carry, with the
# defaults: given through a daemon, they are refused rather than silently dropped.
_LOCAL_ONLY_RUN = {
    "ticket_timeout": 60.0,
    "retries": 1,
    "brain": None,
}
#: The request kinds a model answers by the coder's loop (ADR 0015): openai by default.
_MODEL_KINDS = ("ask", "fix")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "mission",
        help="run a change across a repository as a durable ticket DAG; show or resume one",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    msub = parser.add_subparsers(dest="mission_command", metavar="ACTION")
    msub.required = True
    _register_changes(msub)
    _register_reads(msub)


def _register_changes(msub: Any) -> None:
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

    ask = msub.add_parser(
        "ask", help="a free-form change by a model, round by round against the tests"
    )
    ask.add_argument("prompt", help="what to change, in words")
    _run_options(ask, remote=True)

    fix = msub.add_parser(
        "fix", help="a model makes failing tests pass without breaking the others"
    )
    fix.add_argument(
        "tests",
        nargs="*",
        metavar="TEST_ID",
        help="the tests to make pass (pytest node ids, unittest ids or files); "
        "none: every test failing before the mission",
    )
    fix.add_argument("--prompt", help="a hint for the model: what is wrong, where to look")
    _run_options(fix, remote=True)


def _register_reads(msub: Any) -> None:
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
    _test_options(p)
    p.add_argument(
        "--ticket-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="how long a ticket waits for a lock a person holds (default 60 s)",
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
        default=None,
        choices=("rules", "openai"),
        help="who plans the edits: rules codemods, or an OpenAI-compatible model "
        "(default: openai for ask and fix, rules otherwise)",
    )
    add_model_options(p)
    add_budget_options(p)
    p.add_argument("--mission-id", help="choose the mission id (m + hex digits)")
    p.add_argument("--step-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    p.set_defaults(handler=run_new)


def _test_options(p: argparse.ArgumentParser) -> None:
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
        "--retries",
        type=int,
        default=1,
        help="how many times a critic rejection sends the edits back, when a retry could "
        "make a different edit (no brain can yet: a patch, a codemod, a recorded model answer "
        "are fixed) (default 1)",
    )


def _server(args: argparse.Namespace) -> str | None:
    """The daemon the command goes through (``ask`` and ``resume`` have no --server)."""
    server: str | None = getattr(args, "server", None)
    return server


def _project_of(args: argparse.Namespace) -> str:
    # Resolved once by swarm.cli._context: through a daemon, --project or else --workspace.
    return str(args.context.project)


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
    if cmd == "fix":
        params = {"tests": "\n".join(args.tests)} if args.tests else {}
        if args.prompt:
            params["prompt"] = args.prompt
        return EditRequest("fix", params)
    return EditRequest("ask", {"prompt": args.prompt})


def _brain(args: argparse.Namespace) -> str:
    """The brain the command asked for, or the one its kind needs."""
    if args.brain:
        return str(args.brain)
    return "openai" if args.mission_command in _MODEL_KINDS else "rules"


def _openai_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The model's settings from the flags; MissionError naming a missing one."""
    missing = [
        flag for flag, v in (("--model-url", args.model_url), ("--model", args.model)) if not v
    ]
    if missing:
        raise MissionError(
            f"{args.mission_command} needs a model: {' and '.join(missing)} "
            "(any OpenAI-compatible endpoint: vLLM, Ollama, llama.cpp server)"
        )
    settings = model_settings(args)
    try:
        make_brain("openai", **settings)  # refused here, before any ledger is opened
    except BrainError as exc:
        raise MissionError(str(exc)) from None
    return settings


def _mission_run(args: argparse.Namespace) -> MissionRun:
    """What ``run_new``'s options ask for (MissionError, OSError: refused before a call)."""
    brain = _brain(args)
    local = not _server(args)
    settings = _openai_settings(args) if brain == "openai" and local else {}
    options = MissionOptions(
        coders=args.coders,
        run_tests=not args.no_tests,
        ticket_timeout_s=args.ticket_timeout,
        critic_rounds=args.retries,
        step_delay_s=args.step_delay,
        policies=(*args.policy, *budget_policies(args)),
        test_timeout_s=args.test_timeout,
        allow_unverified=args.allow_unverified,
    )
    return MissionRun(
        request=_request(args),
        options=options,
        mission_id=args.mission_id,
        repo=None if _server(args) else args.repo,
        workspace=(args.workspace or "") if _server(args) else "",
        brain=brain if local else "rules",  # through a daemon: the daemon's model
        brain_settings=settings,
    )


def _local_repo_missing(args: argparse.Namespace) -> int | None:
    """The exit code of a local command given no --repo (or --workspace), else None."""
    if getattr(args, "workspace", None):
        return fail("--workspace names a folder under a daemon's --workspaces: it needs --server")
    if args.repo is None:
        return fail("--repo PATH is required (or --server HOST:PORT to go through a daemon)")
    return None


def _remote_run_refused(args: argparse.Namespace) -> int | None:
    """The exit code of a run through a daemon given options its API does not carry."""
    if args.repo is None and not args.workspace:
        return fail(
            "--server needs --workspace NAME: the repository folder under the daemon's --workspaces"
        )
    for dest, default in _LOCAL_ONLY_RUN.items():
        if getattr(args, dest) != default:
            flag = "--" + dest.replace("_", "-")
            return fail(f"{flag} is not carried by the daemon's API: run locally with --repo")
    for flag in model_flags_given(args):
        return fail(
            f"{flag}: a daemon's missions use the model it was started with (swarm serve "
            "--model-url ...); run locally with --repo to choose one"
        )
    if args.coders < 1:
        return fail(f"--coders must be at least 1, got {args.coders}")
    return None


def _where_refused(args: argparse.Namespace) -> int | None:
    """The exit code of a command whose --repo/--server/--project do not name a project."""
    if not _server(args):
        return _local_repo_missing(args)
    if args.repo is not None:
        return fail(
            "--repo names a folder on this machine and does not go with --server: name the "
            "repository by --workspace NAME (a folder under the daemon's --workspaces) and "
            "the project by --project"
        )
    if not _project_of(args):
        return fail("with --server, name the project: --project P")
    return None


def _where(args: argparse.Namespace) -> str:
    """The options that find this mission again, as the summary's last line prints them."""
    if _server(args):
        return f"--server {_server(args)} --project {_project_of(args)}"
    return f"--repo {args.repo}"


def run_new(args: argparse.Namespace) -> int:
    refused = _remote_run_refused(args) if _server(args) else None
    if refused is None:
        refused = _where_refused(args)
    if refused is not None:
        return refused
    try:
        run = _mission_run(args)
    except MissionError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{args.diff}: {exc.strerror or exc}")
    project, bar = _project_of(args), Bar()
    on = f" on {_server(args)}" if _server(args) else ""

    def started(mid: str) -> None:
        bar.close()
        print(f"mission {mid} started{on} ({run.request.kind}, project {project})", file=sys.stderr)

    def body(client: Client) -> int:
        try:
            report = client.run_mission(project, run, progress=bar, started=started)
        except Detached as exc:
            bar.close()
            print(
                f"\nstopped following; mission {exc.mission_id} goes on in the daemon",
                file=sys.stderr,
            )
            print(f"  see it: swarm mission show {exc.mission_id} {_where(args)}", file=sys.stderr)
            return 130
        finally:
            bar.close()
        return _print_report(args, report)

    return run_client(args, body)


def run_resume(args: argparse.Namespace) -> int:
    bar = Bar()

    def body(client: Any) -> int:  # a LocalClient: a daemon resumes its own missions
        try:
            report = client.resume_mission(
                _project_of(args),
                args.mission_id,
                repo=args.repo,
                api_key=api_key(args),
                progress=bar,
            )
        finally:
            bar.close()
        return _print_report(args, report)

    try:
        return run_client(args, body)
    except MissionError as exc:  # --api-key-env names no variable
        return fail(str(exc))


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
        _print_tests(report)
        _print_usage(report)
        for tid, why in report.failed_tickets.items():
            print(f"  failed {tid}: {why[:300]}")
        print(f"  the story: swarm mission show {report.mission_id} {_where(args)}")
    return 0 if report.ok else 1


def _print_usage(report: MissionReport) -> None:
    """The model's calls and tokens, when the mission asked one."""
    u = report.model_usage
    if u:
        est = " (estimated)" if u.get("estimated") else ""
        print(
            f"  model: {u['calls']} call(s), {u['prompt_tokens']} prompt + "
            f"{u['completion_tokens']} answer tokens{est}"
        )


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
    if (refused := _where_refused(args)) is not None:
        return refused
    started = time.perf_counter()

    def body(client: Client) -> int:
        story = client.mission_story(_project_of(args), args.mission_id)
        _print_story(args, story)
        print(
            f"(read from {client.where} in {time.perf_counter() - started:.2f}s)", file=sys.stderr
        )
        return 0

    return run_client(args, body)


def _print_story(args: argparse.Namespace, told: MissionStory) -> None:
    if args.json:
        emit_json(told.to_json())
        return
    m = told.mission
    print(f"mission {m.mission_id}: {m.outcome}")
    if m.verdict:
        print(f"verdict: {_verdict_line(m.verdict, m.verdict_reason)}")
    print("DAG:")
    for t in m.tickets:
        deps = ", ".join(t.depends_on)
        if len(deps) > 60:
            deps = f"{len(t.depends_on)} tickets"
        what = t.inputs.get("path", "") if t.kind == "coder" else ""
        if t.kind == "coder" and t.inputs.get("loop") == "1":
            what = "a model's loop: " + (t.inputs.get("task", "")[:60] or "the mission's request")
        line = f"  {t.id:<12} {t.kind:<7} {t.state:<9} a{t.attempt} {what}"
        print(line + (f"  <- {deps}" if deps else ""))
        if t.reason and t.state in ("failed", "retry", "cancelled"):
            print(f"      reason: {t.reason[:300]}")
    print(f"story: {len(told.story)} events")
    shown = told.story if args.events else [e for e in told.story if e.kind != "ticket"]
    for e in shown:
        print(f"  {e.versionstamp} {e.agent:<15} {e.what[:150]}")  # --at-event takes it


def run_list(args: argparse.Namespace) -> int:
    if (refused := _where_refused(args)) is not None:
        return refused
    return run_client(
        args, lambda client: _print_missions(args, client.list_missions(_project_of(args)))
    )


def _print_missions(args: argparse.Namespace, missions: list[Mission]) -> int:
    rows = [
        {
            "mission_id": m.mission_id,
            "state": m.state,
            "kind": m.kind,
            "started": format_time(m.started_us),
            "files_changed": len(m.files_changed),
            "reason": m.reason,
            "verdict": m.verdict,
        }
        for m in missions
    ]
    if args.json:
        emit_json(rows)
    elif not rows:
        print("no missions")
    else:
        print(f"{'MISSION':<26}{'STATE':<12}{'KIND':<11}{'STARTED':<29}{'FILES':<7}VERDICT")
        for r in rows:
            print(
                f"{r['mission_id']:<26}{r['state']:<12}{r['kind']:<11}{r['started']:<29}"
                f"{r['files_changed']:<7}{str(r['verdict']).replace('_', ' ') or '-'}"
            )
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    if not _server(args):  # refused before any ledger is looked for: nothing to open
        return fail(CANCEL_IS_REMOTE)
    if (refused := _where_refused(args)) is not None:
        return refused

    def body(client: Client) -> int:
        m = client.cancel_mission(_project_of(args), args.mission_id, args.reason)
        if args.json:
            emit_json(_mission_json(m))
        else:
            print(
                f"mission {m.mission_id}: cancel recorded ({m.state}); in-flight work stops "
                "and its changes roll back"
            )
        return 0

    return run_client(args, body)


def _mission_json(m: Mission) -> dict[str, Any]:
    """A mission as the API's JSON mapping of it (field names as in the proto)."""
    from google.protobuf.json_format import MessageToDict

    from swarm.client._wire import mission_to_pb

    return MessageToDict(mission_to_pb(m), preserving_proto_field_name=True)
