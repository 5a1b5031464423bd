"""Streamable HTTP: the SDK's app behind a bearer check, served by uvicorn on loopback.

Anyone who can reach the port would otherwise act with the token the server
was started with, so every request must carry that same token
(``Authorization: Bearer <token>``, compared in constant time); one without
it is answered 401 before the SDK sees it.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from mcp.server.mcpserver import MCPServer

Scope = dict[str, Any]


class BearerOnly:
    """An ASGI app that passes on HTTP requests carrying ``token`` and refuses the rest."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._allowed(scope):
            body = json.dumps(
                {"error": "send the server's bearer token: 'Authorization: Bearer <token>'"}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        for key, value in scope.get("headers", ()):
            if key == b"authorization":
                return hmac.compare_digest(value, self._expected)
        return False


def serve_http(server: MCPServer[Any], token: str, host: str, port: int) -> None:
    """Serve ``server`` over streamable HTTP at ``http://host:port/mcp`` until stopped."""
    import uvicorn

    app = BearerOnly(server.streamable_http_app(host=host), token)
    uvicorn.run(app, host=host, port=port, log_level="warning")
