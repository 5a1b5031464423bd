"""Output shared by the sub-commands: --json printing and errors.

Where a command works (ledger, tenant, project, repository) is
``swarm.cli._context``; ``open_from_args`` opens the ledger it resolved.
Errors go through ``fail``: ``swarm: error: MESSAGE`` on stderr, or, once
``main`` has seen ``--json``, one JSON object ``{"error": ..., "code": ...}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import ledger
from swarm.client._points import event_versionstamp

__all__ = ["emit_json", "errors_as_json", "event_versionstamp", "fail", "open_from_args"]


class _Errors:
    """How errors are printed, chosen once by ``main`` (``--json`` or not)."""

    as_json = False


def errors_as_json(on: bool) -> None:
    """Print every later error as JSON on stderr (``main`` calls this for ``--json``)."""
    _Errors.as_json = on


def open_from_args(args: argparse.Namespace) -> ledger.Ledger:
    """The ledger of the command's resolved context (``swarm.cli._context.apply``)."""
    led: ledger.Ledger = args.context.open()
    return led


def emit_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def fail(message: str, code: int = 2, *, kind: str = "error") -> int:
    """Print an error a person (or, under --json, a script) can act on; return the exit code.

    ``kind`` is the JSON form's ``code``: a stable name a script can branch on
    (``usage``, ``no_ledger``, ``error``...); ``exit`` carries the exit code.
    """
    if _Errors.as_json:
        text = json.dumps({"error": message, "code": kind, "exit": code}, sort_keys=True)
        print(text, file=sys.stderr)
    else:
        print(f"swarm: error: {message}", file=sys.stderr)
    return code
