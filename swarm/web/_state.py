"""``Web``: what every view needs, kept on the app's state (``web_of(request)``)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from swarm.client import GrpcClient
from swarm.web._connect import Daemon
from swarm.web._render import Pages
from swarm.web._session import Sessions, token_of


@dataclass
class Web:
    """The daemon's API, the sessions and the page renderer."""

    daemon: Daemon
    sessions: Sessions
    pages: Pages
    secure_cookie: bool

    def client(self, request: Request) -> GrpcClient:
        """A client reading as the signed-in person (``SignInNeeded`` if nobody is)."""
        return self.daemon.client(token_of(request, self.sessions))


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web
