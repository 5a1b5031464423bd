"""Structured JSON logs on stderr: one object a line, with tenant, project, mission, trace ids."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def configure_logging(level: str = "info") -> None:
    """Route structlog to stderr as JSON lines; called once at daemon start."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
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
