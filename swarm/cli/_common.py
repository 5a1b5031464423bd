"""Options and output shared by the sub-commands: the ledger URL, tenant, project, --json."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import ledger

LEDGER_ENV = "SWARM_LEDGER"
DEFAULT_LEDGER_FILE = Path(".swarm") / "ledger.sqlite"


def add_ledger_options(parser: argparse.ArgumentParser, *, project: bool = True) -> None:
    """--ledger, --tenant, --project and --json, with their defaults named in --help."""
    parser.add_argument(
        "--ledger",
        metavar="URL",
        default=None,
        help=f"ledger URL: memory:, sqlite:///path, fdb:///cluster-file "
        f"(default: ${LEDGER_ENV} or sqlite:///./{DEFAULT_LEDGER_FILE})",
    )
    parser.add_argument("--tenant", default="demo", help="tenant id (default: demo)")
    if project:
        parser.add_argument("--project", default="hello", help="project id (default: hello)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def ledger_url(args: argparse.Namespace) -> str:
    """The ledger URL from --ledger, then $SWARM_LEDGER, then ./.swarm/ledger.sqlite."""
    url: str | None = args.ledger or os.environ.get(LEDGER_ENV)
    if url:
        return url
    DEFAULT_LEDGER_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite://{DEFAULT_LEDGER_FILE.resolve()}"  # resolve() is absolute: three slashes


def open_from_args(args: argparse.Namespace) -> ledger.Ledger:
    return ledger.open_ledger(ledger_url(args))


def emit_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def fail(message: str, code: int = 2) -> int:
    """Print an error a person can act on and return the exit code."""
    print(f"swarm: error: {message}", file=sys.stderr)
    return code
