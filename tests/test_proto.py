"""The checked-in generated code is what the pinned generator produces now."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools (dev extra) regenerates the code")
    from proto.generate import generate, proto_sources

    generate(tmp_path)
    for source in proto_sources():
        stem = source.with_suffix("")
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            fresh = tmp_path / f"{stem}{suffix}"
            checked_in = ROOT / f"{stem}{suffix}"
            assert checked_in.exists(), f"{checked_in} is missing: run python -m proto.generate"
            assert checked_in.read_text() == fresh.read_text(), (
                f"{checked_in.relative_to(ROOT)} is stale: run python -m proto.generate"
            )


def test_events_import_without_protoc() -> None:
    from proto.swarm.v1 import events_pb2

    ev = events_pb2.SwarmEvent(event_id="e", decision=events_pb2.Decision(rationale="why"))
    assert events_pb2.SwarmEvent.FromString(ev.SerializeToString()) == ev
