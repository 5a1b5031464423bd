"""The page templates: Jinja2 with autoescape on, so every value is text unless we say not.

Nothing in the templates is marked ``|safe``: a file whose content is
``<script>`` arrives as ``&lt;script&gt;``. The filters turn the API's
microsecond times and byte contents into what a person reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

HERE = Path(__file__).resolve().parent
#: Bytes of a file shown on a page; a longer one is cut, saying so.
SHOWN_BYTES = 512 * 1024


def when(us: int) -> str:
    """A time in microseconds as UTC to the second ("" for 0: not yet)."""
    if not us:
        return ""
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def duration(start_us: int, end_us: int) -> str:
    """How long from start to end ("" before it has ended)."""
    if not start_us or not end_us:
        return ""
    s = max(0, end_us - start_us) / 1e6
    return f"{s:.1f}s" if s < 120 else f"{int(s // 60)}m{int(s % 60):02d}s"


def as_text(data: bytes) -> str:
    """A file's bytes as text to show (undecodable bytes replaced; long files cut)."""
    text = data[:SHOWN_BYTES].decode("utf-8", errors="replace")
    if len(data) > SHOWN_BYTES:
        text += f"\n… ({len(data) - SHOWN_BYTES} more bytes not shown)"
    return text


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, as_text=as_text)
    env.globals.update(duration=duration)
    return env


class Pages:
    """Renders a template into a response."""

    def __init__(self) -> None:
        self.env = environment()

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        signed_in = bool(context.pop("signed_in", True))

        def url_for(route: str, **params: Any) -> str:
            return str(request.app.url_path_for(route, **params))  # a path: no host named

        html = self.env.get_template(name).render(
            request=request, signed_in=signed_in, url_for=url_for, **context
        )
        return HTMLResponse(html, status_code=status_code)
