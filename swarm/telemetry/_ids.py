"""The trace and span ids of a mission, derived from its ids: the same in every process.

A mission's events carry ``trace_id`` and ``span_id`` in their envelope, and
its spans carry the same ids, so a trace in an OTLP backend leads to the
ledger's events and back. The ids are derived, not drawn: a mission resumed
in another process (or a step re-run after a crash, whose event id is the
same) gets the same ids, and an event can name its span before the span is
made. The trace id is 16 bytes of ``sha256("swarm.trace", mission)``; the
mission's span 8 bytes of ``sha256("swarm.span", mission)``; a ticket
attempt's span 8 bytes of ``sha256("swarm.span", mission, ticket, attempt)``.
Both are written as lower-case hex, as OpenTelemetry prints them.
"""

from __future__ import annotations

import hashlib
import re

# A ticket step's event id: {mission}.{ticket}.a{attempt}.{step} (swarm.missions._events).
_TICKET_STEP = re.compile(r"(?P<ticket>[^.]+)\.a(?P<attempt>[0-9]+)\.")


def _digest(*parts: str) -> bytes:
    data = hashlib.sha256("\0".join(parts).encode()).digest()
    return data if any(data[:16]) else b"\x01" + data[1:]  # an all-zero id is invalid


def trace_id(mission_id: str) -> str:
    """The trace id (32 hex digits) of every span and event of ``mission_id``."""
    return _digest("swarm.trace", mission_id)[:16].hex()


def mission_span_id(mission_id: str) -> str:
    """The span id (16 hex digits) of the mission's own span, the root of its trace."""
    return _digest("swarm.span", mission_id)[:8].hex()


def ticket_span_id(mission_id: str, ticket_id: str, attempt: int) -> str:
    """The span id of one attempt of one ticket (a child of the mission's span)."""
    return _digest("swarm.span", mission_id, ticket_id, str(attempt))[:8].hex()


def event_span_id(mission_id: str, event_id: str) -> str:
    """The span an event of ``mission_id`` belongs to, from its event id.

    A ticket step's event (``{mission}.{ticket}.a{attempt}.{step}``) belongs to
    that attempt's span; every other event of the mission (start, import,
    runs, end) to the mission's span.
    """
    prefix = f"{mission_id}."
    if event_id.startswith(prefix):
        step = _TICKET_STEP.match(event_id, len(prefix))
        if step is not None and step["ticket"] not in ("import", "run", "stopping"):
            return ticket_span_id(mission_id, step["ticket"], int(step["attempt"]))
    return mission_span_id(mission_id)


def as_int(hex_id: str) -> int:
    """An id as OpenTelemetry's API holds it (an int)."""
    return int(hex_id, 16)
