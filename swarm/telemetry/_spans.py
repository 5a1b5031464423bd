"""Spans of missions, tickets and RPCs, made through the OpenTelemetry API only.

Without an SDK the API's spans record nothing and cost little; with one (see
``configure``) they are exported. A span is made with the ids of
``swarm.telemetry._ids`` through ``SwarmIdGenerator``: the id a span must have
is put in a context variable that the generator reads, so the SDK's own
``start_span`` makes it, with its sampling, processors and exporters intact.
A provider without that generator still gives a ticket span the mission's
trace id (through its parent), but ids of its own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, Sequence

from opentelemetry import context as otel_context
from opentelemetry import trace

from swarm.telemetry import _ids

TRACER = "swarm"
#: (trace id, span id) the next span made must have: read by SwarmIdGenerator.
WANTED: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "swarm_wanted_span_ids", default=None
)
Attributes = Mapping[str, str | int | float | bool]


def _context_of(trace_hex: str, parent_hex: str | None) -> otel_context.Context:
    """A context whose current span is the (remote-made) parent, or an empty one for a root."""
    if parent_hex is None:
        return otel_context.Context()
    parent = trace.SpanContext(
        trace_id=_ids.as_int(trace_hex),
        span_id=_ids.as_int(parent_hex),
        is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(parent))


def link(trace_hex: str, span_hex: str) -> trace.Link:
    """A link to the span ``span_hex`` of trace ``trace_hex``."""
    ctx = trace.SpanContext(
        trace_id=_ids.as_int(trace_hex),
        span_id=_ids.as_int(span_hex),
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.Link(ctx)


@contextlib.contextmanager
def span(
    name: str,
    *,
    trace_hex: str,
    span_hex: str,
    parent_hex: str | None = None,
    attributes: Attributes | None = None,
    links: Sequence[trace.Link] = (),
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
) -> Iterator[trace.Span]:
    """A span with these ids (a root when ``parent_hex`` is None), current while it runs."""
    wanted = WANTED.set((_ids.as_int(trace_hex), _ids.as_int(span_hex)))
    try:
        made = trace.get_tracer(TRACER).start_span(
            name,
            context=_context_of(trace_hex, parent_hex),
            kind=kind,
            attributes=dict(attributes or {}),
            links=list(links),
        )
    finally:
        WANTED.reset(wanted)
    with trace.use_span(
        made, end_on_exit=True, record_exception=True, set_status_on_exception=True
    ):
        yield made


def mission_span(
    mission_id: str, *, tenant: str, project: str, run: int
) -> contextlib.AbstractContextManager[trace.Span]:
    """The span of one run of a mission: the root of the mission's trace."""
    return span(
        "mission",
        trace_hex=_ids.trace_id(mission_id),
        span_hex=_ids.mission_span_id(mission_id),
        attributes={
            "swarm.tenant": tenant,
            "swarm.project": project,
            "swarm.mission_id": mission_id,
            "swarm.run": run,
        },
    )


def ticket_span(
    mission_id: str,
    ticket_id: str,
    attempt: int,
    *,
    kind: str,
    agent: str,
    depends_on: Mapping[str, int] | None = None,
) -> contextlib.AbstractContextManager[trace.Span]:
    """The span of one attempt at a ticket, a child of its mission's span, linked to the
    spans of the tickets it depends on (``depends_on``: ticket id → the attempt that ended)."""
    trace_hex = _ids.trace_id(mission_id)
    links = [
        link(trace_hex, _ids.ticket_span_id(mission_id, dep, n))
        for dep, n in sorted((depends_on or {}).items())
    ]
    return span(
        f"ticket {kind}",
        trace_hex=trace_hex,
        span_hex=_ids.ticket_span_id(mission_id, ticket_id, attempt),
        parent_hex=_ids.mission_span_id(mission_id),
        attributes={
            "swarm.mission_id": mission_id,
            "swarm.ticket_id": ticket_id,
            "swarm.ticket_kind": kind,
            "swarm.attempt": attempt,
            "swarm.agent": agent,
        },
        links=links,
    )


def rpc_span(
    method: str, trace_header: str, attributes: Attributes | None = None
) -> contextlib.AbstractContextManager[trace.Span]:
    """The server span of one RPC, in the trace its ``x-trace-id`` names when that is a
    W3C trace id (32 hex digits: the CLI sends one per command), else in a new trace."""
    import secrets

    trace_hex = trace_header.lower() if _is_trace_id(trace_header) else secrets.token_hex(16)
    return span(
        f"swarm.v1.Swarm/{method}",
        trace_hex=trace_hex,
        span_hex=secrets.token_hex(8),
        attributes={"rpc.system": "grpc", "rpc.method": method, **(attributes or {})},
        kind=trace.SpanKind.SERVER,
    )


def _is_trace_id(text: str) -> bool:
    return (
        len(text) == 32
        and all(c in "0123456789abcdefABCDEF" for c in text)
        and any(c != "0" for c in text)
    )
