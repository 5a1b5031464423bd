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
import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from swarm.telemetry import _ids

if TYPE_CHECKING:  # the API loads at the first span (~15 ms a mission command need not pay)
    from opentelemetry import context as otel_context
    from opentelemetry import trace

TRACER = "swarm"
#: (trace id, span id) the next span made must have: read by SwarmIdGenerator.
WANTED: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "swarm_wanted_span_ids", default=None
)
Attributes = Mapping[str, str | int | float | bool]
#: The provider spans are made with; None: the API's global one (``use_provider``).
_PROVIDER: list[trace.TracerProvider | None] = [None]


def use_provider(provider: trace.TracerProvider | None) -> None:
    """Make swarm's spans with ``provider`` (None: the global one again): a test's
    in-memory exporter, without replacing the process's global provider, which the API
    lets be set only once."""
    _PROVIDER[0] = provider


def tracer() -> trace.Tracer:
    from opentelemetry import trace

    provider = _PROVIDER[0] or trace.get_tracer_provider()
    return provider.get_tracer(TRACER)


def _context_of(trace_hex: str, parent_hex: str | None) -> otel_context.Context:
    """A context whose current span is the (remote-made) parent, or an empty one for a root."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace

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
    from opentelemetry import trace

    ctx = trace.SpanContext(
        trace_id=_ids.as_int(trace_hex),
        span_id=_ids.as_int(span_hex),
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    return trace.Link(ctx)


def start_span(
    name: str,
    *,
    trace_hex: str,
    span_hex: str,
    parent_hex: str | None = None,
    attributes: Attributes | None = None,
    links: Sequence[trace.Link] = (),
    kind: trace.SpanKind | None = None,
) -> trace.Span:
    """A started span with these ids (a root when ``parent_hex`` is None); the caller ends it."""
    from opentelemetry import trace

    wanted = WANTED.set((_ids.as_int(trace_hex), _ids.as_int(span_hex)))
    try:
        return tracer().start_span(
            name,
            context=_context_of(trace_hex, parent_hex),
            kind=kind if kind is not None else trace.SpanKind.INTERNAL,
            attributes=dict(attributes or {}),
            links=list(links),
        )
    finally:
        WANTED.reset(wanted)


@contextlib.contextmanager
def span(
    name: str,
    *,
    trace_hex: str,
    span_hex: str,
    parent_hex: str | None = None,
    attributes: Attributes | None = None,
    links: Sequence[trace.Link] = (),
) -> Iterator[trace.Span]:
    """``start_span``'s span, current while the body runs and ended after it."""
    from opentelemetry import trace

    made = start_span(
        name,
        trace_hex=trace_hex,
        span_hex=span_hex,
        parent_hex=parent_hex,
        attributes=attributes,
        links=links,
    )
    with trace.use_span(made, end_on_exit=True, record_exception=True):
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


def start_rpc_span(method: str, trace_header: str) -> trace.Span:
    """The server span of one RPC (ended by ``end_rpc_span``), in the trace its
    ``x-trace-id`` names when that is a W3C trace id (32 hex digits: the CLI sends one per
    command, so one command's calls are one trace), else in a new trace. It is not made
    current: a stream's generator may be closed from another task than the one it began in."""
    from opentelemetry import trace

    trace_hex = trace_header.lower() if _is_trace_id(trace_header) else secrets.token_hex(16)
    return start_span(
        f"swarm.v1.Swarm/{method}",
        trace_hex=trace_hex,
        span_hex=secrets.token_hex(8),
        attributes={"rpc.system": "grpc", "rpc.service": "swarm.v1.Swarm", "rpc.method": method},
        kind=trace.SpanKind.SERVER,
    )


def end_rpc_span(made: trace.Span, code: str, facts: Mapping[str, str], error: str = "") -> None:
    """End an RPC's span with its status and the call's facts (tenant, project, mission):
    a mission's id also names its trace (``swarm.mission_trace_id``), the way to its spans."""
    from opentelemetry import trace

    made.set_attribute("rpc.grpc.status_code", code)
    for key, value in facts.items():
        if key != "trace_id":
            made.set_attribute(f"swarm.{key}", value)
    mission = facts.get("mission_id")
    if mission:
        made.set_attribute("swarm.mission_trace_id", _ids.trace_id(mission))
    if code != "OK":
        made.set_status(trace.Status(trace.StatusCode.ERROR, error[:500] or code))
    made.end()


def _is_trace_id(text: str) -> bool:
    return (
        len(text) == 32
        and all(c in "0123456789abcdefABCDEF" for c in text)
        and any(c != "0" for c in text)
    )
