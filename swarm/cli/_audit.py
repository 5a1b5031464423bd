"""``swarm audit``: who changed what, when and why, and is the log intact.

  swarm audit events --agent coder-1 --since -2h        events by agent/role/type/path/mission/text
  swarm audit who src/app.py --since 2026-11-01         each change of a file with its Decision
  swarm audit verify                                    the hash chain, and heads, snapshots,
                                                        blobs and the file checked against it
  swarm audit export --format parquet --out audit.parquet [filters]

Output is a table by default, ``--format jsonl|csv`` for tools, ``--json`` for
one JSON document. Times are ISO 8601 or relative (-15m, -2h, -3d).

With ``--server HOST:PORT`` (token in $SWARM_TOKEN) ``events``, ``who``,
``verify`` and ``export`` ask a daemon instead (QueryAudit, WhoChanged,
VerifyProject): it applies the filters through its ledger's indexes, as the
local path does, and sends only the rows that match.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import ledger
import ops
import replay
from swarm.cli._client import run_client
from swarm.cli._common import emit_json, fail
from swarm.cli._context import add_context_options
from swarm.cli._remote import add_server_options
from swarm.cli._replay import accept_relative_times
from swarm.client import Client, VerifyReport


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "audit",
        help="audit queries, tamper checks and exports over the ledger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION")
    actions.required = True

    events = actions.add_parser("events", help="events matching filters")
    add_context_options(events, read_only=True)
    _filters(events)
    events.add_argument(
        "--format", default="table", choices=ops.TEXT_FORMATS, help="how rows print (default table)"
    )
    add_server_options(events)
    events.set_defaults(handler=_events)

    who = actions.add_parser("who", help="who changed PATH, when and why")
    add_context_options(who, read_only=True)
    who.add_argument("path", metavar="PATH", help="the file, relative to the repository")
    who.add_argument("--since", metavar="TIME", help="changes at or after: ISO 8601 or -2h")
    who.add_argument("--until", metavar="TIME", help="changes at or before: ISO 8601 or -2h")
    add_server_options(who)
    who.set_defaults(handler=_who)
    accept_relative_times(who)

    verify = actions.add_parser("verify", help="re-walk the hash chain; name the first bad event")
    add_context_options(verify, read_only=True)
    add_server_options(verify)
    verify.set_defaults(handler=_verify)

    export = actions.add_parser("export", help="write matching events to a file")
    add_context_options(export, read_only=True)
    _filters(export)
    export.add_argument(
        "--format",
        default="parquet",
        choices=ops.EXPORT_FORMATS,
        help="file format (default parquet)",
    )
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    export.add_argument("--force", action="store_true", help="replace an existing FILE")
    add_server_options(export)
    export.set_defaults(handler=_export)


def _filters(p: argparse.ArgumentParser) -> None:
    accept_relative_times(p)
    p.add_argument("--agent", metavar="ID", help="events of this agent (e.g. coder-2)")
    p.add_argument(
        "--role",
        metavar="ROLE",
        help="events of agents in this role: " + ", ".join(sorted(ops.ROLES)),
    )
    p.add_argument(
        "--type", dest="kind", metavar="TYPE", help="events of this kind: " + ", ".join(ops.KINDS)
    )
    p.add_argument("--path", metavar="PATH", help="events touching this file")
    p.add_argument("--mission", metavar="ID", help="events of this mission")
    p.add_argument("--since", metavar="TIME", help="events at or after: ISO 8601 or -2h")
    p.add_argument("--until", metavar="TIME", help="events at or before: ISO 8601 or -2h")
    p.add_argument("--text", metavar="WORDS", help="these words in a Decision's rationale")
    p.add_argument("--limit", type=int, metavar="N", help="at most N events")


def _time(text: str | None, now: int) -> int | None:
    return None if text is None else replay.parse_time(text, now)


def _query(args: argparse.Namespace) -> ops.Query:
    now = ledger.wall_clock_us()
    return ops.Query(
        agent=args.agent,
        role=args.role,
        kind=args.kind,
        path=args.path,
        mission=args.mission,
        since_us=_time(args.since, now),
        until_us=_time(args.until, now),
        text=args.text,
        limit=args.limit,
    )


def _run(args: argparse.Namespace, body: Any) -> int:
    """``body(client)`` with the times and filters checked first (nothing opened if bad)."""
    try:
        query = _query(args) if hasattr(args, "kind") else None
        if query is not None:
            query.check()
        window = _window(args) if hasattr(args, "since") else (None, None)
    except (ops.AuditError, replay.ReplayError) as exc:
        return fail(str(exc))
    return run_client(args, lambda client: int(body(client, query, window)))


def _window(args: argparse.Namespace) -> tuple[int | None, int | None]:
    now = ledger.wall_clock_us()
    return _time(args.since, now), _time(args.until, now)


def _events(args: argparse.Namespace) -> int:
    def body(client: Client, q: ops.Query, _: Any) -> int:
        rows = client.query_audit(args.project, q)
        if args.json:
            emit_json([r.as_dict() for r in rows])
        else:
            sys.stdout.write(ops.render(rows, args.format))
        return 0

    return _run(args, body)


def _who(args: argparse.Namespace) -> int:
    def body(client: Client, _: Any, window: tuple[int | None, int | None]) -> int:
        since, until = window
        whys = client.who_changed(args.project, args.path, since_us=since, until_us=until)
        if args.json:
            emit_json([w.as_dict() for w in whys])
            return 0
        for w in whys:
            c = w.change
            print(f"{c.time}  {c.agent or '-'} ({c.role}) {c.summary} {c.path}  [{c.versionstamp}]")
            if w.request:
                print(f"    request: {w.request}  (mission {c.mission})")
            if w.decision is not None:
                print(f"    why: {w.decision.summary}  ({w.decision.agent}, {w.decision.event_id})")
            else:
                print("    why: no Decision recorded")
            if w.verdict is not None:
                print(f"    verdict: {w.verdict_outcome}: {w.verdict.summary}  ({w.verdict.agent})")
        print(f"({len(whys)} change{'s' if len(whys) != 1 else ''} of {args.path})")
        return 0

    return _run(args, body)


def _verify(args: argparse.Namespace) -> int:
    def progress(_: str, done: int, total: int) -> None:
        if total > 5000:
            print(f"  verified {done}/{total}", file=sys.stderr)

    def body(client: Client, *_: Any) -> int:
        report = client.verify(args.project, progress=progress)
        _print_verify(args, report)
        return 0 if report.ok else 1

    return _run(args, body)


def _print_verify(args: argparse.Namespace, report: VerifyReport) -> None:
    if args.json:
        emit_json(report.as_dict())
    elif report.ok:
        c = report.checked
        print(
            f"ok: {report.records} events of {args.project}, hash chain intact; "
            f"{c['heads']} file heads, {c['snapshots']} snapshots and {c['blobs']} "
            f"blobs agree with it"
        )
    else:
        print(f"TAMPERED: {len(report.problems)} problem(s) in {args.project}:")
        for p in report.problems:
            where = f" at record {p.position}" if p.position >= 0 else ""
            print(f"  {p.kind}{where}: {p.detail}")
    if not args.json:
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        return fail(f"{out} exists (pass --force to replace it)")

    def body(client: Client, q: ops.Query, _: Any) -> int:
        try:
            count = ops.export(client.query_audit(args.project, q), out, args.format)
        except ops.AuditError as exc:
            return fail(str(exc))
        if args.json:
            print(json.dumps({"out": str(out), "format": args.format, "rows": count}))
        else:
            print(f"wrote {count} events of {args.project} to {out} ({args.format})")
        return 0

    return _run(args, body)
