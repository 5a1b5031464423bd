"""Tenants, projects and the workspace folders projects own.

A project exists once its meta key and clock are written, in the transaction
that appends its PROJECT_CREATED signal; a workspace folder is claimed in that
same transaction, so a project never half-owns a folder.
"""

from __future__ import annotations

from ledger import _codec as codec
from ledger import _validate as validate
from ledger._append import append_in, landed_here, new_salt
from ledger._errors import AlreadyExists, UnknownProject, WorkspaceTaken
from ledger._keys import WorkspaceKeys, unpack, vs_from_key
from ledger._port import Engine, Transaction
from ledger._prepare import prepare, system_event
from ledger._scope import Clock, ProjectScope, Scopes, TenantScope
from ledger._types import ProjectInfo, WorkspaceClaim
from proto.swarm.v1 import events_pb2


def create_project(
    engine: Engine,
    scopes: Scopes,
    scope: ProjectScope,
    clock: Clock,
    exist_ok: bool,
    workspace: tuple[str, str] | None,
) -> ProjectInfo:
    """``Ledger.create_project``: meta, clock, first signal and claim in one transaction."""
    tenant, project = scope.tenant, scope.project
    tk = scope.tenant_keys
    now = clock()
    claim = None
    wk = None
    attributes = {}
    if workspace is not None:
        root, name = validate.workspace(*workspace)
        claim = WorkspaceClaim(root, name, tenant, project, now)
        wk = scopes.workspaces()
        attributes = {"workspace": name}
    created = system_event(
        scope,
        events_pb2.Signal(
            kind=events_pb2.SIGNAL_KIND_PROJECT_CREATED, subject=project, attributes=attributes
        ),
    )
    prepared = [prepare(scope, created)]
    salt = new_salt()

    def fn(tr: Transaction) -> bool:
        exists = tr.get(tk.project_meta(project)) is not None
        if exists and not exist_ok and not landed_here(tr, scope, prepared[0], salt):
            # (the landed check: FoundationDB re-runs a closure whose commit landed
            # but was reported unknown, and that creation was this call's own)
            raise AlreadyExists(f"project {project!r} of tenant {tenant!r}")
        if claim is not None and wk is not None:
            _claim_in(tr, wk, claim)
        if exists:
            return False
        tr.set(tk.project_meta(project), now.to_bytes(8, "big"))
        tr.set(scope.keys.clock, codec.encode_clock(0, 0, codec.GENESIS))
        append_in(tr, scope, prepared, now, salt=salt)
        return True

    engine.transact(fn)
    return project_info(engine, scope)


def projects(engine: Engine, scope: TenantScope) -> list[str]:
    """The tenant's project names, sorted."""
    tk = scope.keys
    begin, end = tk.projects()
    rows = engine.read(lambda tr: tr.get_range(begin, end))
    return [str(unpack(k, len(tk.prefix))[-1]) for k, _ in rows]


def project_info(engine: Engine, scope: ProjectScope) -> ProjectInfo:
    """When the project was made, its head, event count and last event time."""
    tk, pk = scope.tenant_keys, scope.keys

    def fn(tr: Transaction) -> ProjectInfo:
        meta = tr.get(tk.project_meta(scope.project))
        clock = tr.get(pk.clock)
        if meta is None or clock is None:
            raise UnknownProject(scope.tenant, scope.project)
        last_us, count, _ = codec.decode_clock(clock)
        last = tr.get_range(*pk.event_span(), limit=1, reverse=True)
        return ProjectInfo(
            tenant=scope.tenant,
            project=scope.project,
            created_us=int.from_bytes(meta, "big"),
            head=vs_from_key(last[0][0]) if last else None,
            events=count,
            last_time_us=last_us,
        )

    return engine.read(fn)


def workspace_of(
    engine: Engine, scopes: Scopes, tenant: str, project: str
) -> WorkspaceClaim | None:
    """The workspace folder registered to ``project``, or None."""
    return _read_claim(engine, scopes.workspaces().by_project(tenant, project))


def workspace_owner(engine: Engine, scopes: Scopes, root: str, name: str) -> WorkspaceClaim | None:
    """Who owns workspace folder ``name`` under ``root``, or None."""
    return _read_claim(engine, scopes.workspaces().by_name(*validate.workspace(root, name)))


def _read_claim(engine: Engine, key: bytes) -> WorkspaceClaim | None:
    raw = engine.read(lambda tr: tr.get(key))
    return codec.decode_claim(raw) if raw is not None else None


def _claim_in(tr: Transaction, wk: WorkspaceKeys, claim: WorkspaceClaim) -> None:
    """Register ``claim`` unless the folder or the project is already someone's."""
    held = tr.get(wk.by_name(claim.root, claim.name))
    if held is not None:
        owner = codec.decode_claim(held)
        if (owner.tenant, owner.project) == (claim.tenant, claim.project):
            return  # already this project's
        raise _taken(claim, owner)
    mine = tr.get(wk.by_project(claim.tenant, claim.project))
    if mine is not None:
        raise _taken(claim, codec.decode_claim(mine))
    value = codec.encode_claim(claim)
    tr.set(wk.by_name(claim.root, claim.name), value)
    tr.set(wk.by_project(claim.tenant, claim.project), value)


def _taken(claim: WorkspaceClaim, other: WorkspaceClaim) -> WorkspaceTaken:
    return WorkspaceTaken(
        claim.root,
        claim.name,
        claim.tenant,
        claim.project,
        other.tenant,
        other.project,
        other.name,
    )
