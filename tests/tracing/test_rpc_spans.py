"""Each call to the daemon is a server span in the trace the client's x-trace-id names."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import ledger
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from swarm import telemetry
from swarm.daemon import Daemon, DaemonConfig, Role, TokenStore
from tests.tracing.conftest import SAMPLE


def test_an_rpc_is_a_server_span_that_leads_to_its_missions_trace(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    shutil.copytree(SAMPLE, tmp_path / "ws" / "app")
    led = ledger.open_ledger(f"sqlite://{tmp_path / 'ledger.sqlite'}")
    led.create_tenant("acme")
    led.create_project("acme", "app")
    secret, _ = TokenStore(led).create("acme", Role.IDE, "test")
    daemon = Daemon(led, DaemonConfig(listen="127.0.0.1:0", workspaces=tmp_path / "ws"))
    daemon.start()
    trace_hex = secrets.token_hex(16)
    md = [("authorization", f"Bearer {secret}"), ("x-trace-id", trace_hex)]
    project = api.ProjectRef(tenant="acme", project="app")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{daemon.port}") as channel:
            stub = api_grpc.SwarmStub(channel)
            params = {"old": "calculate_total", "new": "compute_order_total"}
            submit = api.SubmitMissionRequest(
                project=project, kind="rename", params=params, workspace="app", skip_tests=True
            )
            mid = stub.SubmitMission(submit, metadata=md, timeout=60).mission_id
            follow = api.FollowMissionRequest(project=project, mission_id=mid)
            for _ in stub.FollowMission(follow, metadata=md, timeout=300):
                pass
            try:
                stub.GetMission(
                    api.GetMissionRequest(project=project, mission_id=mid),
                    metadata=[("authorization", "Bearer swt_wrong_wrong")],
                    timeout=60,
                )
            except grpc.RpcError as exc:
                assert exc.code() is grpc.StatusCode.UNAUTHENTICATED
    finally:
        daemon.stop()
        led.close()
    done = spans.get_finished_spans()
    (submitted,) = [s for s in done if s.name == "swarm.v1.Swarm/SubmitMission"]
    assert f"{submitted.context.trace_id:032x}" == trace_hex  # the client's trace
    assert submitted.kind is SpanKind.SERVER
    attrs = submitted.attributes or {}
    assert attrs["rpc.grpc.status_code"] == "OK" and attrs["swarm.tenant"] == "acme"
    assert attrs["swarm.mission_id"] == mid
    assert attrs["swarm.mission_trace_id"] == telemetry.trace_id(mid)
    (followed,) = [s for s in done if s.name == "swarm.v1.Swarm/FollowMission"]
    assert followed.context.trace_id == submitted.context.trace_id
    # ... and the mission's trace, which that attribute names, is there: its root span.
    (mission,) = [s for s in done if s.name == "mission"]
    assert f"{mission.context.trace_id:032x}" == telemetry.trace_id(mid)
    (refused,) = [s for s in done if s.name == "swarm.v1.Swarm/GetMission"]
    assert (refused.attributes or {})["rpc.grpc.status_code"] == "UNAUTHENTICATED"
    assert refused.status.status_code is StatusCode.ERROR
    assert refused.context.trace_id != submitted.context.trace_id  # no x-trace-id: a new one
