"""Mission control stops with the daemon, even while a page follows a running mission."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import EXIT_GUARD_S, Site, make_token, start_serve

pytestmark = pytest.mark.slow


def test_sigterm_with_a_page_following_a_mission_stops_cleanly(tmp_path: Path, site: Site) -> None:
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    token = make_token(url, "acme", "ide")
    workspaces = tmp_path / "ws"
    workspaces.mkdir()
    proc, ready = start_serve(url, tmp_path, workspaces)
    other = Site(
        proc, int(ready["port"]), str(ready["http_url"]).rstrip("/"), url, {"ide": token},
        workspaces, site.shots,
    )  # fmt: skip
    try:
        project = other.workspace("long")
        mid = other.submit("ide", project, skip_tests=True, coders=1, step_delay_s=2.0)
        web = httpx.Client(base_url=other.base, timeout=httpx.Timeout(60, read=EXIT_GUARD_S))
        assert web.post("/login", data={"token": token}).status_code == 303
        first_frame = threading.Event()
        seen: list[str] = []

        def follow() -> None:
            # The daemon ends the response when it stops (a browser's EventSource then
            # reconnects with Last-Event-ID, to the next daemon): closed, not hung.
            with (
                contextlib.suppress(httpx.RemoteProtocolError),
                web.stream("GET", f"/p/{project}/m/{mid}/events") as got,
            ):
                for line in got.iter_lines():
                    seen.append(line)
                    if line.startswith("id: "):
                        first_frame.set()

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        assert first_frame.wait(EXIT_GUARD_S), seen
        proc.terminate()
        assert proc.wait(EXIT_GUARD_S) == 0
        reader.join(EXIT_GUARD_S)
        assert not reader.is_alive()  # the page's stream was closed, not left hanging
    finally:
        for ch in other.channels:
            ch.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
