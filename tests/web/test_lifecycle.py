"""Mission control stops with the daemon, even while a page follows a running mission."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from tests.daemon.conftest import make_token
from tests.web.conftest import EXIT_GUARD_S, Site, start_serve

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


def test_beyond_loopback_it_is_https_with_the_daemons_certificate(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    token = make_token(url, "acme", "ops")
    (tmp_path / "ws").mkdir()
    proc, ready = start_serve(
        url, tmp_path, tmp_path / "ws", "--tls-cert", str(cert), "--tls-key", str(key),
        http="0.0.0.0:0",
    )  # fmt: skip
    try:
        assert ready["http_url"].startswith("https://")
        base = f"https://127.0.0.1:{ready['http_port']}"
        ctx = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=base, verify=ctx, timeout=60) as web:
            got = web.post("/login", data={"token": token})
            assert got.status_code == 303
            cookie = got.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
            assert web.get("/projects").status_code == 200  # its reads went over TLS gRPC
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{ready['http_port']}/login", timeout=30)
    finally:
        proc.terminate()
        assert proc.wait(EXIT_GUARD_S) == 0
