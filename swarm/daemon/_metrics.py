"""Prometheus metrics of one daemon, in their own registry, served on a separate port."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


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
