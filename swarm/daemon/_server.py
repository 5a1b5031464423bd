"""The daemon: a grpc.aio server with the Swarm, health and reflection services.

Why grpc.aio and not the sync server with a thread pool: the sync server
gives every open stream a pool thread for its whole life, before any of our
code runs, so 64 reflection streams that send nothing (no token needed)
froze every call. On one event loop an idle stream is a few objects, so
thousands of them (authenticated or not) leave health and unary calls
answering. Blocking work (every ledger call) runs on a bounded thread pool
(``--workers``) through ``run_in_executor``; the tails share one ledger watch
per project (``ProjectWatchers``). The loop runs on its own thread, so
``start``/``stop`` stay plain calls for the CLI and tests.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

import ledger
from proto.swarm.v1 import service_pb2, service_pb2_grpc
from swarm.daemon._errors import ConfigError
from swarm.daemon._interceptors import interceptors
from swarm.daemon._logging import get_logger
from swarm.daemon._memory import DaemonMemory
from swarm.daemon._metrics import Metrics, count_commits
from swarm.daemon._missions import MissionRunner
from swarm.daemon._pool import Pool
from swarm.daemon._service import SwarmService
from swarm.daemon._tokens import TokenStore
from swarm.daemon._workspaces import DEFAULT_MAX_FILES

SERVICE_NAME = "swarm.v1.Swarm"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """Everything the daemon starts with, read once at the CLI edge."""

    listen: str = "127.0.0.1:7443"
    metrics_listen: str | None = None  # "host:port"; None = no metrics endpoint
    workspaces: Path | None = None
    max_workspace_files: int = DEFAULT_MAX_FILES
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_workers: int = 64  # threads for blocking (ledger) work, not per call
    max_concurrent_rpcs: int = 8192  # open calls of all kinds, idle streams included
    max_streams_per_connection: int = 1024  # HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
    max_streams_per_tenant: int = 256
    max_anonymous_streams_per_address: int = 1024  # reflection and health watches
    grace_s: float = 10.0
    # The model ask and fix missions run on (the openai brain's settings, key included).
    model: Mapping[str, Any] | None = field(default=None, repr=False)
    memory: str | None = None  # semantic memory's folder or Qdrant URL; None = off


def _return_large_buffers_to_the_os() -> None:
    """Serve every allocation of 1 MB or more from its own mapping (glibc; elsewhere a no-op).

    Why: glibc raises its mmap threshold as large blocks are freed, so after a
    few multi-megabyte requests their buffers come from the heap and stay in
    the process when freed. A fixed threshold hands them back at once.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        pass


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        phases[name] = round(time.monotonic() - start, 3)


def _split(addr: str, setting: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(setting, f"{addr!r} is not HOST:PORT")
    return host, int(port)


class Daemon:
    """One running ``swarm serve``: start it, read its ports, stop it (SIGTERM calls ``stop``)."""

    def __init__(self, led: ledger.Ledger, config: DaemonConfig) -> None:
        self.config = config
        self.metrics = Metrics()
        # Every transaction of the daemon (its calls, missions, tokens) is counted where it
        # commits, so no write path can be left out of swarm_ledger_commits_total.
        led = count_commits(led, self.metrics.ledger_commits)
        self.led = led
        self.tokens = TokenStore(led)
        self.missions = MissionRunner(
            led, config.workspaces, self.metrics, config.max_workspace_files, config.model
        )
        self._pool = ThreadPoolExecutor(
            max_workers=config.max_workers, thread_name_prefix="swarm-rpc"
        )
        pool = Pool(self._pool)
        self.memory = DaemonMemory(led, config.memory) if config.memory else None
        self.service = SwarmService(
            led, self.tokens, self.metrics, self.missions, pool=pool, memory=self.memory
        )
        self._interceptors = interceptors(
            tokens=self.tokens,
            metrics=self.metrics,
            pool=pool,
            streams_per_tenant=config.max_streams_per_tenant,
            anonymous_streams_per_address=config.max_anonymous_streams_per_address,
        )
        self._health = health.aio.HealthServicer()
        self._stopped = threading.Event()
        # Missions still inside a step when ``stop`` gave up waiting (their threads run on).
        self.unfinished: list[str] = []
        self._log = get_logger()
        self.port = 0
        self.metrics_port: int | None = None
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name="swarm-aio", daemon=True
        )
        self._server: grpc.aio.Server | None = None

    def _build(self) -> grpc.aio.Server:
        cfg = self.config
        server = grpc.aio.server(
            interceptors=self._interceptors,
            maximum_concurrent_rpcs=cfg.max_concurrent_rpcs,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_concurrent_streams", cfg.max_streams_per_connection),
                ("grpc.so_reuseport", 0),
            ],
        )
        service_pb2_grpc.add_SwarmServicer_to_server(self.service, server)  # type: ignore[no-untyped-call]
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (
                service_pb2.DESCRIPTOR.services_by_name["Swarm"].full_name,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        return server

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the gRPC server runs on (on its own thread), for what serves beside
        it: mission control's HTTP port (``swarm.web``), stopped before ``stop``."""
        return self._loop

    def _run(self, coro: Any) -> Any:
        """Run ``coro`` on the daemon's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def start(self) -> None:
        """Bind, start serving and mark the services healthy."""
        cfg = self.config
        host, port = _split(cfg.listen, "--listen")
        if (cfg.tls_cert is None) != (cfg.tls_key is None):
            raise ConfigError("--tls-cert/--tls-key", "give both or neither")
        _return_large_buffers_to_the_os()
        self._loop_thread.start()
        try:
            self._run(self._start(f"{host}:{port}"))
        except BaseException:
            self._halt_loop()
            raise
        if cfg.metrics_listen is not None:
            mhost, mport = _split(cfg.metrics_listen, "--metrics")
            try:
                self.metrics_port = self.metrics.serve(mhost, mport)
            except OSError as exc:
                self.stop()
                raise ConfigError("--metrics", f"cannot bind {cfg.metrics_listen}: {exc}") from exc
        if self.memory is not None:
            self.memory.start()
        resumed = self.missions.resume_all()
        self._log.info(
            "daemon started",
            address=f"{host}:{self.port}",
            resumed_missions=resumed,
            port=self.port,
            metrics_port=self.metrics_port,
            tls=cfg.tls_cert is not None,
        )

    async def _start(self, address: str) -> None:
        cfg = self.config
        server = self._build()
        try:
            if cfg.tls_cert is not None and cfg.tls_key is not None:
                creds = grpc.ssl_server_credentials(
                    [(cfg.tls_key.read_bytes(), cfg.tls_cert.read_bytes())]
                )
                self.port = server.add_secure_port(address, creds)
            else:
                self.port = server.add_insecure_port(address)
        except OSError as exc:
            raise ConfigError("--tls-cert/--tls-key", str(exc)) from exc
        except RuntimeError as exc:
            raise ConfigError("--listen", f"cannot bind {address}: {exc}") from exc
        if self.port == 0:
            raise ConfigError("--listen", f"cannot bind {address}")
        await server.start()
        self._server = server
        await self._health.set("", health_pb2.HealthCheckResponse.SERVING)
        await self._health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)

    def stop(self) -> None:
        """Stop taking calls, end open streams, give unary calls and missions the grace period.

        A mission still running after it is left as its log stands; the next daemon
        resumes it (its steps have deterministic ids, so none lands twice).
        """
        if self._stopped.is_set():
            return
        self._log.info("daemon stopping", open_streams=self.service.streams.count())
        phases: dict[str, float] = {}
        with _timed(phases, "server_s"):
            ended = self._run(self._stop()) if self._server is not None else 0
        with _timed(phases, "missions_s"):
            left = self.missions.stop(self.config.grace_s)
        self.unfinished = left
        if self.memory is not None:
            with _timed(phases, "memory_s"):
                self.memory.stop()
        with _timed(phases, "loop_s"):
            self._halt_loop()
        with _timed(phases, "pool_s"):
            self._pool.shutdown(wait=False, cancel_futures=True)
        # Each phase's duration, so a slow stop says which part was slow.
        self._log.info(
            "daemon stopped", streams_ended=ended, missions_left_to_resume=left, **phases
        )
        self._stopped.set()

    async def _stop(self) -> int:
        assert self._server is not None
        await self._health.enter_graceful_shutdown()
        stopping = asyncio.ensure_future(self._server.stop(self.config.grace_s))
        ended = self.service.streams.stop()  # they end with UNAVAILABLE naming their cursor
        await stopping
        return ended

    def _halt_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join(10)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop`` has finished."""
        return self._stopped.wait(timeout)
