"""A project through time: the replay slider (tree and file at a point, a diff of two
points) and the audit page (who changed a file, when and why; the hash chain's check).

A point is the Nth change of the project (its Nth StateChange event, 1 first):
the slider moves over those, since only they change the tree. Trees and files
are the API's ``ListFiles``/``ReadFile`` at that event, the reads ``swarm
replay`` makes through a daemon, so the page shows what a replay writes.
"""

from __future__ import annotations

import difflib

from starlette.requests import Request
from starlette.responses import Response

from swarm.client import AuditRow, GrpcClient, Query, Tree
from swarm.web._pages import project_of
from swarm.web._render import as_text
from swarm.web._state import web_of

#: Lines of context around each change of a diff between two points.
CONTEXT = 3


def _int(request: Request, name: str, default: int, top: int) -> int:
    """A query parameter as a point number in 1..top (``default`` when absent or unreadable)."""
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        value = default
    return min(max(value, 1), max(top, 1))


def points(client: GrpcClient, project: str) -> list[AuditRow]:
    """The project's changes, oldest first: the points the slider moves over."""
    return client.query_audit(project, Query(kind="state_change"))


def tree_diff(client: GrpcClient, project: str, old: Tree, new: Tree) -> list[tuple[str, str]]:
    """(path, unified diff) of each file that differs between two trees."""
    before = {f.path: f.sha256 for f in old.files}
    after = {f.path: f.sha256 for f in new.files}
    diffs = []
    for path in sorted(before.keys() | after.keys()):
        if before.get(path) == after.get(path):
            continue
        a = as_text(client.read_file(project, path, old.at).content) if path in before else ""
        b = as_text(client.read_file(project, path, new.at).content) if path in after else ""
        lines = difflib.unified_diff(
            a.splitlines(keepends=True),
            b.splitlines(keepends=True),
            f"a/{path}" if path in before else "/dev/null",
            f"b/{path}" if path in after else "/dev/null",
            n=CONTEXT,
        )
        diffs.append((path, "".join(lines)))
    return diffs


def replay(request: Request) -> Response:
    web = web_of(request)
    client = web.client(request)
    project = project_of(client, request.path_params["project"]).project
    changes = points(client, project)
    n = len(changes)
    step = _int(request, "step", n, n)
    at = changes[step - 1].versionstamp if changes else None
    tree = client.list_files(project, at)
    path = request.query_params.get("file", "")
    shown = None
    if path and any(f.path == path for f in tree.files):
        shown = as_text(client.read_file(project, path, tree.at).content)
    diffs = None
    a, b = request.query_params.get("from"), request.query_params.get("to")
    if a is not None and b is not None and changes:
        i, j = _int(request, "from", 1, n), _int(request, "to", n, n)
        old = client.list_files(project, changes[i - 1].versionstamp)
        new = client.list_files(project, changes[j - 1].versionstamp)
        diffs = (i, j, tree_diff(client, project, old, new))
    return web.pages.render(
        request,
        "replay.html",
        project=project,
        changes=changes,
        step=step,
        point=changes[step - 1] if changes else None,
        tree=tree,
        path=path,
        shown=shown,
        diffs=diffs,
    )


def audit(request: Request) -> Response:
    web = web_of(request)
    client = web.client(request)
    project = project_of(client, request.path_params["project"]).project
    path = request.query_params.get("path", "").strip()
    whys = client.who_changed(project, path, since_us=None, until_us=None) if path else []
    files = client.list_files(project, None).files
    report = client.verify(project)
    return web.pages.render(
        request,
        "audit.html",
        project=project,
        path=path,
        whys=whys,
        files=files,
        report=report,
    )
