"""The daemon: a grpcio server (thread pool) with the Swarm, health and reflection services.

Why the sync server with a thread pool, not grpc.aio: every ledger call is
blocking (sqlite, fdb futures, watch waits), so under asyncio each would hop
to an executor anyway; the thread pool runs them directly, and a stream's
wait on a ledger watch is woken by the RPC's termination callback. The pool
bounds concurrency: ``max_workers`` threads, and calls beyond
``max_concurrent_rpcs`` are refused with RESOURCE_EXHAUSTED instead of queued.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

import ledger
from proto.swarm.v1 import service_pb2, service_pb2_grpc
from swarm.daemon._errors import ConfigError
from swarm.daemon._logging import get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._missions import MissionRunner
from swarm.daemon._service import SwarmService
from swarm.daemon._tokens import TokenStore
from swarm.daemon._workspaces import DEFAULT_MAX_FILES

SERVICE_NAME = "swarm.v1.Swarm"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """Everything the daemon starts with, read once at the CLI edge."""

    listen: str = "127.0.0.1:7443"
    metrics_listen: str | None = None  # "host:port"; None = no metrics endpoint
    workspaces: Path | None = None
    max_workspace_files: int = DEFAULT_MAX_FILES
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_workers: int = 64
    max_concurrent_rpcs: int = 1024
    grace_s: float = 10.0


def _split(addr: str, setting: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(setting, f"{addr!r} is not HOST:PORT")
    return host, int(port)


class Daemon:
    """One running ``swarm serve``: start it, read its ports, stop it (SIGTERM calls ``stop``)."""

    def __init__(self, led: ledger.Ledger, config: DaemonConfig) -> None:
        self.config = config
        self.led = led
        self.metrics = Metrics()
        self.tokens = TokenStore(led)
        self.missions = MissionRunner(
            led, config.workspaces, self.metrics, config.max_workspace_files
        )
        self.service = SwarmService(led, self.tokens, self.metrics, self.missions)
        self._health = health.HealthServicer()
        self._stopped = threading.Event()
        self._log = get_logger()
        self.port = 0
        self.metrics_port: int | None = None
        self._server = grpc.server(
            ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="swarm-rpc"),
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        service_pb2_grpc.add_SwarmServicer_to_server(self.service, self._server)  # type: ignore[no-untyped-call]
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (
                service_pb2.DESCRIPTOR.services_by_name["Swarm"].full_name,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self._server,
        )

    def start(self) -> None:
        """Bind, start serving and mark the services healthy."""
        cfg = self.config
        host, port = _split(cfg.listen, "--listen")
        if (cfg.tls_cert is None) != (cfg.tls_key is None):
            raise ConfigError("--tls-cert/--tls-key", "give both or neither")
        address = f"{host}:{port}"
        try:
            if cfg.tls_cert is not None and cfg.tls_key is not None:
                creds = grpc.ssl_server_credentials(
                    [(cfg.tls_key.read_bytes(), cfg.tls_cert.read_bytes())]
                )
                self.port = self._server.add_secure_port(address, creds)
            else:
                self.port = self._server.add_insecure_port(address)
        except OSError as exc:
            raise ConfigError("--tls-cert/--tls-key", str(exc)) from exc
        except RuntimeError as exc:
            raise ConfigError("--listen", f"cannot bind {address}: {exc}") from exc
        if self.port == 0:
            raise ConfigError("--listen", f"cannot bind {address}")
        if cfg.metrics_listen is not None:
            mhost, mport = _split(cfg.metrics_listen, "--metrics")
            try:
                self.metrics_port = self.metrics.serve(mhost, mport)
            except OSError as exc:
                raise ConfigError("--metrics", f"cannot bind {cfg.metrics_listen}: {exc}") from exc
        self._server.start()
        self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        self._health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
        resumed = self.missions.resume_all()
        self._log.info(
            "daemon started",
            resumed_missions=resumed,
            port=self.port,
            metrics_port=self.metrics_port,
            tls=cfg.tls_cert is not None,
        )

    def stop(self) -> None:
        """Stop taking calls, end open streams, give unary calls and missions the grace period.

        A mission still running after it is left as its log stands; the next daemon
        resumes it (its steps have deterministic ids, so none lands twice).
        """
        if self._stopped.is_set():
            return
        self._health.enter_graceful_shutdown()
        self._log.info("daemon stopping", open_streams=self.service.open_streams())
        done = self._server.stop(self.config.grace_s)
        ended = self.service.stop_streams()
        done.wait()
        left = self.missions.stop(self.config.grace_s)
        self._log.info("daemon stopped", streams_ended=ended, missions_left_to_resume=left)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop`` has finished."""
        return self._stopped.wait(timeout)
