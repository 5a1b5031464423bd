"""What a sync may write on the hub: the tenants its credential covers.

The hub's bearer tokens live in its system tenant (``swarm.daemon``'s token
store); sync cannot import that layer, so whoever holds the credential (the
CLI) checks it against the hub and hands the ``Shipper`` a ``SyncGrant``. The
grant's ``recheck`` runs before every batch, so a token revoked or expired
mid-sync stops it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sync._errors import Unauthorised

# The service's own tenants (tokens, daemon state): the daemon skips them when it
# resumes missions, and no edge may write them, whatever its credential says.
RESERVED_TENANT_PREFIX = "swarm-"


def is_reserved(tenant: str) -> bool:
    return tenant.startswith(RESERVED_TENANT_PREFIX)


@dataclass(frozen=True, slots=True)
class SyncGrant:
    """The tenants a sync may write on the hub, who holds the right, and how to recheck it.

    ``holder`` names the credential in messages (e.g. ``token 3fa2c1``);
    ``recheck`` raises ``Unauthorised`` once the credential lapsed.
    """

    tenants: frozenset[str]
    holder: str
    recheck: Callable[[], None] | None = None

    @classmethod
    def of(cls, tenants: Iterable[str], holder: str) -> SyncGrant:
        """A grant for ``tenants`` (for callers that authenticated by other means)."""
        return cls(frozenset(tenants), holder)

    def check(self, tenant: str) -> None:
        """Raise ``Unauthorised`` unless this grant may write ``tenant``."""
        if is_reserved(tenant):
            raise Unauthorised(
                tenant,
                f"tenants named {RESERVED_TENANT_PREFIX}* are the service's own and are never "
                "synced",
            )
        if tenant not in self.tenants:
            covered = ", ".join(sorted(self.tenants)) or "none"
            raise Unauthorised(tenant, f"{self.holder} covers {covered} only")
        if self.recheck is not None:
            self.recheck()

    def allows(self, tenant: str) -> bool:
        return not is_reserved(tenant) and tenant in self.tenants
