"""``WebServer``: mission control's HTTP port, served by uvicorn on the daemon's event loop.

Why on the daemon's loop and not a thread of its own: the loop already runs
the gRPC server's idle streams as a few objects each; an SSE tail of the web
page is one more such coroutine. Blocking work (every gRPC call the pages
make) runs on Starlette's thread pool, never on the loop. The socket is bound
here, before uvicorn starts, so a port in use is a ``WebConfigError`` naming
``--http`` at start-up rather than a log line after the ready line.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

#: How long open pages (SSE tails) get to close when the daemon stops.
GRACE_S = 2.0


class WebConfigError(Exception):
    """A setting of ``--http`` the web port cannot start with; ``setting`` names the flag."""

    def __init__(self, setting: str, detail: str) -> None:
        super().__init__(f"{setting}: {detail}")
        self.setting = setting
        self.detail = detail


@dataclass(frozen=True, slots=True)
class WebConfig:
    """Where mission control listens, and the certificate that makes it HTTPS."""

    listen: str  # HOST:PORT; port 0 picks a free one
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None


def _split(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise WebConfigError("--http", f"{listen!r} is not HOST:PORT")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(config: WebConfig) -> tuple[str, int]:
    """(host, port) of ``config.listen``; refused when a token would cross a network in clear.

    A browser sends its session cookie (which stands for a bearer token) with
    every request, so a port reachable from other machines must be HTTPS.
    """
    host, port = _split(config.listen)
    if not is_loopback(host) and not config.tls:
        raise WebConfigError(
            "--http",
            f"{host} is not a loopback address: mission control beyond this machine needs "
            "HTTPS, so give --tls-cert and --tls-key (or listen on 127.0.0.1)",
        )
    return host, port


class WebServer:
    """Mission control on one port: ``start`` on a running loop, ``stop`` before the loop ends."""

    def __init__(self, app: Any, config: WebConfig) -> None:
        self.config = config
        host, port = check(config)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            self._sock.close()
            raise WebConfigError("--http", f"cannot bind {config.listen}: {exc}") from exc
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=int(GRACE_S),
                ssl_certfile=str(config.tls_cert) if config.tls else None,
                ssl_keyfile=str(config.tls_key) if config.tls else None,
            )
        )
        self._done: Future[None] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.config.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/"

    def start(self, loop: asyncio.AbstractEventLoop, timeout: float = 30.0) -> None:
        """Serve on ``loop`` (another thread's), returning once the port answers."""
        self._done = asyncio.run_coroutine_threadsafe(self._serve(), loop)
        started = asyncio.run_coroutine_threadsafe(self._wait_started(), loop)
        try:
            started.result(timeout)
        except BaseException:
            self.stop()
            raise
        if self._done.done():
            self._done.result()  # uvicorn gave up at start-up: raise why

    async def _serve(self) -> None:
        await self._server.serve(sockets=[self._sock])

    async def _wait_started(self) -> None:
        while not self._server.started and not (self._done and self._done.done()):
            await asyncio.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking requests; open pages get ``GRACE_S`` to close."""
        self._server.should_exit = True
        if self._done is not None:
            try:
                self._done.result(timeout)
            finally:
                self._sock.close()
