"""Mission control: the web page ``swarm serve --http HOST:PORT`` serves beside its gRPC API.

::

    from swarm.web import Daemon, WebConfig, WebServer, build_app

    app = build_app(Daemon("127.0.0.1:7443"), secure_cookie=False)
    web = WebServer(app, WebConfig("127.0.0.1:8080"))
    web.start(loop)          # the daemon's event loop, running on another thread
    ...
    web.stop()

Server-rendered pages (Starlette, Jinja2 with autoescape, served by uvicorn on
the daemon's own event loop) and one static script for the live timeline and
the replay slider. Every read is a ``swarm.client.GrpcClient`` call as the
signed-in person's token, so the API's own auth and tenant rules decide what
the page may show (ADR 0015, mission control).
"""

from __future__ import annotations

from swarm.web._app import build_app
from swarm.web._connect import Daemon, api_target
from swarm.web._server import WebConfig, WebConfigError, WebServer, check, is_loopback

__all__ = [
    "Daemon",
    "WebConfig",
    "WebConfigError",
    "WebServer",
    "api_target",
    "build_app",
    "check",
    "is_loopback",
]
