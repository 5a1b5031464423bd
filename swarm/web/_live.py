"""The live timeline: a mission's events as server-sent events, resumable by cursor.

Each event is sent with its versionstamp as the SSE ``id``; a browser that
reconnects sends the last one back (``Last-Event-ID``) and the stream starts
after it, so nothing is shown twice or missed. The stream is the API's
``FollowMission``, read as the signed-in person on a pool thread; it ends
with an ``end`` event once the mission has finished (the page then stops
listening). A closed page cancels the API stream at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from swarm.client import ClientError, EventInfo
from swarm.web._state import web_of

_CURSOR = frozenset("0123456789abcdef")


def cursor_of(request: Request) -> str:
    """Where to resume: ``Last-Event-ID`` (a reconnect) over ``?after=`` (the page's last row)."""
    text = request.headers.get("last-event-id") or request.query_params.get("after", "")
    text = text.strip().lower()
    if text and (len(text) != 24 or not set(text) <= _CURSOR):
        raise ClientError("INVALID_ARGUMENT", "the cursor is not a 24-hex-digit versionstamp")
    return text


def line_of(e: EventInfo) -> dict[str, Any]:
    """What the page's script shows of one event (it sets these as text, never as markup)."""
    return {
        "versionstamp": e.versionstamp,
        "time_us": e.time_us,
        "agent": e.agent,
        "kind": e.kind,
        "what": e.what,
        "path": e.path,
        "ticket_id": e.ticket_id,
        "ticket_state": e.ticket_state,
    }


def _frame(e: EventInfo) -> bytes:
    return f"id: {e.versionstamp}\nevent: line\ndata: {json.dumps(line_of(e))}\n\n".encode()


def _next(it: Iterator[EventInfo]) -> EventInfo | None:
    return next(it, None)


async def events(request: Request) -> Response:
    web = web_of(request)
    client = web.client(request)
    project, mid = request.path_params["project"], request.path_params["mission"]
    after = cursor_of(request)
    # Refusals (unknown mission, another tenant's project) become the error page here,
    # before the 200 of a stream is sent.
    await anyio.to_thread.run_sync(client.get_mission, project, mid)

    async def stream() -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        with client.follow(project, mid, after) as records:
            while True:
                # Abandoned if the page goes away: leaving the block cancels the API stream,
                # which wakes the thread.
                e = await anyio.to_thread.run_sync(_next, records, abandon_on_cancel=True)
                if e is None:
                    break
                yield _frame(e)
        yield b"event: end\ndata: {}\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"x-accel-buffering": "no"},
    )
