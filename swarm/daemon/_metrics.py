"""Prometheus metrics of one daemon, in their own registry, served on a separate port."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

import ledger

T = TypeVar("T")


class Metrics:
    """The daemon's counters; the orchestrator increments tickets and sandbox runs."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "swarm_grpc_requests", "gRPC calls by method and status", ["method", "code"], registry=r
        )
        self.latency = Histogram(
            "swarm_grpc_latency_seconds",
            "gRPC call latency (streams: until they end)",
            ["method"],
            registry=r,
        )
        self.errors = Counter(
            "swarm_grpc_errors",
            "gRPC calls that ended with a non-OK status",
            ["method"],
            registry=r,
        )
        self.active_streams = Gauge("swarm_active_streams", "open event streams", registry=r)
        self.events_streamed = Counter(
            "swarm_events_streamed", "events sent on streams", registry=r
        )
        self.ledger_commits = Counter(
            "swarm_ledger_commits", "ledger transactions the daemon committed", registry=r
        )
        self.tickets = Counter("swarm_tickets", "ticket transitions", ["state"], registry=r)
        self.sandbox_runs = Counter("swarm_sandbox_runs", "sandbox runs", ["outcome"], registry=r)
        threads = Gauge("swarm_daemon_threads", "live threads in the daemon", registry=r)
        threads.set_function(lambda: float(threading.active_count()))

    def serve(self, host: str, port: int) -> int:
        """Expose /metrics on ``host:port`` (0 picks a free port); returns the port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_address[1])


class CountedEngine:
    """An engine that counts the write transactions it commits (``transact`` returning).

    Reads, watches and directory look-ups pass straight through; so does any
    attribute of the engine this wrapper does not name.
    """

    def __init__(self, inner: ledger.Engine, commits: Counter) -> None:
        self.inner = inner
        self.name = inner.name
        self._commits = commits

    def transact(self, fn: Callable[[ledger.Transaction], T]) -> T:
        result = self.inner.transact(fn)
        self._commits.inc()
        return result

    def read(self, fn: Callable[[ledger.Transaction], T]) -> T:
        return self.inner.read(fn)

    def open_directory(self, path: tuple[str, ...], create: bool) -> bytes | None:
        return self.inner.open_directory(path, create)

    def list_directory(self, path: tuple[str, ...]) -> list[str]:
        return self.inner.list_directory(path)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def count_commits(led: ledger.Ledger, commits: Counter) -> ledger.Ledger:
    """A Ledger over ``led``'s engine whose every committed transaction counts in ``commits``.

    Why at the engine: the daemon's calls, its missions' agents and its token
    store all write through it, and a count kept by hand at call sites missed
    every mission (the counter stayed 0 however many missions ran). The new
    Ledger keeps the wall clock, as the daemon always runs on it.
    """
    return ledger.Ledger(CountedEngine(led.engine, commits))
