"""Signing in: a token typed into a form becomes a session cookie that stands for it.

The cookie holds a random session id, never the token; the token stays in
this process's memory (``Sessions``) and is sent on as the bearer of every
API call. The cookie is HttpOnly (no script reads it), SameSite=Strict (no
other site's page sends it) and Secure over HTTPS. Every view is a read, and
the two forms (sign in, sign out) are refused from another origin, so no
cross-site request can act with the cookie.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from starlette.requests import Request

COOKIE = "swarm_session"
#: How long a session lasts without use (the token's own expiry still applies at the API).
IDLE_S = 8 * 3600.0


class SignInNeeded(Exception):
    """The request has no live session: the page sends the browser to the sign-in form."""


class Sessions:
    """Session id → token, in memory: a restarted daemon asks everyone to sign in again."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def open(self, token: str) -> str:
        """A new session for ``token``; its id goes in the cookie."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[sid] = (token, self._clock())
        return sid

    def token(self, sid: str) -> str | None:
        """The session's token, or None when there is none or it has been idle too long."""
        now = self._clock()
        with self._lock:
            found = self._tokens.get(sid)
            if found is None:
                return None
            if now - found[1] > IDLE_S:
                del self._tokens[sid]
                return None
            self._tokens[sid] = (found[0], now)
            return found[0]

    def close(self, sid: str) -> None:
        with self._lock:
            self._tokens.pop(sid, None)


def token_of(request: Request, sessions: Sessions) -> str:
    """The signed-in token of the request (``SignInNeeded`` without one)."""
    token = sessions.token(request.cookies.get(COOKIE, ""))
    if token is None:
        raise SignInNeeded()
    return token
