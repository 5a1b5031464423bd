"""Trace export chosen once at the edge: ``--otlp-endpoint``, else $OTEL_EXPORTER_OTLP_ENDPOINT.

``main`` runs every command inside ``tracing_from(args)``; a bad setting is a
``ContextError`` (``swarm: error: ...``, exit 2) before the command runs.

With neither, nothing is installed: spans stay the API's no-ops and nothing
leaves the process. With one, an OTLP/HTTP exporter is installed for the
command's life and flushed when it ends.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator

from swarm.cli._context import ContextError

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"


@contextlib.contextmanager
def tracing_from(args: argparse.Namespace) -> Iterator[None]:
    """Export traces while the body runs, if an endpoint is configured."""
    endpoint = getattr(args, "otlp_endpoint", None) or os.environ.get(ENDPOINT_ENV)
    if not endpoint:
        yield
        return
    if not endpoint.startswith(("http://", "https://")):
        raise ContextError(f"--otlp-endpoint {endpoint!r}: an OTLP/HTTP endpoint is a URL")
    from swarm.telemetry import TelemetryError, configure

    try:
        provider = configure(endpoint)
    except TelemetryError as exc:
        raise ContextError(str(exc)) from None
    try:
        yield
    finally:
        provider.shutdown()
