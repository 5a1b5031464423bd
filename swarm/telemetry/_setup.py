"""Turning export on: an SDK tracer provider whose ids are the ledger's, and its exporter.

``configure(endpoint)`` is called once, at the edge (``swarm serve``, ``swarm
mcp``, any command when ``$OTEL_EXPORTER_OTLP_ENDPOINT`` is set): it installs
an SDK ``TracerProvider`` with ``SwarmIdGenerator`` and a batch exporter over
OTLP/HTTP. With no endpoint nothing is installed and the API's spans stay
no-ops. The SDK and the exporter are imported here only (the ``otlp``
extra), so the core needs the API alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from swarm.telemetry._spans import WANTED

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

SERVICE_NAME = "swarm"


class TelemetryError(Exception):
    """Export was asked for and cannot be set up (the SDK or exporter is not installed)."""


def id_generator() -> object:
    """An SDK ``IdGenerator`` that gives a span the ids ``WANTED`` holds, else random ones."""
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class SwarmIdGenerator(RandomIdGenerator):
        """The ids of ``swarm.telemetry._ids`` for the spans made through ``span``."""

        def generate_trace_id(self) -> int:
            wanted = WANTED.get()
            return wanted[0] if wanted else super().generate_trace_id()

        def generate_span_id(self) -> int:
            wanted = WANTED.get()
            return wanted[1] if wanted else super().generate_span_id()

        def is_trace_id_random(self) -> bool:
            return WANTED.get() is None

    return SwarmIdGenerator()


def provider(*processors: SpanProcessor, service: str = SERVICE_NAME) -> TracerProvider:
    """An SDK provider with swarm's ids and these processors (not installed globally)."""
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        raise TelemetryError(
            "exporting traces needs the OpenTelemetry SDK: pip install 'swarm-ledger[otlp]'"
        ) from None
    made = TracerProvider(
        resource=Resource.create({"service.name": service}),
        id_generator=id_generator(),  # type: ignore[arg-type]
    )
    for p in processors:
        made.add_span_processor(p)
    return made


def configure(endpoint: str, *, service: str = SERVICE_NAME) -> TracerProvider:
    """Install a provider exporting to the OTLP/HTTP collector at ``endpoint`` (a base URL:
    spans go to ``<endpoint>/v1/traces``). The caller shuts it down at exit (flushes it)."""
    from opentelemetry import trace

    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise TelemetryError(
            "exporting traces needs the OTLP exporter: pip install 'swarm-ledger[otlp]'"
        ) from None
    url = endpoint.rstrip("/")
    exporter = OTLPSpanExporter(endpoint=url if url.endswith("/v1/traces") else f"{url}/v1/traces")
    made = provider(BatchSpanProcessor(exporter), service=service)
    trace.set_tracer_provider(made)
    return made
