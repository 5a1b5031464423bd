"""The SDK's in-memory exporter behind swarm's spans, for one test at a time."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from swarm import telemetry

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span swarm makes while the test runs, finished ones first to last."""
    exporter = InMemorySpanExporter()
    provider = telemetry.provider(SimpleSpanProcessor(exporter))
    telemetry.use_provider(provider)
    try:
        yield exporter
    finally:
        telemetry.use_provider(None)
        provider.shutdown()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    repo = tmp_path / "shop"
    shutil.copytree(SAMPLE, repo)
    return repo
