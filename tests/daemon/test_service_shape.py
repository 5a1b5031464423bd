"""The servicer's shape, the status table's order and the commit count, without a server."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry, Counter

import ledger
from proto.swarm.v1 import service_pb2 as api
from swarm.daemon import STATUS, SwarmService, UnknownToken, status_of
from swarm.daemon._metrics import count_commits
from swarm.daemon._mission_records import MissionRefused
from tests.ledger._events import decision

SERVICE = api.DESCRIPTOR.services_by_name["Swarm"]


@pytest.mark.parametrize("method", [m.name for m in SERVICE.methods])
def test_every_rpc_is_a_method_of_the_servicer_under_its_proto_name(method: str) -> None:
    defined = SwarmService.__dict__.get(method)  # written out in the class, not set on it later
    assert defined is not None, f"SwarmService has no method {method}"
    streaming = SERVICE.methods_by_name[method].server_streaming
    assert inspect.isasyncgenfunction(defined) is streaming, method
    assert list(inspect.signature(defined).parameters) == ["self", "request", "call"]


def _kinds(kind: type[Exception] | tuple[type[Exception], ...]) -> tuple[type[Exception], ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def test_no_row_of_the_status_table_is_shadowed_by_an_earlier_one() -> None:
    # First match wins: a row whose errors an earlier, unconditional row already catches
    # would never apply (a base class above its subclass).
    for i, row in enumerate(STATUS):
        for earlier in STATUS[:i]:
            if earlier.when is not None:
                continue
            for kind in _kinds(row.kind):
                caught = [base for base in _kinds(earlier.kind) if issubclass(kind, base)]
                assert not caught, f"{kind.__name__} (row {i}) is caught first by {caught}"


@pytest.mark.parametrize(
    "error,code,message",
    [
        (UnknownToken("acme", "t1"), grpc.StatusCode.NOT_FOUND, "tenant 'acme' has no token 't1'"),
        (MissionRefused("ALREADY_EXISTS", "taken"), grpc.StatusCode.ALREADY_EXISTS, "taken"),
        (ledger.UnknownTenant("x"), grpc.StatusCode.NOT_FOUND, "UnknownTenant: "),
        (OSError(36, "File name too long"), grpc.StatusCode.INVALID_ARGUMENT, "too long"),
        (OSError(5, "I/O error /secret/path"), grpc.StatusCode.INTERNAL, "(OSError)"),
        (KeyError("/secret/path"), grpc.StatusCode.INTERNAL, "internal error (KeyError)"),
    ],
)
def test_status_of(error: Exception, code: grpc.StatusCode, message: str) -> None:
    got_code, got_message = status_of(error)
    assert got_code == code
    assert message in got_message
    if code is grpc.StatusCode.INTERNAL:
        assert "secret" not in got_message  # a bug's text may hold what the caller must not see


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[ledger.Ledger, CollectorRegistry]]:
    registry = CollectorRegistry()
    commits = Counter("commits", "test", registry=registry)
    with ledger.open_ledger(f"sqlite://{tmp_path / 'c.sqlite'}") as led:
        yield count_commits(led, commits), registry


class _Commits:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def get(self) -> float:
        return self._registry.get_sample_value("commits_total") or 0.0


def test_commits_count_write_transactions_not_reads(
    counted: tuple[ledger.Ledger, CollectorRegistry],
) -> None:
    led, registry = counted
    commits = _Commits(registry)
    led.create_tenant("acme")
    led.create_project("acme", "app")
    after_create = commits.get()
    assert after_create >= 1
    led.append("acme", "app", [decision(), decision()])  # one transaction, two events
    assert commits.get() == after_create + 1
    led.read("acme", "app")
    led.history("acme", "app", agent="scout-1")
    led.head("acme", "app")
    assert commits.get() == after_create + 1
    with pytest.raises(ledger.LedgerError):
        led.append("nobody", "app", [decision()])  # refused: nothing committed
    assert commits.get() == after_create + 1
