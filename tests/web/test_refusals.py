"""What mission control refuses, each with a clear answer and nothing written or leaked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import httpx
import pytest

from proto.swarm.v1 import service_pb2 as api
from tests.daemon.conftest import make_token, swarm_cli
from tests.web.conftest import ROOT, Site


def serve(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swarm", "serve", "--ledger", f"sqlite://{tmp / 'l.sqlite'}",
         "--listen", "127.0.0.1:0", *args],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("listen", "says"),
    [
        ("0.0.0.0:0", "0.0.0.0 is not a loopback address"),
        ("192.0.2.7:8080", "needs HTTPS, so give --tls-cert and --tls-key"),
        ("localhost", "'localhost' is not HOST:PORT"),
        ("127.0.0.1:99999", "is not HOST:PORT"),
    ],
)
def test_serve_refuses_an_http_port_it_should_not_open(
    listen: str, says: str, tmp_path: Path
) -> None:
    done = serve("--http", listen, tmp=tmp_path)
    assert done.returncode != 0
    assert "--http" in done.stderr and says in done.stderr
    assert not (tmp_path / "l.sqlite").exists()  # refused before the ledger was opened


def test_serve_says_when_the_http_port_is_taken_and_exits(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve("--http", f"127.0.0.1:{port}", tmp=tmp_path)
    assert done.returncode != 0
    assert f"--http: cannot bind 127.0.0.1:{port}" in done.stderr


def _signed_in(site: Site, who: str) -> httpx.Client:
    client = httpx.Client(base_url=site.base, timeout=60)
    got = client.post("/login", data={"token": site.tokens[who], "next": "/projects"})
    assert got.status_code == 303 and "swarm_session" in client.cookies
    return client


def test_without_a_session_every_page_sends_to_sign_in(site: Site) -> None:
    with httpx.Client(base_url=site.base, timeout=60) as client:
        for path in ("/projects", "/p/x", "/p/x/m/y", "/p/x/m/y/events", "/p/x/replay"):
            got = client.get(path)
            assert got.status_code == 303, path
            assert got.headers["location"].startswith("/login?next="), path
    with httpx.Client(base_url=site.base, timeout=60, cookies={"swarm_session": "made-up"}) as c:
        assert c.get("/projects").status_code == 303  # a cookie naming no session


def test_a_form_posted_from_another_site_is_refused(site: Site) -> None:
    with httpx.Client(base_url=site.base, timeout=60) as client:
        for headers in ({"sec-fetch-site": "cross-site"}, {"origin": "http://evil.example"}):
            got = client.post("/login", data={"token": site.tokens["a-ops"]}, headers=headers)
            assert got.status_code == 403 and "another site" in got.text
            assert "swarm_session" not in got.headers.get("set-cookie", "")


def test_sign_in_refuses_bad_tokens_with_the_apis_reason(site: Site) -> None:
    sync = make_token(site.url, "acme", "sync")
    with httpx.Client(base_url=site.base, timeout=60) as client:
        for token, says in (
            ("", "no token given"),
            ("swt_nope_nope", "unknown bearer token"),
            (sync, "sync"),
        ):
            got = client.post("/login", data={"token": token})
            assert got.status_code == 401, token
            assert says in got.text and "set-cookie" not in got.headers


def test_after_sign_in_only_a_path_of_this_site(site: Site) -> None:
    with httpx.Client(base_url=site.base, timeout=60) as client:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            got = client.post("/login", data={"token": site.tokens["a-ops"], "next": target})
            assert got.status_code == 303 and got.headers["location"] == "/projects", target


def test_sign_out_ends_the_session_and_a_revoked_token_ends_it_too(site: Site) -> None:
    client = _signed_in(site, "a-ops")
    cookie = client.cookies["swarm_session"]
    assert client.post("/logout").status_code == 303
    again = httpx.get(site.base + "/projects", cookies={"swarm_session": cookie})
    assert again.status_code == 303  # the old cookie names no session now
    token = make_token(site.url, "acme", "ops")
    site.tokens["revoked"] = token
    client = _signed_in(site, "revoked")
    assert client.get("/projects").status_code == 200
    swarm_cli("admin", "token", "revoke", "--ledger", site.url, "--tenant", "acme",
              token.split("_")[1])  # fmt: skip
    got = client.get("/projects")
    assert got.status_code == 303 and "no+longer+accepted" in got.headers["location"]


def test_every_response_carries_the_strict_headers(site: Site) -> None:
    client = _signed_in(site, "a-ops")
    for path in ("/login", "/projects", "/p/nope", "/static/app.js", "/nowhere"):
        got = client.get(path)
        csp = got.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, path
        assert got.headers["x-content-type-options"] == "nosniff", path
        assert got.headers["x-frame-options"] == "DENY", path
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/projects").headers["cache-control"] == "no-store"
    bad = client.get("/p/nope/e/not-a-stamp")
    assert bad.status_code == 400 and "not-a-stamp" not in bad.headers.get("location", "")


def test_read_evidence_gives_a_decisions_blob_and_refuses_other_tenants(site: Site) -> None:
    broken = "def test_broken():\n    assert False, 'evidence-marker'\n"
    project = site.workspace("evidence", {"tests/test_broken.py": broken})
    mid = site.submit("a-ide", project, coders=1)
    events = site.finish("a-ops", project, mid)
    run = next(r for r in events if r.event.decision.kind == "critic.baseline")
    stub = site.stub()
    ref = api.ProjectRef(project=project)
    got = stub.ReadEvidence(
        api.ReadEvidenceRequest(project=ref, versionstamp=run.cursor),
        metadata=site.md("a-ops"),
        timeout=30,
    )
    assert got.record.cursor == run.cursor and b"evidence-marker" in got.evidence
    for who, request, code in (
        ("b-ide", api.ReadEvidenceRequest(project=ref, versionstamp=run.cursor), "NOT_FOUND"),
        (
            "b-ide",
            api.ReadEvidenceRequest(
                project=api.ProjectRef(tenant="acme", project=project), versionstamp=run.cursor
            ),
            "PERMISSION_DENIED",
        ),
        ("a-ops", api.ReadEvidenceRequest(project=ref, versionstamp=""), "INVALID_ARGUMENT"),
        ("a-ops", api.ReadEvidenceRequest(project=ref, versionstamp="zz"), "INVALID_ARGUMENT"),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            stub.ReadEvidence(request, metadata=site.md(who), timeout=30)
        assert refused.value.code().name == code, (who, request)
