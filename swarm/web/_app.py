"""``build_app``: mission control's routes, with its cross-cutting concerns in one place.

Security headers and the cross-site form check are one middleware
(``_security``); a refused API call becomes a page by one exception handler
(``STATUS_PAGES``), and a missing session a redirect to the sign-in form by
another, so no view maps errors itself. The views live in ``_pages``
(projects, missions, one mission, evidence), ``_history`` (replay, audit)
and ``_live`` (the timeline's event stream).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from swarm.client import ClientError
from swarm.web import _history, _live, _login, _pages
from swarm.web._connect import Daemon
from swarm.web._render import HERE, Pages
from swarm.web._security import SecurityHeaders
from swarm.web._session import COOKIE, Sessions, SignInNeeded
from swarm.web._state import Web, web_of

#: A refusal's page: (HTTP status, what the page says). A project the token cannot read is
#: "not found" whichever refusal the API gave, so the page tells nothing of whether it exists.
STATUS_PAGES: dict[str, tuple[int, str]] = {
    "NOT_FOUND": (404, "Not found, or not readable with your token."),
    "PERMISSION_DENIED": (404, "Not found, or not readable with your token."),
    "INVALID_ARGUMENT": (400, "The request was not understood."),
    "FAILED_PRECONDITION": (409, "The daemon cannot answer that now."),
    "DATA_LOSS": (500, "The ledger's hash chain does not hold here."),
}


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClientError)
    web = web_of(request)
    if exc.code == "UNAUTHENTICATED":  # revoked or expired since sign-in
        web.sessions.close(request.cookies.get(COOKIE, ""))
        return _to_sign_in(request, "Your token is no longer accepted: sign in again.")
    status, says = STATUS_PAGES.get(exc.code, (502, "The daemon refused the request."))
    detail = exc.detail if exc.code == "INVALID_ARGUMENT" else ""
    return web.pages.render(
        request, "error.html", status, status=status, says=says, code=exc.code, detail=detail
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    says = "Not found, or not readable with your token." if exc.status_code == 404 else ""
    return web_of(request).pages.render(
        request,
        "error.html",
        exc.status_code,
        status=exc.status_code,
        says=says or str(exc.detail),
        code="",
        detail="",
    )


async def _sign_in_needed(request: Request, exc: Exception) -> Response:
    return _to_sign_in(request, "")


def _to_sign_in(request: Request, note: str) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    params = {"next": target, **({"note": note} if note else {})}
    login = URL(str(request.app.url_path_for("login"))).include_query_params(**params)
    response = RedirectResponse(str(login), status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def build_app(
    daemon: Daemon, *, secure_cookie: bool, sessions: Sessions | None = None
) -> Starlette:
    """The ASGI app of mission control over ``daemon``'s API."""
    routes = [
        Route("/", _pages.home, name="home"),
        Route("/login", _login.form, methods=["GET"], name="login"),
        Route("/login", _login.sign_in, methods=["POST"], name="sign_in"),
        Route("/logout", _login.sign_out, methods=["POST"], name="logout"),
        Route("/projects", _pages.projects, name="projects"),
        Route("/p/{project}", _pages.missions, name="missions"),
        Route("/p/{project}/m/{mission}", _pages.mission, name="mission"),
        Route("/p/{project}/m/{mission}/review", _pages.review, name="review"),
        Route("/p/{project}/m/{mission}/events", _live.events, name="events"),
        Route("/p/{project}/e/{versionstamp}", _pages.evidence, name="evidence"),
        Route("/p/{project}/replay", _history.replay, name="replay"),
        Route("/p/{project}/audit", _history.audit, name="audit"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            ClientError: _refused,
            SignInNeeded: _sign_in_needed,
            HTTPException: _http_error,
        },
    )
    app.state.web = Web(daemon, sessions or Sessions(), Pages(), secure_cookie)
    return app
