"""``swarm demo``: a guided tour of the ledger on the embedded engine."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("demo", help="tour the ledger on sqlite")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    raise NotImplementedError("swarm demo lands with the ledger")
