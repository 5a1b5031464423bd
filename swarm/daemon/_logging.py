"""Structured JSON logs on stderr: one object a line, with tenant, project, mission, trace ids.

Every value a line carries is clipped (``clip``): a request field of megabytes
echoed into an error must not become a log line of megabytes.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

ECHO_CHARS = 200  # how much of one echoed value is kept
MESSAGE_CHARS = 1000  # longest error message sent to a client or logged
LOG_VALUE_CHARS = 2000  # longest value of a log line other than a traceback
TRACEBACK_CHARS = 16_000

# A quoted value (as !r renders it) or an unbroken run: what an echoed field looks like.
_N = ECHO_CHARS + 1
_LONG_RUN = re.compile(rf"'[^']{{{_N},}}'|\"[^\"]{{{_N},}}\"|\S{{{_N},}}")


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` if short, else its first ``limit`` characters and ``…(N bytes)``."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text.encode('utf-8', 'replace'))} bytes)"


def clip_message(message: str) -> str:
    """An error message safe to send and log: each long echoed value clipped, then the whole."""
    if len(message) <= ECHO_CHARS:
        return message
    total = len(message.encode("utf-8", "replace"))
    # Bounded before the pattern runs, so a 16 MB message costs no more than a 64 KB one.
    message = _LONG_RUN.sub(lambda m: clip(m.group(0)), message[:65536])
    if len(message) <= MESSAGE_CHARS:
        return message
    return f"{message[:MESSAGE_CHARS]}…({total} bytes)"


def _clip_values(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = clip(value, TRACEBACK_CHARS if key == "exception" else LOG_VALUE_CHARS)
        elif isinstance(value, bytes | bytearray):
            event[key] = clip(repr(value), LOG_VALUE_CHARS)
    return event


def configure_logging(level: str = "info") -> None:
    """Route structlog to stderr as JSON lines; called once at daemon start."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _clip_values,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # The sandbox (which imports nothing of ours) logs its compile notice on the
    # stdlib "sandbox" logger; carry it into the same JSON lines.
    bridge = logging.getLogger("sandbox")
    bridge.handlers = [_ToStructlog()]
    bridge.setLevel(logging.INFO)
    bridge.propagate = False


class _ToStructlog(logging.Handler):
    """Re-emits stdlib log records as structlog events (logger name kept)."""

    def emit(self, record: logging.LogRecord) -> None:
        structlog.get_logger(record.name).log(record.levelno, record.getMessage())


def get_logger(**bound: Any) -> Any:
    """A logger with ``bound`` facts on every line."""
    return structlog.get_logger("swarm.daemon").bind(**bound)
