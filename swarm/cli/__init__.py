"""The ``swarm`` command line: one sub-command module per capability.

Each ``_<name>.py`` module exposes ``register(subparsers)``, which adds its
sub-command and sets ``handler`` on the parsed namespace. Handlers return the
process exit code. Configuration is read here, at the edge, and passed inward
as explicit arguments: where a command works (ledger, tenant, project,
repository) is resolved once by ``swarm.cli._context`` before it runs, and
under ``--json`` every error is one JSON object on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import ledger
from swarm.cli import _context
from swarm.cli._common import errors_as_json, fail
from swarm.cli._tracing import tracing_from

# Sub-command modules, in the order `swarm --help` lists them.
_COMMANDS = (
    "demo",
    "sandbox",
    "sync",
    "serve",
    "admin",
    "replay",
    "audit",
    "mission",
    "mcp",
    "memory",
    "completion",
)
DISTRIBUTION = "swarm-ledger"


def version() -> str:
    """The installed distribution's version, or a note that it is not installed."""
    import importlib.metadata  # here: ~30 ms that only --version needs

    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


class _Version(argparse.Action):
    """``--version``: looks the version up only when asked (every other command skips it)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        print(f"swarm {version()}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors go through ``fail`` (JSON under --json)."""

    def error(self, message: str) -> NoReturn:
        from swarm.cli._common import _Errors

        if not _Errors.as_json:
            super().error(message)
        fail(f"{self.prog}: {message}", kind="usage")
        sys.exit(2)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered, or with only the one named
    ``only`` (so ``swarm mission ...`` does not import the daemon, gRPC or the sandbox)."""
    parser = _Parser(
        prog="swarm",
        description="An event-sourced coding swarm on a FoundationDB-shaped ledger.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMANDS if only not in _COMMANDS else (only,):
        module = importlib.import_module(f"swarm.cli._{name}")
        module.register(sub)
    return parser


def _show_sandbox_notices() -> None:
    """Let the sandbox's one-off compile notice (a 10-40 s wait) reach stderr, whatever the command.

    ``swarm serve`` replaces this handler with one that writes structured logs.
    """
    logger = logging.getLogger("sandbox")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr())
        logger.setLevel(logging.INFO)


class _Stderr(logging.Handler):
    """Writes a record's message to whatever ``sys.stderr`` is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        print(record.getMessage(), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (``sys.exit`` is the caller's).

    A ledger error that a command did not handle itself (a damaged record met
    halfway through a listing, say) is printed as ``swarm: error: ...`` naming
    the record, with exit code 2, never as a traceback.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    # Usage errors come before the options are parsed: --json anywhere asks for JSON.
    errors_as_json("--json" in words)
    try:
        # The first word names the command (no global options come before it): only that
        # module is imported, which is most of a short command's start-up. Anything else
        # (`swarm`, `swarm --help`, a typo) gets the full parser and its full message.
        parser = build_parser(words[0] if words else None)
        args = parser.parse_args(words)
        errors_as_json(bool(getattr(args, "json", False)))
        _show_sandbox_notices()
        _context.apply(args)
        with tracing_from(args):  # exports spans only when an endpoint is configured
            code: int = args.handler(args)
    except BrokenPipeError:  # `swarm ... | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _context.ContextError as exc:
        return fail(str(exc), kind="context")
    except ledger.NoLedger as exc:
        return fail(str(exc), kind="no_ledger")
    except ledger.LedgerError as exc:
        return fail(str(exc), kind="ledger")
    finally:
        errors_as_json(False)  # main may run again in this process (the tests do)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
