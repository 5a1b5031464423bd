"""Structured JSON logs on stderr: one object a line, with tenant, project, mission, trace ids.

Facts are bound per call (``swarm.daemon._interceptors.Telemetry`` and
``Call.note``) and per mission thread in structlog's context variables, and
every line, structlog's or stdlib ``logging``'s, merges them in.

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
    """JSON lines on stderr for structlog and stdlib ``logging`` alike; called once at start.

    Both go through one stdlib handler whose formatter runs structlog's
    processors, so a warning the orchestrator (or the sandbox, which imports
    nothing of ours) logs with ``logging`` comes out as the same JSON line,
    with the facts bound for the call or mission it runs in (tenant, project,
    mission id, trace id) merged in from the context.
    """
    threshold = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _clip_values,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(threshold)


def get_logger(**bound: Any) -> Any:
    """A logger with ``bound`` facts on every line."""
    return structlog.get_logger("swarm.daemon").bind(**bound)
