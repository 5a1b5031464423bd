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

_HEX = frozenset("0123456789abcdef")


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


def event_versionstamp(text: str) -> str | None:
    """The 24-hex-digit versionstamp ``text`` names, or None when it is not one.

    Swarm prints 24 digits (10 of the commit, 2 bytes of order within it); 20
    digits (a commit's versionstamp alone, as older releases' ``mission show``
    printed) name that commit's first event.
    """
    cleaned = text.strip().lower()
    if not cleaned or not set(cleaned) <= _HEX:
        return None
    if len(cleaned) == 24:
        return cleaned
    if len(cleaned) == 20:
        return cleaned + "0000"
    return None
