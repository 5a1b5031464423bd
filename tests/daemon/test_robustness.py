"""Bad input and rough clients: oversized and malformed messages, dropped streams, health, reflection, metrics, logs."""

from __future__ import annotations

import time
import urllib.request
import uuid
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from proto.swarm.v1 import service_pb2 as api
from tests._grpc import health_stub, reflection_stub
from tests.daemon.conftest import PROJECT, TENANT_A, World, ref


def metric(world: World, name: str) -> float:
    body = (
        urllib.request.urlopen(f"http://127.0.0.1:{world.daemon.metrics_port}/metrics", timeout=10)
        .read()
        .decode()
    )
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


def test_an_oversized_message_is_refused_and_the_daemon_keeps_serving(
    world: World, stub: Any
) -> None:
    big = api.CreateTokenRequest(role=api.TOKEN_ROLE_OPS, label="x" * (17 * 1024 * 1024))
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateToken(big, metadata=world.md("a-admin"), timeout=20)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    too_long = api.CreateTokenRequest(role=api.TOKEN_ROLE_OPS, label="x" * 1000)
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateToken(too_long, metadata=world.md("a-admin"), timeout=20)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert stub.ListProjects(
        api.ListProjectsRequest(), metadata=world.md("a-ops"), timeout=10
    ).projects


def test_malformed_bytes_are_refused_and_the_daemon_keeps_serving(world: World, stub: Any) -> None:
    with grpc.insecure_channel(world.daemon.target) as channel:
        raw: Any = channel.unary_unary(
            "/swarm.v1.Swarm/ListProjects", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as err:
            raw(b"\xff\xff\xff\xff garbage", metadata=world.md("a-ops"), timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # parsed at the edge
        unknown: Any = channel.unary_unary(
            "/swarm.v1.Swarm/NoSuchMethod", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as err:
            unknown(b"", metadata=world.md("a-ops"), timeout=10)
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert stub.ListProjects(
        api.ListProjectsRequest(), metadata=world.md("a-ops"), timeout=10
    ).projects


def test_a_thousand_streams_opened_and_dropped_leak_nothing(world: World, stub: Any) -> None:
    p = f"p{uuid.uuid4().hex[:10]}"
    world.led.create_project(TENANT_A, p)
    threads_before = metric(world, "swarm_daemon_threads")
    md = world.md("a-ops")
    for _ in range(20):
        calls = [
            stub.StreamEvents(
                api.StreamEventsRequest(project=ref(project=p), follow=True),
                metadata=md,
                timeout=30,
            )
            for _ in range(50)
        ]
        for call in calls:
            next(call)  # the stream is open and parked on a watch
        for call in calls:
            call.cancel()
    # The daemon keeps serving, and every stream it held is gone.
    assert stub.ListProjects(api.ListProjectsRequest(), metadata=md, timeout=10).projects
    it = stub.StreamEvents(
        api.StreamEventsRequest(project=ref(project=p), follow=True), metadata=md, timeout=30
    )
    next(it)
    it.cancel()
    # Cancellation reaches the server asynchronously: poll the gauge (bounded) until it settles.
    for _ in range(200):
        if metric(world, "swarm_active_streams") == 0.0:
            break
        time.sleep(0.05)
    assert metric(world, "swarm_active_streams") == 0.0
    assert (
        metric(world, "swarm_daemon_threads") <= threads_before + 64
    )  # bounded by the pool, not by 1,000
    assert world.led.locks(TENANT_A, p) == []


def test_health_and_reflection(world: World) -> None:
    with grpc.insecure_channel(world.daemon.target) as channel:
        health = health_stub(channel)
        for service in ("", "swarm.v1.Swarm"):
            got = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert got.status == health_pb2.HealthCheckResponse.SERVING
        refl = reflection_stub(channel)
        answers = list(
            refl.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
            )
        )
        names = {s.name for s in answers[0].list_services_response.service}
        assert {"swarm.v1.Swarm", "grpc.health.v1.Health"} <= names


def test_metrics_count_requests_and_errors(world: World, stub: Any) -> None:
    stub.ListLocks(api.ListLocksRequest(project=ref()), metadata=world.md("a-ops"), timeout=10)
    body = (
        urllib.request.urlopen(f"http://127.0.0.1:{world.daemon.metrics_port}/metrics", timeout=10)
        .read()
        .decode()
    )
    assert 'swarm_grpc_requests_total{code="OK",method="ListLocks"}' in body
    assert "swarm_grpc_latency_seconds_bucket" in body
    for name in ("swarm_tickets_total", "swarm_sandbox_runs_total", "swarm_ledger_commits_total"):
        assert f"# HELP {name} " in body


def test_every_call_logs_one_json_line_with_tenant_project_and_trace(
    world: World, stub: Any
) -> None:
    trace = uuid.uuid4().hex
    stub.ListLocks(
        api.ListLocksRequest(project=ref()),
        metadata=[*world.md("a-ops"), ("x-trace-id", trace)],
        timeout=10,
    )
    # The line is written (and flushed) before the reply leaves: no waiting for it.
    (line,) = [
        ln
        for ln in world.daemon.log_lines()
        if ln.get("trace_id") == trace and ln["event"] == "rpc"
    ]
    assert line["tenant"] == TENANT_A and line["project"] == PROJECT
    assert line["method"] == "ListLocks" and line["code"] == "OK" and line["level"] == "info"
