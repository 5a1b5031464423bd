"""Who an MCP server acts for: one token, its tenant, and the client it calls through.

``swarm mcp`` is bound once, at start, to one bearer token:

- through a daemon (``--server``) the token goes with every call and the
  daemon checks it, as it checks the CLI's (``GrpcClient``);
- on the embedded ledger the token is checked against the ledger's own token
  store (``TokenStore``, the one ``swarm admin token create --ledger`` writes
  and the daemon reads), with the daemon's rules: a revoked, expired or
  unknown token is refused, a ``sync`` token reaches no tool, an ``ops``
  token reads and audits, an ``ide`` token also runs missions and holds
  locks; ``--tenant``, if given, must be the token's own.

Either way every tool call acts on the token's tenant only: a project of
another tenant is simply not there (NOT_FOUND), as through the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ledger
from swarm.client import Client, ClientError, GrpcClient, LocalClient, Remote
from swarm.daemon import DaemonError, Role, TokenInfo, TokenStore


class BindingRefused(Exception):
    """The server cannot be bound as asked (no token, a bad one, another tenant's)."""


@dataclass(frozen=True, slots=True)
class Binding:
    """The client every tool calls, the token's tenant and role, and the defaults.

    ``role`` is None through a daemon, which checks each call itself.
    ``repo`` is the folder local missions run on (None through a daemon, whose
    missions run on its workspaces).
    """

    client: Client
    tenant: str  # "" through a daemon: the token's own, as the daemon resolves it
    project: str  # the project a tool works on when it names none
    repo: Path | None
    role: Role | None
    token_id: str = ""

    @property
    def remote(self) -> bool:
        return self.repo is None

    def need(self, role: Role, what: str) -> None:
        """PERMISSION_DENIED unless the token's role reaches ``role`` (a daemon checks its own)."""
        if self.role is not None and self.role < role:
            raise ClientError(
                "PERMISSION_DENIED",
                f"token {self.token_id} has role {self.role.label}; {what} needs {role.label}",
            )

    def project_of(self, given: str | None) -> str:
        """The project a call names, else the server's own; INVALID_ARGUMENT if neither."""
        project = given or self.project
        if not project:
            raise ClientError("INVALID_ARGUMENT", "name the project: project is required")
        return project


def bind_local(
    led: ledger.Ledger, token: str, *, tenant: str | None, project: str, repo: Path
) -> Binding:
    """A binding on the embedded ledger ``led`` for ``token`` (checked in its token store)."""
    info = check_token(led, token)
    if tenant and tenant != info.tenant:
        raise BindingRefused(
            f"--tenant {tenant!r}: token {info.token_id} belongs to tenant {info.tenant!r}"
        )
    return Binding(
        LocalClient(led, info.tenant), info.tenant, project, repo, info.role, info.token_id
    )


def check_token(led: ledger.Ledger, token: str) -> TokenInfo:
    """The live token's record in ``led``'s token store; ``BindingRefused`` saying why not."""
    try:
        info = TokenStore(led).check(token)
    except DaemonError as exc:  # unknown, revoked, expired, malformed, unreadable
        raise BindingRefused(str(exc)) from None
    if info.role == Role.SYNC:
        raise BindingRefused(f"token {info.token_id} is a sync token: it reaches no MCP tool")
    return info


def bind_remote(remote: Remote, *, tenant: str | None, project: str) -> Binding:
    """A binding through a daemon: every call carries the token, and the daemon checks it."""
    return Binding(GrpcClient(remote, tenant or ""), tenant or "", project, None, None)
