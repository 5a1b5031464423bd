"""The read views: the tenant's projects, a project's missions, one mission, its review.

Each view is a few ``Client`` reads made as the signed-in person and one
template; a refused read raises ``ClientError``, which ``_app`` turns into
the page for its status.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from swarm.client import ChangeWhy, ClientError, EventInfo, GrpcClient, ProjectInfo, TicketInfo
from swarm.client._browse import EXCHANGE_KINDS, TEST_RUN_KINDS
from swarm.web._state import web_of

#: A change, the ChangeWhy the audit gives for it, and the Decision event behind it.
Reviewed = tuple[EventInfo, ChangeWhy | None, EventInfo | None]
#: Timeline rows rendered with a mission's page; earlier ones are a link away.
PAGE = 200
#: Events read per History call when a review walks a mission.
_HISTORY_PAGE = 10_000
#: Test outcomes that are not failures.
_PASSING = frozenset({"passed", "skipped", "xfailed"})


def home(request: Request) -> Response:
    return RedirectResponse(request.url_for("projects"), status_code=303)


def project_of(client: GrpcClient, name: str) -> ProjectInfo:
    """The named project of the token's tenant; NOT_FOUND if it has none by that name."""
    for p in client.list_projects():
        if p.project == name:
            return p
    raise ClientError("NOT_FOUND", f"project {name!r}")


def projects(request: Request) -> Response:
    web = web_of(request)
    listed = web.client(request).list_projects()
    tenant = listed[0].tenant if listed else ""
    return web.pages.render(request, "projects.html", projects=listed, tenant=tenant)


def missions(request: Request) -> Response:
    web = web_of(request)
    client = web.client(request)
    project = project_of(client, request.path_params["project"])
    listed = client.list_missions(project.project)
    return web.pages.render(
        request, "missions.html", project=project, missions=list(reversed(listed))
    )


def depths(tickets: tuple[TicketInfo, ...]) -> list[list[TicketInfo]]:
    """The DAG in columns: a ticket one column right of the deepest ticket it depends on."""
    by_id = {t.id: t for t in tickets}
    depth: dict[str, int] = {}

    def of(tid: str, seen: frozenset[str]) -> int:
        if tid in depth:
            return depth[tid]
        deps = [d for d in by_id[tid].depends_on if d in by_id and d not in seen]
        depth[tid] = 1 + max((of(d, seen | {tid}) for d in deps), default=-1)
        return depth[tid]

    columns: list[list[TicketInfo]] = []
    for t in tickets:
        d = of(t.id, frozenset())
        while len(columns) <= d:
            columns.append([])
        columns[d].append(t)
    return columns


def mission(request: Request) -> Response:
    """The mission, its DAG, and one page of its timeline: the newest ``PAGE`` events, or
    the ``PAGE`` before ``?before=CURSOR``. Only that page is read (the mission's index, newest
    first), so a mission of thousands of events loads as fast as a short one."""
    web = web_of(request)
    client = web.client(request)
    project, mid = request.path_params["project"], request.path_params["mission"]
    m = client.get_mission(project, mid)
    before = request.query_params.get("before", "")
    lines = client.mission_events(project, mid, before=before, limit=PAGE + 1, newest=True)
    more = len(lines) > PAGE
    lines = lines[-PAGE:]
    live = not before and not m.finished
    return web.pages.render(
        request,
        "mission.html",
        project=project,
        m=m,
        columns=depths(m.tickets),
        lines=lines,
        earlier=lines[0].versionstamp if more and lines else None,
        newest=not before,
        live=live,
        after=lines[-1].versionstamp if lines else "",
    )


def _all_events(client: GrpcClient, project: str, mid: str) -> list[EventInfo]:
    events: list[EventInfo] = []
    after = ""
    while True:
        page = client.mission_events(project, mid, after=after, limit=_HISTORY_PAGE)
        events.extend(page)
        if len(page) < _HISTORY_PAGE:
            return events
        after = page[-1].versionstamp


def _whys(client: GrpcClient, project: str, changes: list[EventInfo]) -> dict[str, ChangeWhy]:
    """Each change's ``ChangeWhy`` (the Decision behind it), by the change's versionstamp."""
    found: dict[str, ChangeWhy] = {}
    for path in sorted({c.path for c in changes}):
        for why in client.who_changed(project, path, since_us=None, until_us=None):
            found[why.change.versionstamp] = why
    return found


def review(request: Request) -> Response:
    """Each change's diff beside the Decision behind it; the verdict, the failing tests'
    output, and the model exchanges of the mission."""
    web = web_of(request)
    client = web.client(request)
    project, mid = request.path_params["project"], request.path_params["mission"]
    m = client.get_mission(project, mid)
    events = _all_events(client, project, mid)
    by_id = {e.event_id: e for e in events}
    changes = [e for e in events if e.kind == "state_change"]
    whys = _whys(client, project, changes)
    pairs: list[Reviewed] = []
    imported: list[Reviewed] = []
    for c in changes:
        why = whys.get(c.versionstamp)
        decision = by_id.get(why.decision.event_id) if why and why.decision else None
        # The workspace's import (the orchestrator's) is the mission's too, but it is the
        # starting point, not an edit to review: it goes below, folded.
        (imported if c.agent.startswith("orchestrator") else pairs).append((c, why, decision))
    decisions = [e for e in events if e.decision is not None]
    verdicts = [e for e in decisions if e.decision and e.decision.kind == "critic.verdict"]
    runs = []
    for e in decisions:
        if e.decision and e.decision.kind in TEST_RUN_KINDS and e.decision.has_evidence:
            ev = client.evidence(project, e.versionstamp)
            failing = [t for t in ev.tests if t.outcome not in _PASSING]
            runs.append((e, ev, failing))
    exchanges = [
        client.evidence(project, e.versionstamp)
        for e in decisions
        if e.decision and e.decision.kind in EXCHANGE_KINDS and e.decision.has_evidence
    ]
    return web.pages.render(
        request,
        "review.html",
        project=project,
        m=m,
        pairs=pairs,
        imported=imported,
        verdicts=verdicts,
        runs=runs,
        exchanges=exchanges,
    )


def evidence(request: Request) -> Response:
    """One event in full, with its decision's evidence decoded."""
    web = web_of(request)
    client = web.client(request)
    project = request.path_params["project"]
    ev = client.evidence(project, request.path_params["versionstamp"])
    return web.pages.render(request, "evidence.html", project=project, ev=ev)
