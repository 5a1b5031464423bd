"""``Daemon``: how mission control reaches the API, as the signed-in person.

Every page is a ``GrpcClient`` call made with the visitor's own token over
one channel to the daemon's gRPC port, so the API's interceptors check each
read exactly as they check the CLI's: the web port holds no privilege of its
own and has no second copy of the tenant rules.
"""

from __future__ import annotations

from pathlib import Path

import grpc

from swarm.client import GrpcClient, Remote

#: Each page's calls get this long (a replay of a long history reads a while).
DEADLINE_S = 60.0


class Daemon:
    """One channel to the daemon's API; ``client(token)`` reads as that token's holder."""

    def __init__(self, target: str, *, tls_root: Path | None = None) -> None:
        self.target = target
        if tls_root is None:
            self._channel = grpc.insecure_channel(target)
        else:
            creds = grpc.ssl_channel_credentials(root_certificates=tls_root.read_bytes())
            self._channel = grpc.secure_channel(target, creds)

    def client(self, token: str) -> GrpcClient:
        """A client of the token's own tenant."""
        return GrpcClient(Remote(self.target, self._channel, token, DEADLINE_S))

    def close(self) -> None:
        self._channel.close()


def api_target(listen_host: str, port: int, *, tls: bool) -> str:
    """Where this process reaches its own gRPC port (the wildcard addresses mean loopback)."""
    if listen_host in ("0.0.0.0", "::", "[::]", ""):
        listen_host = "localhost" if tls else "127.0.0.1"
    if ":" in listen_host and not listen_host.startswith("["):
        listen_host = f"[{listen_host}]"
    return f"{listen_host}:{port}"
