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
way, all or nothing; diff, snapshot and bisect need the ledger itself.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import ledger
import replay
from ledger import Versionstamp
from proto.swarm.v1 import service_pb2 as api
from swarm.cli._common import emit_json, event_versionstamp, fail, open_from_args
from swarm.cli._context import add_context_options
from swarm.cli._remote import Remote, add_server_options, at_point, project_ref, run_remote

# argparse takes "-2h" for an option unless it looks like a negative number;
# widening what "a negative number" means lets `--at -2h` work as the issue shows.
RELATIVE_TIME = re.compile(r"^-\d+(\.\d+)?[smhdw]?$")


def accept_relative_times(parser: argparse.ArgumentParser) -> None:
    """Let ``parser`` read ``-2h`` as a value (argparse's private matcher, stable since 3.2)."""
    parser._negative_number_matcher = RELATIVE_TIME


def register(sub: Any) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="materialise a project's files at a past time or event",
        description=__doc__,
        formatter_class=fmt,
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
    actions = parser.add_subparsers(dest="replay_action", metavar="ACTION")

    diff = actions.add_parser("diff", help="unified diff between two states")
    add_context_options(diff, read_only=True, inherited=True)
    diff.add_argument("--from", dest="from_", required=True, metavar="TIME|VS", help=_POINT)
    diff.add_argument("--to", required=True, metavar="TIME|VS", help=_POINT)
    _snapshot_options(diff)
    diff.set_defaults(handler=_diff)
    accept_relative_times(diff)

    snap = actions.add_parser("snapshot", help="take replay snapshots up to the head")
    add_context_options(
        snap, read_only=True, inherited=True
    )  # appends snapshots; never creates a ledger
    _snapshot_options(snap)
    snap.set_defaults(handler=_snapshot)

    fork = sub.add_parser(
        "fork",
        help="start a new project from a past state of this one",
        description=__doc__,
        formatter_class=fmt,
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

    bis = sub.add_parser(
        "bisect",
        help="find the event that broke a test (runs it in the sandbox)",
        description=__doc__,
        formatter_class=fmt,
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


class _Bar:
    """Progress on stderr, at most a few times a second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.2:
            return
        self._last = now
        self._shown = True
        of = f"/{total}" if total else ""
        end = "\r" if sys.stderr.isatty() else "\n"
        print(f"  {stage}: {done}{of}", end=end, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._shown and sys.stderr.isatty():
            print(file=sys.stderr)


def _point(r: replay.Replayer, text: str) -> Versionstamp:
    vs = event_versionstamp(text)
    return r.at_event(vs) if vs is not None else r.at_time(text)


def _replayer(args: argparse.Namespace, led: ledger.Ledger, bar: _Bar) -> replay.Replayer:
    if args.snapshot_every < 1:
        raise replay.BadPoint(f"--snapshot-every must be at least 1, got {args.snapshot_every}")
    r = replay.Replayer(
        led, args.tenant, args.project, snapshot_every=args.snapshot_every, progress=bar
    )
    if not args.no_snapshot:
        r.take_snapshots()
    return r


def _run(args: argparse.Namespace, body: Any) -> int:
    if getattr(args, "server", None):  # `replay --server X diff`: the option sits on the parent
        return fail(f"replay {args.replay_action} needs the ledger itself; it has no --server")
    bar = _Bar()
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
    if args.server:
        return run_remote(args, lambda remote: _remote_replay(args, remote))

    def body(led: ledger.Ledger, bar: _Bar) -> int:
        r = _replayer(args, led, bar)
        if args.at is not None:
            vs = r.at_time(args.at)
        elif args.at_event is not None:
            vs = r.at_event(args.at_event)
        elif args.mission is not None:
            vs = r.at_mission_step(args.mission, args.step)
        else:
            vs = r.latest()
        state = r.state_at(vs)
        done = replay.materialise(
            led, args.tenant, state, Path(args.out), force=args.force, progress=bar
        )
        facts = {
            "out": str(done.out),
            "versionstamp": str(vs),
            "time": replay.format_time(state.time_us),
            "files": done.files,
            "bytes": done.bytes,
            "snapshot": str(state.snapshot) if state.snapshot else None,
            "events_folded": state.events_folded,
            "verified": state.chain_checked,
            "verification": state.verification,
        }
        left = replay.omissions_at(led, args.tenant, args.project, vs)
        facts["left_out"] = [{"path": p, "reason": why} for p, why in left.paths] if left else []
        facts["left_out_more"] = left.more if left else 0
        if left and left.unreadable:
            facts["left_out_unreadable"] = left.unreadable
        if args.json:
            emit_json(facts)
        else:
            print(
                f"replayed {args.project} at {facts['time']} (event {vs}) into {done.out}: "
                f"{done.files} files, {done.bytes} bytes, each checked against its sha256"
            )
            print(f"  verified: {state.verification}")
            base = f"snapshot {state.snapshot}" if state.snapshot else "the first event"
            print(f"  from {base} plus {state.events_folded} events")
            if left and left.unreadable:
                print(f"  what the import left out could not be read: {left.unreadable}")
            elif left:
                print(f"  left out (never imported, so not replayed): {_listed(left)}")
        return 0

    return _run(args, body)


def _listed(left: replay.Omissions, shown: int = 10) -> str:
    """``a (symlink), b/ (folder), … and N more`` for a replay's last line."""
    text = ", ".join(f"{p} ({why})" for p, why in left.paths[:shown])
    rest = len(left) - min(shown, len(left.paths))
    return text + (f", and {rest} more" if rest else "")


def _diff(args: argparse.Namespace) -> int:
    def body(led: ledger.Ledger, bar: _Bar) -> int:
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
    def body(led: ledger.Ledger, bar: _Bar) -> int:
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
    if args.server:
        return run_remote(args, lambda remote: _remote_fork(args, remote))

    def body(led: ledger.Ledger, bar: _Bar) -> int:
        r = _replayer(args, led, bar)
        state = r.state_at(_point(r, args.at))
        done = replay.fork(led, args.tenant, args.project, state, args.new_project)
        if args.json:
            emit_json(
                {
                    "project": done.project,
                    "link": str(done.link),
                    "files": done.files,
                    "origin": args.project,
                    "origin_versionstamp": str(state.versionstamp),
                }
            )
        else:
            print(
                f"forked {args.project} at {state.versionstamp} as {done.project}: "
                f"{done.files} files; link event {done.link}"
            )
        return 0

    return _run(args, body)


def _remote_point(args: argparse.Namespace, remote: Remote, ref: api.ProjectRef) -> api.At:
    if args.at_event is not None:
        return api.At(versionstamp=args.at_event.strip().lower())
    if args.mission is None:
        return at_point(args.at)
    if args.step < 1:  # the step-th event of the mission, as Replayer.at_mission_step counts
        raise replay.UnknownPoint(f"mission step {args.step}: steps count from 1")
    history = api.HistoryRequest(project=ref, mission_id=args.mission, limit=min(args.step, 10_000))
    records = remote.call("History", history).records
    if len(records) < args.step:
        raise replay.UnknownPoint(
            f"mission {args.mission!r} has {len(records)} events, so no step {args.step}"
        )
    return api.At(versionstamp=records[args.step - 1].cursor)


def _remote_replay(args: argparse.Namespace, remote: Remote) -> int:
    """ListFiles at the point, ReadFile each file, check it, write the tree all or nothing.

    Reading at a past point makes the daemon fold the log once per call, so a
    file whose content is the same at head is read at head, which is cheap.
    """
    out = Path(args.out).absolute()
    _refuse_non_empty(out, args.force)  # before reading anything
    ref = project_ref(args, args.project)
    at = _remote_point(args, remote, ref)
    listing = remote.call("ListFiles", api.ListFilesRequest(project=ref, at=at))
    vs = listing.at_versionstamp
    pinned = api.At(versionstamp=vs)
    head = listing
    if at.WhichOneof("point") != "head":
        head = remote.call("ListFiles", api.ListFilesRequest(project=ref))
    at_head = {f.path: f.sha256 for f in head.files}
    contents: dict[str, bytes] = {}

    def read(path: str, point: api.At | None) -> bytes:
        req = api.ReadFileRequest(project=ref, path=path, at=point)
        return bytes(remote.call("ReadFile", req).content)

    bar = _Bar()
    try:
        for i, f in enumerate(listing.files, 1):
            cheap = at_head.get(f.path) == f.sha256
            data = read(f.path, None if cheap else pinned)
            if cheap and hashlib.sha256(data).digest() != f.sha256:  # head moved since
                data = read(f.path, pinned)
            if hashlib.sha256(data).digest() != f.sha256 or len(data) != f.size:
                raise replay.ChainBroken(f.path, vs, "the daemon sent content not of its hash")
            contents[f.path] = data
            bar("read", i, len(listing.files))
    finally:
        bar.close()
    written = replay.write_tree(out, contents, vs, force=args.force)
    facts = {
        "out": str(out),
        "versionstamp": vs,
        "files": len(contents),
        "bytes": written,
        "server": remote.target,
        "verified": True,
    }
    if args.json:
        emit_json(facts)
    else:
        print(
            f"replayed {args.project} at event {vs} into {out}: {len(contents)} files, "
            f"{written} bytes, each checked against its sha256 (from the daemon at {remote.target})"
        )
    return 0


def _refuse_non_empty(out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise replay.OutputNotEmpty(str(out))


def _remote_fork(args: argparse.Namespace, remote: Remote) -> int:
    done = remote.call(
        "Fork",
        api.ForkRequest(
            project=project_ref(args, args.project),
            at=at_point(args.at),
            new_project=args.new_project,
        ),
    )
    if args.json:
        emit_json(
            {
                "project": done.project.project,
                "link": done.link,
                "files": done.files,
                "origin": args.project,
                "origin_versionstamp": done.at_versionstamp,
            }
        )
    else:
        print(
            f"forked {args.project} at {done.at_versionstamp} as {done.project.project}: "
            f"{done.files} files; link event {done.link}"
        )
    return 0


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
    def body(led: ledger.Ledger, bar: _Bar) -> int:
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
