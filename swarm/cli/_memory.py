"""``swarm memory``: search what the swarm remembers (code by meaning, past missions' lessons).

``swarm memory search QUERY`` answers from this ledger's memory (first indexing
whatever the log holds beyond it) or, with --server, from a daemon's
(``swarm serve --memory``). ``swarm memory index`` brings the memory up to the
ledger's head and, with --follow, keeps it there as appends land (Ctrl-C
stops). ``swarm memory forget`` deletes a project's (or the tenant's) points.
The memory lives in ``<ledger folder>/memory`` (Qdrant local mode), or at
--memory-url (a folder, or a Qdrant server's http(s) URL). It needs the
optional ``memory`` extra: pip install 'swarm-ledger[memory]'.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from swarm.cli._client import run_client
from swarm.cli._common import emit_json, fail, open_from_args
from swarm.cli._context import add_context_options
from swarm.cli._remote import add_server_options
from swarm.client import Client

MEMORY_URL_ENV = "SWARM_MEMORY_URL"
_TEXT_LINES = 3


def add_memory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--memory-url",
        metavar="URL",
        help=f"memory's folder or Qdrant server URL (default: ${MEMORY_URL_ENV}, else "
        "the memory folder beside a sqlite ledger)",
    )


def memory_location(args: argparse.Namespace) -> str:
    """The memory of the command's context: --memory-url, $SWARM_MEMORY_URL, or the folder
    beside its sqlite ledger; BadMemoryLocation for other ledgers with none named."""
    import os

    from swarm.memory import BadMemoryLocation, default_location

    given = getattr(args, "memory_url", None) or os.environ.get(MEMORY_URL_ENV)
    if given:
        return str(given)
    found = default_location(args.context.ledger_url)
    if found is None:
        raise BadMemoryLocation(args.context.ledger_url, "no default memory here: --memory-url")
    return found


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "memory",
        help="semantic memory: search code by meaning and what past missions tried",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    msub = parser.add_subparsers(dest="memory_command", metavar="ACTION")
    msub.required = True
    search = msub.add_parser("search", help="code chunks and lessons best matching a query")
    search.add_argument("query", metavar="QUERY", help="what to look for, in words")
    search.add_argument(
        "--kind", choices=("code", "lesson"), default=None, help="only this kind (default: both)"
    )
    search.add_argument("--limit", type=int, default=5, help="how many hits (1-100, default 5)")
    add_context_options(search, read_only=True)
    search.add_argument(
        "--all-projects", action="store_true", help="search every project of the tenant"
    )
    add_memory_option(search)
    add_server_options(search)
    search.set_defaults(handler=run_search)

    index = msub.add_parser("index", help="index the ledger into memory (up to its head)")
    index.add_argument("--follow", action="store_true", help="keep indexing as appends land")
    add_context_options(index, read_only=True, project=False)
    add_memory_option(index)
    index.set_defaults(handler=run_index)

    forget = msub.add_parser("forget", help="delete a project's points (or the whole tenant's)")
    add_context_options(forget, read_only=True)
    forget.add_argument("--tenant-wide", action="store_true", help="every project of the tenant")
    add_memory_option(forget)
    forget.set_defaults(handler=run_forget)


def run_search(args: argparse.Namespace) -> int:
    project = None if args.all_projects else (args.project or None)

    def body(client: Client) -> int:
        hits = client.search_memory(args.query, project=project, kind=args.kind, limit=args.limit)
        if args.json:
            emit_json({"query": args.query, "hits": [h.to_json() for h in hits]})
            return 0
        if not hits:
            print(f"no memory matches {args.query!r} (from {client.where})")
        for rank, hit in enumerate(hits, 1):
            print(f"{rank}. [{hit.kind}] {hit.title}  (score {hit.score:.3f}, {hit.project})")
            for line in hit.text.strip().splitlines()[:_TEXT_LINES]:
                print(f"     {line[:110]}")
        return 0

    return run_client(args, body, local_only=("ledger", "memory_url"))


def _open(args: argparse.Namespace) -> Any:
    from swarm.memory import Memory

    return Memory(open_from_args(args), memory_location(args))


def run_index(args: argparse.Namespace) -> int:
    from swarm.memory import IndexStats, MemoryFailure

    def progress(tenant: str, project: str, s: IndexStats) -> None:
        print(f"{project}: {s.events} events, {s.code_points} code points", file=sys.stderr)

    try:
        mem = _open(args)
    except MemoryFailure as exc:
        return fail(str(exc))
    try:
        stats = mem.index(args.tenant, progress=progress)
        _print_stats(args, stats)
        if args.follow:
            stop = threading.Event()
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            print("following the ledger (Ctrl-C stops)", file=sys.stderr, flush=True)
            mem.indexer.follow(stop)
    except MemoryFailure as exc:
        return fail(str(exc))
    finally:
        mem.close()
        mem.led.close()
    return 0


def _print_stats(args: argparse.Namespace, s: Any) -> None:
    if args.json:
        emit_json(
            {
                "events": s.events,
                "files": s.files,
                "code_points": s.code_points,
                "removed": s.removed,
                "lessons": s.lessons,
            }
        )
    else:
        print(
            f"indexed {s.events} events: {s.files} files, {s.code_points} code points "
            f"written, {s.removed} removed, {s.lessons} lessons",
            flush=True,
        )


def run_forget(args: argparse.Namespace) -> int:
    from swarm.memory import MemoryFailure

    try:
        mem = _open(args)
    except MemoryFailure as exc:
        return fail(str(exc))
    try:
        project = None if args.tenant_wide else args.project
        removed = mem.forget(args.tenant, project)
    finally:
        mem.close()
        mem.led.close()
    where = f"tenant {args.tenant}" if project is None else f"project {project}"
    if args.json:
        emit_json({"removed": removed, "tenant": args.tenant, "project": project})
    else:
        print(f"forgot {removed} points of {where}")
    return 0
