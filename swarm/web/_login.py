"""The sign-in form: a token in, a session cookie out (``_session``); sign out ends it.

The token is checked by the API itself (one ``ListProjects`` call as it),
so a revoked, expired or SYNC-only token is refused here with the API's
reason, and nothing is stored for it.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from swarm.client import ClientError
from swarm.web._session import COOKIE, IDLE_S
from swarm.web._state import web_of

MAX_FORM_BYTES = 8192


def safe_next(target: str) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/projects"


def form(request: Request) -> Response:
    return web_of(request).pages.render(
        request,
        "login.html",
        signed_in=False,
        next=safe_next(request.query_params.get("next", "")),
        note=request.query_params.get("note", ""),
        error="",
    )


async def sign_in(request: Request) -> Response:
    web = web_of(request)
    body = await request.body()
    fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", errors="replace"))
    token = (fields.get("token") or [""])[0].strip()
    target = safe_next((fields.get("next") or [""])[0])
    try:
        if not token:
            raise ClientError("UNAUTHENTICATED", "no token given")
        await run_in_threadpool(web.daemon.client(token).list_projects)
    except ClientError as exc:
        if exc.code not in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            raise
        return web.pages.render(
            request,
            "login.html",
            401,
            signed_in=False,
            next=target,
            note="",
            error=f"That token was refused: {exc.detail}",
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        web.sessions.open(token),
        max_age=int(IDLE_S),
        path="/",
        httponly=True,
        samesite="strict",
        secure=web.secure_cookie,
    )
    return response


async def sign_out(request: Request) -> Response:
    web_of(request).sessions.close(request.cookies.get(COOKIE, ""))
    response = RedirectResponse(str(request.app.url_path_for("login")), status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
