"""``swarm mcp``: the swarm as Model Context Protocol tools for an agentic IDE.

::

    from swarm.mcp import bind_local, build_server

    server = build_server(bind_local(led, token, tenant=None, project="shop", repo=repo))
    server.run()                                     # stdio; or "streamable-http"

A thin adapter over the CLI's ``Client`` (``LocalClient`` on the embedded
ledger, ``GrpcClient`` through a daemon), bound to one token's tenant
(``_binding``); tools in ``_missions`` (submit, follow, result) and
``_history`` (replay, audit, locks), registered in ``_server``.
"""

from __future__ import annotations

from swarm.mcp._binding import Binding, BindingRefused, bind_local, bind_remote, check_token
from swarm.mcp._http import serve_http
from swarm.mcp._server import INSTRUCTIONS, build_server

__all__ = [
    "INSTRUCTIONS",
    "Binding",
    "BindingRefused",
    "bind_local",
    "bind_remote",
    "build_server",
    "check_token",
    "serve_http",
]
