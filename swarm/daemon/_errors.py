"""The daemon's errors, each mapped to one gRPC status by the table in ``_status``.

::

    DaemonError
    ├── ConfigError              a flag or setting the daemon cannot start with
    ├── AuthError                the caller is not who or what it needs to be
    │   ├── Unauthenticated      no token, a malformed token, an unknown, revoked or expired one
    │   └── PermissionDenied     a live token asking for another tenant or a higher role
    └── TokenError               token administration refused
        ├── UnknownToken         no token with that id in that tenant
        ├── InvalidRole          a role that is not ops, ide or admin
        └── InvalidExpiry        an expiry that is not in the future

Ledger errors keep their own tree (``ledger.LedgerError``) and are mapped to
statuses where they cross the wire (``swarm.daemon._status.STATUS``).
"""

from __future__ import annotations


class DaemonError(Exception):
    """Root of every error the daemon raises itself."""


class ConfigError(DaemonError):
    """A setting the daemon cannot start with; names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class AuthError(DaemonError):
    """The caller may not make this call."""


class Unauthenticated(AuthError):
    """No usable bearer token: missing, malformed, unknown, revoked or expired."""


class PermissionDenied(AuthError):
    """The token is live but does not reach this tenant or carry this role."""

    def __init__(self, message: str, *, tenant: str, role: str) -> None:
        super().__init__(message)
        self.tenant = tenant
        self.role = role


class TokenError(DaemonError):
    """Token administration was refused; nothing was changed."""


class UnknownToken(TokenError):
    def __init__(self, tenant: str, token_id: str) -> None:
        super().__init__(f"tenant {tenant!r} has no token {token_id!r}")
        self.tenant = tenant
        self.token_id = token_id


class InvalidRole(TokenError):
    def __init__(self, role: object) -> None:
        super().__init__(f"role {role!r} is not one of ops, ide, admin")
        self.role = role


class InvalidExpiry(TokenError):
    def __init__(self, expires_us: int) -> None:
        super().__init__(
            f"expiry {expires_us} (µs since the epoch) is not in the future; 0 means never"
        )
        self.expires_us = expires_us
