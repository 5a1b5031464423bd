"""Where a ledger operation works: a tenant's or a project's keys, resolved once.

Every module of the ledger (projects, append, log, history, time index, locks,
blobs, watches, snapshots, chain) takes one of these scopes and an engine, and
builds its keys from the scope alone; no module reaches into another's
internals. ``Scopes`` resolves names to scopes through the engine's directory
layer and keeps them, because a prefix never moves once allocated.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from ledger import _codec as codec
from ledger import _validate as validate
from ledger._errors import CorruptRecord, UnknownProject, UnknownTenant
from ledger._keys import ProjectKeys, TenantKeys, WorkspaceKeys
from ledger._port import Engine, Transaction

Clock = Callable[[], int]

TENANTS_DIR = ("swarm", "tenants")
WORKSPACES_DIR = ("swarm", "workspaces")


def wall_clock_us() -> int:
    """Microseconds since the Unix epoch (the default clock)."""
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class TenantScope:
    """One tenant: its id and the keys under its directory prefix."""

    tenant: str
    keys: TenantKeys


@dataclass(frozen=True, slots=True)
class ProjectScope:
    """One project of one tenant: both ids, both key sets, and the envelope fields
    (tenant = 2, project = 3) an append adds to events that leave them empty."""

    tenant: str
    project: str
    tenant_keys: TenantKeys
    keys: ProjectKeys
    names: tuple[bytes, bytes]

    def require(self, tr: Transaction) -> None:
        """Refuse with ``UnknownProject`` unless the project exists in ``tr``'s view."""
        if tr.get(self.keys.clock) is None:
            raise UnknownProject(self.tenant, self.project)


class Scopes:
    """Resolves tenant and project names to scopes, once each; safe across threads
    (a race resolves the same prefix twice and stores the same value)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._tenants: dict[str, TenantScope] = {}
        self._projects: dict[tuple[str, str], ProjectScope] = {}
        self._workspaces: WorkspaceKeys | None = None

    def create_tenant(self, tenant: str) -> TenantScope:
        """Open ``tenant``'s directory, creating it if absent."""
        validate.tenant_id(tenant)
        prefix = self._engine.open_directory((*TENANTS_DIR, tenant), create=True)
        assert prefix is not None
        scope = self._tenants[tenant] = TenantScope(tenant, TenantKeys(prefix))
        return scope

    def tenant(self, tenant: str) -> TenantScope:
        """The scope of an existing tenant; ``UnknownTenant`` if it has no directory."""
        scope = self._tenants.get(tenant)
        if scope is None:
            validate.tenant_id(tenant)
            prefix = self._engine.open_directory((*TENANTS_DIR, tenant), create=False)
            if prefix is None:
                raise UnknownTenant(tenant)
            scope = self._tenants[tenant] = TenantScope(tenant, TenantKeys(prefix))
        return scope

    def project(self, tenant: str, project: str) -> ProjectScope:
        """The scope of ``project`` (whether it exists is for a transaction to say)."""
        scope = self._projects.get((tenant, project))
        if scope is None:
            tk = self.tenant(tenant).keys
            validate.project_id(project)
            names = (codec.string_field(2, tenant), codec.string_field(3, project))
            scope = ProjectScope(tenant, project, tk, tk.project(project), names)
            self._projects[(tenant, project)] = scope
        return scope

    def workspaces(self) -> WorkspaceKeys:
        """The workspace registry's keys (its directory is created on first use)."""
        if self._workspaces is None:
            prefix = self._engine.open_directory(WORKSPACES_DIR, create=True)
            assert prefix is not None
            self._workspaces = WorkspaceKeys(prefix)
        return self._workspaces


_Method = TypeVar("_Method", bound=Callable[..., Any])


def names_project(method: _Method) -> _Method:
    """Name the tenant and project in a ``CorruptRecord`` that ``method`` met reading theirs
    (the codec that finds the damage knows the record, not whose it is)."""

    @functools.wraps(method)
    def named(self: object, tenant: str, project: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, tenant, project, *args, **kwargs)
        except CorruptRecord as exc:
            raise exc.in_project(tenant, project) from None

    return cast(_Method, named)
