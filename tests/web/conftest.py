"""A real ``swarm serve --http`` over a real sqlite ledger, and a real Chromium to look at it.

One daemon (gRPC and mission control) serves the folder; tokens are made with
``swarm admin token create`` as an operator would. The browser is Debian's
Chromium driven by Playwright (``.ci/run`` installs it), headless, with an
empty profile and the background-networking switches off: on a closed network
Chromium otherwise keeps trying to reach Google's services.

Screenshots of the main views go to a temporary folder, or to
``$SWARM_SCREENSHOTS`` (``SWARM_SCREENSHOTS=docs/screenshots`` refreshes the
README's pictures).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

import ledger
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from tests.daemon.conftest import make_token

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample_repo"
CHROMIUM = Path(os.environ.get("SWARM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TENANT_A = "acme"
TENANT_B = "bolt"
RENAME = {"old": "calculate_total", "new": "compute_order_total"}
#: How long a stopped daemon may take to exit (a guard, as in tests/daemon).
EXIT_GUARD_S = 120.0
#: How long a condition in the browser may take before the test calls it broken. A guard.
GUARD_MS = 120_000


@dataclass
class Site:
    """The daemon: its gRPC target, mission control's URL, tokens and workspaces."""

    proc: subprocess.Popen[str]
    port: int
    base: str  # http://127.0.0.1:PORT (no trailing slash)
    url: str  # the ledger
    tokens: dict[str, str]
    workspaces: Path
    shots: Path
    channels: list[grpc.Channel] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stub(self) -> Any:
        channel = grpc.insecure_channel(self.target)
        self.channels.append(channel)
        return api_grpc.SwarmStub(channel)

    def md(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def workspace(self, name: str, extra: dict[str, str] | None = None) -> str:
        """A fresh copy of examples/sample_repo under --workspaces, with ``extra`` files."""
        dest = self.workspaces / name
        shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
        for rel, text in (extra or {}).items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_text(text, encoding="utf-8")
        return name

    def submit(self, who: str, project: str, **options: Any) -> str:
        """Submit a rename on workspace ``project`` (same name) and return its mission id."""
        stub = self.stub()
        req = api.SubmitMissionRequest(
            project=api.ProjectRef(project=project),
            kind="rename",
            params=RENAME,
            workspace=project,
            **options,
        )
        return str(stub.SubmitMission(req, metadata=self.md(who), timeout=60).mission_id)

    def finish(self, who: str, project: str, mission_id: str) -> list[Any]:
        """Follow the mission to its end through the API; its events."""
        req = api.FollowMissionRequest(
            project=api.ProjectRef(project=project), mission_id=mission_id
        )
        return list(self.stub().FollowMission(req, metadata=self.md(who), timeout=300))

    def story(self, who: str, project: str, mission_id: str) -> Any:
        req = api.GetMissionRequest(project=api.ProjectRef(project=project), mission_id=mission_id)
        return self.stub().GetMissionStory(req, metadata=self.md(who), timeout=60)


def start_serve(
    url: str, workdir: Path, workspaces: Path, *extra: str, http: str = "127.0.0.1:0"
) -> tuple[subprocess.Popen[str], Any]:
    """``swarm serve --http`` on free ports; the process and its ready line (JSON)."""
    log = workdir / f"serve-{time.monotonic_ns()}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarm", "serve", "--ledger", url, "--listen", "127.0.0.1:0",
         "--http", http, "--workspaces", str(workspaces), "--json", "--grace", "5", *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(30)
        raise AssertionError(f"swarm serve did not start: {log.read_text()}")
    return proc, json.loads(line)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("web")
    url = f"sqlite://{workdir / 'ledger.sqlite'}"
    tokens = {
        "a-ide": make_token(url, TENANT_A, "ide"),
        "a-ops": make_token(url, TENANT_A, "ops"),
        "b-ide": make_token(url, TENANT_B, "ide"),
    }
    workspaces = workdir / "workspaces"
    workspaces.mkdir()
    proc, ready = start_serve(url, workdir, workspaces)
    shots = Path(os.environ.get("SWARM_SCREENSHOTS") or workdir / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    s = Site(
        proc, int(ready["port"]), str(ready["http_url"]).rstrip("/"), url, tokens, workspaces, shots
    )
    try:
        yield s
    finally:
        for ch in s.channels:
            ch.close()
        proc.terminate()
        proc.wait(EXIT_GUARD_S)


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # empty: no state between runs
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(GUARD_MS)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    browser_context.clear_cookies()
    pg = browser_context.new_page()
    try:
        yield pg
    finally:
        pg.close()


def sign_in(page: Any, site: Site, who: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(site.base + "/")
    page.wait_for_selector("#login")
    page.fill("#token", site.tokens[who])
    page.click("#login button[type=submit]")
    page.wait_for_selector("#projects")


def wait_until(check: Any, guard_s: float = 120.0) -> None:
    """Poll ``check`` until it holds (a guard against hanging, not a measure)."""
    end = time.monotonic() + guard_s
    while not check():
        if time.monotonic() > end:
            raise AssertionError("condition not reached within the guard")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def led(site: Site) -> Iterator[ledger.Ledger]:
    """The tests' own handle on the daemon's sqlite file (to append, as other tests do)."""
    handle = ledger.open_ledger(site.url)
    try:
        yield handle
    finally:
        handle.close()
