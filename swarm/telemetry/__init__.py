"""Traces: each mission, ticket and RPC is an OpenTelemetry span with the ledger's ids.

::

    from swarm import telemetry

    ev.trace_id = telemetry.trace_id(mission_id)          # in the event's envelope
    ev.span_id = telemetry.event_span_id(mission_id, ev.event_id)
    with telemetry.ticket_span(mission_id, "edit-1", 1, kind="coder", agent="coder-1"):
        ...                                               # a span with exactly those ids
    telemetry.configure("http://127.0.0.1:4318")          # export over OTLP/HTTP (the edge)

The ids (``_ids``) are derived from the mission's and tickets' ids, so the
events name their spans in any process; the spans (``_spans``) use the API
only and are no-ops until ``configure`` (``_setup``, the SDK) installs a
provider. ``swarm.telemetry`` imports nothing of ours: missions, the daemon,
the MCP server and the CLI all sit on it.
"""

from __future__ import annotations

from swarm.telemetry._ids import (
    event_span_id,
    mission_span_id,
    ticket_span_id,
    trace_id,
)
from swarm.telemetry._setup import TelemetryError, configure, id_generator, provider
from swarm.telemetry._spans import (
    end_rpc_span,
    link,
    mission_span,
    span,
    start_rpc_span,
    start_span,
    ticket_span,
    use_provider,
)

__all__ = [
    "TelemetryError",
    "configure",
    "end_rpc_span",
    "event_span_id",
    "id_generator",
    "link",
    "mission_span",
    "mission_span_id",
    "provider",
    "span",
    "start_rpc_span",
    "start_span",
    "ticket_span",
    "ticket_span_id",
    "trace_id",
    "use_provider",
]
