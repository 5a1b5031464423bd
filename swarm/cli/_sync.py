"""``swarm sync``: ship an edge ledger to a hub ledger, store-and-forward, exactly once.

    swarm sync --from sqlite:///laptop.sqlite --to fdb:///etc/foundationdb/fdb.cluster
    swarm sync --from EDGE --to HUB --token-file ~/.swarm/sync-token   (or $SWARM_SYNC_TOKEN)
    swarm sync --from EDGE --to HUB --follow        keep shipping as events land
    swarm sync --from EDGE --to HUB --skip-refused  record refused events on the hub, go on
    swarm sync status --from EDGE --to HUB          lag, last shipped event, open conflicts
    swarm sync resolve CONFLICT_ID --ledger HUB --tenant T --project P --by human:alice

The hub trusts no edge. A sync needs a `sync` token of the hub (made there with
`swarm admin token create --ledger HUB --tenant T --role sync`), read from
--token-file or $SWARM_SYNC_TOKEN, and writes only that token's tenant:
the edge's other tenants are listed as not shipped, and tenants named
swarm-* never ship. Every event is checked (ids, paths, blobs and their
hashes, signal attributes, the edge's hash chain) before it lands; a
`repo` attribute (a folder on the edge) is dropped.

An event the hub refuses stops its project just before it and is named
with the rule it broke (exit 4); the edge's other projects still ship.
Look at it on the edge (`swarm audit events`), then either fix the edge or
run again with --skip-refused: each refused event is then recorded on the
hub and the edge as a `refused` conflict record (listed by `sync status`,
closed by `sync resolve`) and shipping goes on past it. A damaged or
tampered edge log (its hash chain breaks) is refused with exit 2 at the
first bad event; nothing from it on ships.

The edge remembers how far it shipped to each hub (named by --hub-name, or
by a digest of the hub URL). Exit status: 0 shipped, 3 shipped but
conflicts were recorded (see `sync status`), 4 an event was refused and
its project stopped before it, 2 an error (the cursor stays where it was;
run again to resume).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ledger
import sync
from swarm.cli._common import emit_json, fail, open_from_args
from swarm.cli._context import add_context_options, find_root, ledger_url_for

EXIT_CONFLICTS = 3
EXIT_REFUSED = 4
TOKEN_ENV = "SWARM_SYNC_TOKEN"
_MAX_TOKEN_FILE = 4096


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "sync",
        help="ship this ledger to a hub ledger (store-and-forward, exactly once)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser, hub_required=False)
    parser.add_argument("--follow", action="store_true", help="keep shipping as events land")
    parser.add_argument(
        "--batch",
        type=int,
        default=sync.DEFAULT_BATCH_EVENTS,
        metavar="N",
        help=f"events per hub transaction, at most (default {sync.DEFAULT_BATCH_EVENTS})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        default=None,
        help=f"the hub's sync token (default: ${TOKEN_ENV}); never on the command line",
    )
    parser.add_argument(
        "--skip-refused",
        action="store_true",
        help="record each event the hub refuses (on hub and edge) and ship on past it",
    )
    parser.set_defaults(handler=run_ship)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    status = actions.add_parser("status", help="lag, last shipped versionstamp, open conflicts")
    _common(status, hub_required=False)
    status.set_defaults(handler=run_status)
    resolve = actions.add_parser("resolve", help="close a conflict after merging it on the hub")
    resolve.add_argument("conflict_id", help="the conflict's id (see sync status)")
    add_context_options(resolve, read_only=True)  # --ledger: the ledger holding it (the hub)
    resolve.add_argument("--by", required=True, help="who resolved it (e.g. human:alice)")
    resolve.add_argument("--note", default="", help="how it was resolved")
    resolve.set_defaults(handler=run_resolve)


def _common(parser: argparse.ArgumentParser, *, hub_required: bool) -> None:
    parser.add_argument(
        "--from",
        dest="edge",
        metavar="URL",
        default=None,
        help="the edge ledger (default: $SWARM_LEDGER, else the nearest .swarm/ledger.sqlite "
        "from here up)",
    )
    parser.add_argument("--to", dest="hub", metavar="URL", required=hub_required, help="the hub")
    parser.add_argument(
        "--hub-name",
        default=None,
        help="the name the edge knows the hub by (default: a digest of the hub's URL)",
    )
    parser.add_argument("--tenant", default=None, help="only this tenant (default: all)")
    parser.add_argument("--project", default=None, help="only this project (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _edge_url(args: argparse.Namespace) -> str:
    """--from, else the ledger every command finds (swarm.cli._context): it must exist."""
    here = Path.cwd()
    return ledger_url_for(args.edge, find_root(here) or here.resolve())


def _hub_name(args: argparse.Namespace) -> str:
    if args.hub_name:
        return str(args.hub_name)
    if not args.hub:
        raise sync.InvalidSyncArgument("name the hub with --to URL or --hub-name")
    return sync.hub_name_for(_canonical(args.hub))


def _canonical(url: str) -> str:
    """One spelling per store, so the same hub keeps the same cursor name."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite" and parts.path:
        return f"sqlite://{Path(parts.path).resolve()}"
    return url


def run_ship(args: argparse.Namespace) -> int:
    if not args.hub:
        return fail("swarm sync needs --to HUB_URL (or `swarm sync status`)")
    edge_url = _edge_url(args)
    # Two memory: ledgers are two stores; two URLs of one file or cluster are one.
    if not edge_url.startswith("memory:") and _canonical(edge_url) == _canonical(args.hub):
        return fail("--from and --to name the same ledger")
    quiet = args.quiet or args.json

    def progress(p: sync.Progress) -> None:
        if not quiet:
            print(
                f"  {p.tenant}/{p.project}: {p.handled} shipped, cursor {p.cursor} "
                f"(this run: {p.landed} new, {p.duplicates} already there, "
                f"{p.conflicts} conflicts)",
                file=sys.stderr,
            )

    if not 1 <= args.batch <= ledger.MAX_BATCH:  # before the credential: a usage error
        return fail(f"batch_events must be between 1 and {ledger.MAX_BATCH}, got {args.batch}")
    try:
        name = _hub_name(args)
        with (
            ledger.open_ledger(edge_url, create=False) as edge,
            ledger.open_ledger(args.hub) as hub,
        ):
            shipper = sync.Shipper(
                edge,
                hub,
                hub_name=name,
                grant=hub_grant(hub, _read_token(args)),
                skip_refused=args.skip_refused,
                batch_events=args.batch,
                progress=progress,
            )
            if args.follow:
                return _follow(args, shipper, quiet)
            report = shipper.ship(args.tenant, args.project)
    except (sync.SyncError, ledger.LedgerError) as exc:
        return fail(str(exc))
    _print_report(args, name, report)
    for refusal in report.stopped:
        print(
            f"swarm: refused: {refusal}; the rest of {refusal.tenant}/{refusal.project} waits "
            "behind it: fix the edge, or run again with --skip-refused to record it and go on",
            file=sys.stderr,
        )
    if report.stopped:
        return EXIT_REFUSED
    return EXIT_CONFLICTS if report.conflicts else 0


def _read_token(args: argparse.Namespace) -> str:
    """The sync token from --token-file, else $SWARM_SYNC_TOKEN (never an argument: ps shows
    those)."""
    if args.token_file:
        path = Path(args.token_file)
        try:
            with path.open("rb") as f:
                raw = f.read(_MAX_TOKEN_FILE + 1)
        except OSError as exc:
            raise sync.Unauthorised(
                "", f"cannot read --token-file {path}: {exc.strerror}"
            ) from None
        if len(raw) > _MAX_TOKEN_FILE:
            raise sync.Unauthorised("", f"--token-file {path} is not a token (too large)")
        token = raw.decode("utf-8", "replace").strip()
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise sync.Unauthorised(
            "",
            f"no sync token: pass --token-file FILE or set ${TOKEN_ENV} (make one on the hub "
            "with `swarm admin token create --ledger HUB --tenant T --role sync`)",
        )
    return token


def hub_grant(hub: ledger.Ledger, token: str) -> sync.SyncGrant:
    """The tenants ``token`` may sync into, checked against ``hub``'s token store now and
    before every batch (a revoked or expired token stops the sync)."""
    # The token store belongs to the daemon's layer; load it only for the commands that sync.
    from swarm.daemon._errors import AuthError
    from swarm.daemon._tokens import SYSTEM_TENANT, Role, TokenInfo, TokenStore

    if SYSTEM_TENANT not in hub.tenants():
        raise sync.Unauthorised(
            "",
            "the hub has no token store, so no sync token is valid there (make one with "
            "`swarm admin token create --ledger HUB --tenant T --role sync`)",
        )
    store = TokenStore(hub)

    def check() -> TokenInfo:
        try:
            info = store.check(token)
        except AuthError as exc:
            raise sync.Unauthorised("", str(exc)) from None
        if info.role is not Role.SYNC:
            raise sync.Unauthorised(
                info.tenant,
                f"token {info.token_id} has role {info.role.label}; swarm sync takes a token "
                "of role sync",
            )
        return info

    def recheck() -> None:
        check()

    info = check()
    return sync.SyncGrant(
        frozenset({info.tenant}), f"token {info.token_id} (sync, tenant {info.tenant})", recheck
    )


def _follow(args: argparse.Namespace, shipper: sync.Shipper, quiet: bool) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if not quiet:
        print(f"following: shipping to hub {shipper.hub_name} as events land", file=sys.stderr)

    def unavailable(exc: sync.HubUnavailable) -> None:
        print(f"swarm: hub unreachable, keeping events and retrying: {exc}", file=sys.stderr)

    def on_report(report: sync.SyncReport) -> None:
        if args.json and (report.landed or report.conflicts or report.stopped):
            emit_json(_report_json(shipper.hub_name, report))
            sys.stdout.flush()
        for refusal in report.stopped:
            print(f"swarm: refused: {refusal}", file=sys.stderr)

    shipper.follow(
        args.tenant, args.project, stop=stop, on_report=on_report, on_unavailable=unavailable
    )
    return 0


def _refusal_json(r: sync.Refusal) -> dict[str, Any]:
    return {
        "event_id": r.event_id,
        "versionstamp": str(r.versionstamp),
        "rule": r.rule,
        "skipped": r.skipped,
    }


def _report_json(hub_name: str, report: sync.SyncReport) -> dict[str, Any]:
    return {
        "hub": hub_name,
        "landed": report.landed,
        "duplicates": report.duplicates,
        "not_shipped": [{"tenant": t, "reason": why} for t, why in report.passed_over],
        "projects": [
            {
                "tenant": p.tenant,
                "project": p.project,
                "landed": p.landed,
                "duplicates": p.duplicates,
                "converged": list(p.converged),
                "blobs": p.blobs,
                "batches": p.batches,
                "cursor": str(p.cursor) if p.cursor else None,
                "conflicts": [_conflict_json(c) for c in p.conflicts],
                "refused": [_refusal_json(r) for r in p.refused],
                "stopped": _refusal_json(p.stopped) if p.stopped else None,
            }
            for p in report.projects
        ],
    }


def _conflict_json(c: sync.ConflictRecord) -> dict[str, Any]:
    return {
        "conflict_id": c.conflict_id,
        "kind": c.kind,
        "reason": c.reason,
        "path": c.path,
        "edge_event_id": c.edge_event_id,
        "edge_new_sha256": c.edge_new_sha256,
        "hub_sha256": c.hub_sha256,
        "edge_event_blob": c.edge_event_blob,
    }


def _print_report(args: argparse.Namespace, name: str, report: sync.SyncReport) -> None:
    if args.json:
        emit_json(_report_json(name, report))
        return
    for p in report.projects:
        print(
            f"{p.tenant}/{p.project}: {p.landed} events shipped, "
            f"{p.duplicates} already on the hub, {p.blobs} blobs; cursor {p.cursor or '(start)'}"
        )
        for c in p.conflicts:
            if c.kind == "file":
                print(
                    f"  CONFLICT {c.path}: edge {c.edge_new_sha256[:12] or 'deleted'} vs hub "
                    f"{c.hub_sha256[:12] or 'absent'} ({c.conflict_id}); both kept, "
                    "nothing overwritten"
                )
            else:
                print(f"  CONFLICT event {c.edge_event_id}: {c.reason} ({c.conflict_id})")
        if p.converged:
            print(
                f"  {len(p.converged)} change(s) already on the hub with the same content "
                "(converged, not a conflict)"
            )
        for r in p.refused:
            print(f"  REFUSED {r}")
        if p.stopped is not None:
            print(f"  STOPPED before event {p.stopped.event_id[:128]!r}: {p.stopped.rule}")
    for tenant, why in report.passed_over:
        print(f"{tenant}: not shipped ({why})")
    if not report.projects:
        print("nothing to ship: the edge has no projects")


def run_status(args: argparse.Namespace) -> int:
    try:
        name = _hub_name(args)
        with ledger.open_ledger(_edge_url(args), create=False) as edge:
            hub = ledger.open_ledger(args.hub, create=False) if args.hub else None
            try:
                rows = sync.sync_status(
                    edge, name, tenant=args.tenant, project=args.project, hub=hub
                )
            finally:
                if hub is not None:
                    hub.close()
    except (sync.SyncError, ledger.LedgerError) as exc:
        return fail(str(exc))
    if args.json:
        emit_json(
            {
                "hub": name,
                "projects": [
                    {
                        "tenant": s.tenant,
                        "project": s.project,
                        "shipped_to": str(s.shipped_to) if s.shipped_to else None,
                        "edge_head": str(s.edge_head) if s.edge_head else None,
                        "shipped": s.handled,
                        "pending": s.pending,
                        "lag_us": s.lag_us,
                        "updated_us": s.updated_us,
                        "open_conflicts": [_conflict_json(c) for c in s.open_conflicts],
                    }
                    for s in rows
                ],
            }
        )
        return 0
    print(f"sync to hub {name}")
    for s in rows:
        print(
            f"  {s.tenant}/{s.project}: last shipped {s.shipped_to or '(nothing yet)'}, "
            f"{s.pending} pending, lag {s.lag_us / 1e6:.3f} s, "
            f"{len(s.open_conflicts)} open conflicts"
        )
        for c in s.open_conflicts:
            print(
                f"    CONFLICT {c.conflict_id} ({c.kind}) on {c.path}: edge event "
                f"{c.edge_event_id}{': ' + c.reason if c.reason else ''}"
            )
    return 0


def run_resolve(args: argparse.Namespace) -> int:
    try:
        with open_from_args(args) as led:
            eid = sync.resolve_conflict(
                led,
                args.tenant,
                args.project,
                args.conflict_id,
                resolved_by=args.by,
                note=args.note,
            )
    except (sync.SyncError, ledger.LedgerError) as exc:
        return fail(str(exc))
    if args.json:
        emit_json({"resolved": args.conflict_id, "event_id": eid})
    else:
        print(f"resolved {args.conflict_id} (event {eid})")
    return 0
