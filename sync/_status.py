"""How far an edge has shipped to a hub: lag, last shipped versionstamp, open conflicts."""

from __future__ import annotations

from dataclasses import dataclass

from ledger import Ledger, Versionstamp
from sync._conflict import ConflictRecord, conflicts
from sync._cursor import check_hub_name, load_cursor

_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class ProjectStatus:
    """One project's shipping state towards one hub, read from the edge alone.

    ``pending`` counts edge events after the cursor; ``lag_us`` is the time
    between the last shipped event and the edge's newest one (0 when
    nothing is pending); ``open_conflicts`` are those recorded on the edge
    (and on the hub, when one was given) that no resolution has closed.
    """

    tenant: str
    project: str
    hub: str
    shipped_to: Versionstamp | None
    handled: int
    edge_head: Versionstamp | None
    pending: int
    lag_us: int
    updated_us: int
    open_conflicts: tuple[ConflictRecord, ...]


def project_status(
    edge: Ledger, tenant: str, project: str, hub_name: str, hub: Ledger | None = None
) -> ProjectStatus:
    """The status of one project; pass ``hub`` to include conflicts only the hub knows yet."""
    check_hub_name(hub_name)
    cursor = load_cursor(edge, tenant, project, hub_name)
    info = edge.project_info(tenant, project)
    pending = 0
    newest_us = 0
    after = cursor.versionstamp
    while True:
        page = edge.raw_records(tenant, project, after=after, limit=_PAGE)
        pending += len(page)
        if len(page) < _PAGE:
            break
        after = page[-1][0]
    lag_us = 0
    if pending:
        newest_us = info.last_time_us
        shipped_us = (
            edge.get_event(tenant, project, cursor.versionstamp).time_us
            if cursor.versionstamp is not None
            else info.created_us
        )
        lag_us = max(0, newest_us - shipped_us)
    found = {c.conflict_id: c for c in conflicts(edge, tenant, project)}
    if hub is not None and tenant in hub.tenants() and project in hub.projects(tenant):
        for c in conflicts(hub, tenant, project):
            if c.hub == hub_name:
                found.setdefault(c.conflict_id, c)
        closed = {c.conflict_id for c in conflicts(hub, tenant, project, only_open=False)} - {
            c.conflict_id for c in conflicts(hub, tenant, project)
        }
        found = {k: v for k, v in found.items() if k not in closed}
    return ProjectStatus(
        tenant=tenant,
        project=project,
        hub=hub_name,
        shipped_to=cursor.versionstamp,
        handled=cursor.handled,
        edge_head=info.head,
        pending=pending,
        lag_us=lag_us,
        updated_us=cursor.updated_us,
        open_conflicts=tuple(found.values()),
    )


def sync_status(
    edge: Ledger,
    hub_name: str,
    *,
    tenant: str | None = None,
    project: str | None = None,
    hub: Ledger | None = None,
) -> list[ProjectStatus]:
    """The status of every edge project (or the named ones) towards ``hub_name``."""
    tenants = [tenant] if tenant is not None else edge.tenants()
    out = []
    for t in tenants:
        for p in [project] if project is not None else edge.projects(t):
            out.append(project_status(edge, t, p, hub_name, hub))
    return out
