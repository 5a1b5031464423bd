"""``swarm replay``, ``swarm fork`` and ``swarm bisect``: a project's past, from its ledger.

  swarm replay --at -2h --out DIR           the files as they were two hours ago
  swarm replay --at-event VS --out DIR      ... just after one event
  swarm replay --mission M --step 3 --out DIR
  swarm replay diff --from T1 --to T2       unified diff between two states
  swarm replay snapshot                     take snapshots now (replay also does, first)
  swarm fork --at T --as NEW_PROJECT        a new project starting from that state
  swarm bisect --good T1 --bad T2 -- pytest the first event that broke the test

A TIME is ISO 8601 (naive means UTC) or relative (-30s, -15m, -2h, -3d); in
diff, fork and bisect a 24-hex-digit versionstamp works too. Replay reads the
ledger only; bisect runs the test command in the Wasmtime sandbox.

``swarm replay`` and ``swarm fork`` also run through a daemon (``--server
HOST:PORT``, token in $SWARM_TOKEN): replay then reads the files with
ListFiles/ReadFile, checks each against its sha256 and writes them the same
way, all or nothing; diff, snapshot and bisect need the ledger itself. Each
is written once against ``swarm.client.Client``.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import ledger
import replay
from ledger import Versionstamp
from swarm.cli._client import local_client, run_client
from swarm.cli._common import emit_json, event_versionstamp, fail, open_from_args
from swarm.cli._context import add_context_options
from swarm.cli._progress import Bar
from swarm.cli._remote import add_server_options
from swarm.client import Client, Point, Replayed

# argparse takes "-2h" for an option unless it looks like a negative number;
# widening what "a negative number" means lets `--at -2h` work as the issue shows.
RELATIVE_TIME = re.compile(r"^-\d+(\.\d+)?[smhdw]?$")
_FMT = argparse.RawDescriptionHelpFormatter


def accept_relative_times(parser: argparse.ArgumentParser) -> None:
    """Let ``parser`` read ``-2h`` as a value (argparse's private matcher, stable since 3.2)."""
    parser._negative_number_matcher = RELATIVE_TIME


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="materialise a project's files at a past time or event",
        description=__doc__,
        formatter_class=_FMT,
    )
    add_context_options(parser, read_only=True)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--at", metavar="TIME", help="ISO 8601 or relative (-2h)")
    where.add_argument(
        "--at-event",
        metavar="VERSIONSTAMP",
        type=_versionstamp,
        help="an event's versionstamp as `mission show` and `audit` print it (24 hex digits)",
    )
    where.add_argument("--mission", metavar="ID", help="with --step N: the mission's Nth event")
    parser.add_argument("--step", type=int, metavar="N", help="1-based step of --mission")
    parser.add_argument("--out", metavar="DIR", help="folder to write the files into")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out")
    _snapshot_options(parser)
    add_server_options(parser)
    parser.set_defaults(handler=_replay)
    accept_relative_times(parser)
    _register_actions(parser.add_subparsers(dest="replay_action", metavar="ACTION"))
    _register_fork(sub)
    _register_bisect(sub)


def _register_actions(actions: Any) -> None:
    diff = actions.add_parser("diff", help="unified diff between two states")
    add_context_options(diff, read_only=True, inherited=True)
    diff.add_argument("--from", dest="from_", required=True, metavar="TIME|VS", help=_POINT)
    diff.add_argument("--to", required=True, metavar="TIME|VS", help=_POINT)
    _snapshot_options(diff)
    diff.set_defaults(handler=_diff)
    accept_relative_times(diff)

    snap = actions.add_parser("snapshot", help="take replay snapshots up to the head")
    # It appends snapshots; it never creates a ledger.
    add_context_options(snap, read_only=True, inherited=True)
    _snapshot_options(snap)
    snap.set_defaults(handler=_snapshot)


def _register_fork(sub: Any) -> None:
    fork = sub.add_parser(
        "fork",
        help="start a new project from a past state of this one",
        description=__doc__,
        formatter_class=_FMT,
    )
    add_context_options(fork, read_only=True)  # writes the new project; never creates a ledger
    fork.add_argument("--at", required=True, metavar="TIME|VS", help=_POINT)
    fork.add_argument(
        "--as",
        dest="new_project",
        required=True,
        metavar="NEW_PROJECT",
        help="the new project's id",
    )
    _snapshot_options(fork)
    add_server_options(fork)
    fork.set_defaults(handler=_fork)
    accept_relative_times(fork)


def _register_bisect(sub: Any) -> None:
    bis = sub.add_parser(
        "bisect",
        help="find the event that broke a test (runs it in the sandbox)",
        description=__doc__,
        formatter_class=_FMT,
    )
    add_context_options(bis, read_only=True)
    bis.add_argument(
        "--good", required=True, metavar="TIME|VS", help="a point where the test passes"
    )
    bis.add_argument("--bad", required=True, metavar="TIME|VS", help="a point where it fails")
    bis.add_argument("--timeout", type=float, default=120.0, help="seconds per test run")
    bis.add_argument(
        "test",
        nargs=argparse.REMAINDER,
        metavar="-- TEST COMMAND",
        help="pytest | unittest | python FILE [ARGS] (run in the sandbox)",
    )
    _snapshot_options(bis)
    bis.set_defaults(handler=_bisect)
    accept_relative_times(bis)


_POINT = "a time (ISO 8601 or relative, -2h) or an event's versionstamp (24 hex digits)"


def _versionstamp(text: str) -> str:
    """--at-event's type: 24 hex digits (20, a commit's alone, name its first event)."""
    vs = event_versionstamp(text)
    if vs is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a versionstamp (24 hex digits)")
    return vs


def _snapshot_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--snapshot-every",
        type=int,
        default=replay.DEFAULT_SNAPSHOT_EVERY,
        metavar="N",
        help=f"events between snapshots (default {replay.DEFAULT_SNAPSHOT_EVERY})",
    )
    parser.add_argument(
        "--no-snapshot", action="store_true", help="do not take snapshots before replaying"
    )


def _point(r: replay.Replayer, text: str) -> Versionstamp:
    vs = event_versionstamp(text)
    return r.at_event(vs) if vs is not None else r.at_time(text)


def _replayer(args: argparse.Namespace, led: ledger.Ledger, bar: Bar) -> replay.Replayer:
    return local_client(args, led).replayer(args.project, bar)


def _run(args: argparse.Namespace, body: Any) -> int:
    """``body(led, bar)`` on the ledger itself (diff, snapshot, bisect: no API call does them)."""
    if getattr(args, "server", None):  # `replay --server X diff`: the option sits on the parent
        return fail(f"replay {args.replay_action} needs the ledger itself; it has no --server")
    bar = Bar()
    try:
        with open_from_args(args) as led:
            return int(body(led, bar))
    except (replay.ReplayError, ledger.LedgerError) as exc:
        return fail(str(exc))
    finally:
        bar.close()


def _replay(args: argparse.Namespace) -> int:
    if args.out is None:
        return fail("replay needs --out DIR (or an action: diff, snapshot)")
    if args.step is not None and args.mission is None:
        return fail("--step needs --mission ID")
    if args.mission is not None and args.step is None:
        return fail("--mission needs --step N")
    point = Point(args.at_event or args.at, args.mission, args.step or 0)
    bar = Bar()

    def body(client: Client) -> int:
        try:
            done = client.replay_to(
                args.project, point, Path(args.out), force=args.force, progress=bar
            )
        finally:
            bar.close()
        if args.json:
            emit_json(done.to_json())
        elif done.server:
            print(
                f"replayed {args.project} at event {done.versionstamp} into {done.out}: "
                f"{done.files} files, {done.bytes} bytes, each checked against its sha256 "
                f"(from the daemon at {done.server})"
            )
        else:
            print(
                f"replayed {args.project} at {done.time} (event {done.versionstamp}) into "
                f"{done.out}: {done.files} files, {done.bytes} bytes, each checked against "
                "its sha256"
            )
            print(f"  verified: {done.verification}")
            base = f"snapshot {done.snapshot}" if done.snapshot else "the first event"
            print(f"  from {base} plus {done.events_folded} events")
            if done.left_out_unreadable:
                print(f"  what the import left out could not be read: {done.left_out_unreadable}")
            elif done.left_out or done.left_out_more:
                print(f"  left out (never imported, so not replayed): {_listed(done)}")
        return 0

    return run_client(args, body)


def _listed(done: Replayed, shown: int = 10) -> str:
    """``a (symlink), b/ (folder), … and N more`` for a replay's last line."""
    text = ", ".join(f"{p} ({why})" for p, why in done.left_out[:shown])
    rest = len(done.left_out) + done.left_out_more - min(shown, len(done.left_out))
    return text + (f", and {rest} more" if rest else "")


def _diff(args: argparse.Namespace) -> int:
    def body(led: ledger.Ledger, bar: Bar) -> int:
        r = _replayer(args, led, bar)
        a = r.state_at(_point(r, args.from_))
        b = r.state_at(_point(r, args.to))
        if b.versionstamp < a.versionstamp:
            raise replay.EmptyRange("--to comes before --from; swap them")
        text = replay.unified_diff(led, args.tenant, a, b)
        if args.json:
            emit_json({"from": str(a.versionstamp), "to": str(b.versionstamp), "diff": text})
        else:
            sys.stdout.write(
                text or f"no differences between {a.versionstamp} and {b.versionstamp}\n"
            )
        return 0

    return _run(args, body)


def _snapshot(args: argparse.Namespace) -> int:
    def body(led: ledger.Ledger, bar: Bar) -> int:
        args.no_snapshot = True
        r = _replayer(args, led, bar)
        taken = r.take_snapshots()
        if args.json:
            emit_json({"taken": [str(v) for v in taken]})
        else:
            print(f"took {len(taken)} snapshot(s) of {args.project}")
        return 0

    return _run(args, body)


def _fork(args: argparse.Namespace) -> int:
    bar = Bar()

    def body(client: Client) -> int:
        try:
            done = client.fork(args.project, Point(args.at), args.new_project, progress=bar)
        finally:
            bar.close()
        if args.json:
            emit_json(done.to_json())
        else:
            print(
                f"forked {args.project} at {done.origin_versionstamp} as {done.project}: "
                f"{done.files} files; link event {done.link}"
            )
        return 0

    return run_client(args, body)


def sandbox_runner(command: list[str], timeout: float) -> replay.TestRunner:
    """A test runner that runs ``command`` in the Wasmtime sandbox on a materialised folder."""
    import sandbox

    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise replay.BisectError("bisect needs a test command after --")
    limits = sandbox.Limits(timeout=timeout)
    program = Path(command[0]).name
    if program in ("pytest", "py.test", "unittest") or command[:3] in (
        ["python", "-m", "pytest"],
        ["python", "-m", "unittest"],
    ):
        framework = "unittest" if "unittest" in command else "auto"

        def run_tests(folder: Path) -> bool:
            report = sandbox.run_tests(folder, framework=framework, limits=limits)
            return report.complete and report.failed == 0 and report.errors == 0

        return run_tests
    if program in ("python", "python3") and len(command) >= 2:

        def run_script(folder: Path) -> bool:
            result = sandbox.run(argv=command[1:], folder=folder, writable=True, limits=limits)
            return result.ok and result.exit_code in (0, None)

        return run_script
    raise replay.BisectError(
        f"cannot run {shlex.join(command)!r} in the sandbox: use pytest, unittest, "
        "or python FILE [ARGS]"
    )


def _bisect(args: argparse.Namespace) -> int:
    def body(led: ledger.Ledger, bar: Bar) -> int:
        runner = sandbox_runner(list(args.test), args.timeout)
        r = _replayer(args, led, bar)
        good, bad = _point(r, args.good), _point(r, args.bad)

        def on_probe(p: replay.Probe, n: int, budget: int) -> None:
            verdict = "pass" if p.passed else "FAIL"
            print(f"  probe {n}/~{budget}: {p.versionstamp} {verdict}", file=sys.stderr)

        result = replay.bisect(r, good, bad, runner, on_probe=on_probe)
        first = result.first_bad
        decision = result.decision
        facts: dict[str, Any] = {
            "first_bad": str(first.versionstamp),
            "event_id": first.event.event_id,
            "agent": first.event.agent_id,
            "mission": first.event.mission_id,
            "path": first.event.state_change.path,
            "time": replay.format_time(first.time_us),
            "candidates": result.candidates,
            "probes": [
                {"versionstamp": str(p.versionstamp), "passed": p.passed} for p in result.probes
            ],
            "decision": None
            if decision is None
            else {
                "versionstamp": str(decision.versionstamp),
                "event_id": decision.event.event_id,
                "agent": decision.event.agent_id,
                "rationale": decision.event.decision.rationale,
            },
        }
        if args.json:
            emit_json(facts)
        else:
            print(
                f"first bad event: {first.versionstamp} at {facts['time']}: {facts['agent']} "
                f"changed {facts['path']} (mission {facts['mission'] or '-'})"
            )
            if decision is not None:
                print(
                    f"  decided by {decision.event.agent_id} at {decision.versionstamp}: "
                    f"{decision.event.decision.rationale}"
                )
            else:
                print("  no Decision recorded for it")
            print(f"  {len(result.probes)} test runs over {result.candidates} changes")
        return 0

    return _run(args, body)
