"""Attacks on the workspace boundary: a tenant owns its workspaces; nothing leaves the root.

Each test runs the attack against a real ``swarm serve`` (tokens made with the
admin CLI, a real sqlite ledger) or the real mission and replay code on real
files, and asserts the refusal names its problem and that a folder outside
the daemon's ``--workspaces`` root is byte-identical afterwards.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

import ledger
import replay
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.brain import EditRequest
from swarm.missions import MissionOptions, RefusedPath, run_mission, start_mission, walk_repo
from swarm.missions._events import signal_event
from swarm.missions._workspace import materialise
from tests.daemon.conftest import ROOT, SAMPLE, DaemonProc, make_token, start_daemon
from tests.security._outside import Outside, tree_digest

A, B = "acme", "bolt"
RENAME = {"old": "calculate_total", "new": "compute_order_total"}
NO_TESTS = MissionOptions(coders=1, run_tests=False, backoff_s=0.0)


@dataclass
class Hub:
    """One daemon for this module: its ledger, its workspaces root, tokens of two tenants."""

    daemon: DaemonProc
    url: str
    root: Path
    tokens: dict[str, str]

    def md(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def workspace(self, name: str) -> Path:
        dest = self.root / name
        shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
        return dest


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    work = tmp_path_factory.mktemp("hub")
    url = f"sqlite://{work / 'ledger.sqlite'}"
    tokens = {
        "a-ide": make_token(url, A, "ide"),
        "b-ide": make_token(url, B, "ide"),
    }
    root = work / "workspaces"
    root.mkdir()
    daemon = start_daemon(url, work, "--workspaces", str(root), "--max-workspace-files", "200")
    try:
        yield Hub(daemon, url, root, tokens)
    finally:
        daemon.stop()


def _call(hub: Hub, who: str, method: str, request: Any) -> Any:
    stub = hub.daemon.stub()
    return getattr(stub, method)(request, metadata=hub.md(who), timeout=30)


def _refused(hub: Hub, who: str, method: str, request: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        _call(hub, who, method, request)
    return err.value


def _create(hub: Hub, who: str, project: str, workspace: str) -> api.Project:
    req = api.CreateProjectRequest(project=api.ProjectRef(project=project), workspace=workspace)
    created: api.Project = _call(hub, who, "CreateProject", req)
    return created


def _submit(hub: Hub, who: str, project: str, workspace: str, **kw: Any) -> api.Mission:
    req = api.SubmitMissionRequest(
        project=api.ProjectRef(project=project),
        kind=kw.pop("kind", "rename"),
        params=kw.pop("params", RENAME),
        workspace=workspace,
        skip_tests=True,
        coders=1,
        **kw,
    )
    submitted: api.Mission = _call(hub, who, "SubmitMission", req)
    return submitted


def _follow_to_end(hub: Hub, who: str, project: str, mid: str) -> api.Mission:
    """Follow the mission's events to its MISSION_FINISHED, then read it."""
    ref = api.ProjectRef(project=project)
    stub = hub.daemon.stub()
    for _ in stub.FollowMission(
        api.FollowMissionRequest(project=ref, mission_id=mid), metadata=hub.md(who), timeout=120
    ):
        pass
    got: api.Mission = _call(
        hub, who, "GetMission", api.GetMissionRequest(project=ref, mission_id=mid)
    )
    return got


def tracked(repo: Path) -> dict[str, str]:
    """path -> sha256 of the files a mission tracks (the scout's cache under .swarm aside)."""
    return {p: hashlib.sha256((repo / p).read_bytes()).hexdigest() for p in walk_repo(repo)}


def _patch(path: str, text: str = "[core]\n\tfsmonitor = touch /tmp/pwned\n") -> str:
    body = "".join(f"+{line}\n" for line in text.splitlines())
    count = len(text.splitlines())
    return f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{count} @@\n{body}"


# -- tenants own their workspaces ------------------------------------------------------


def test_a_tenant_cannot_run_a_mission_on_another_tenants_workspace(
    hub: Hub, outside: Outside
) -> None:
    theirs = hub.workspace("theirs-shop")
    _create(hub, "b-ide", "shop", "theirs-shop")
    before = tree_digest(theirs)
    _call(
        hub,
        "a-ide",
        "CreateProject",
        api.CreateProjectRequest(project=api.ProjectRef(project="app")),
    )

    err = _refused(hub, "a-ide", "SubmitMission", _submit_request("app", "theirs-shop"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED, err.details()
    assert "belongs to another tenant" in (err.details() or "")
    assert B not in (err.details() or "")  # whose folder it is stays B's business

    # Nothing of B's landed in A's project, so ReadFile on A's own project has none of it.
    ref = api.ProjectRef(project="app")
    read = _refused(hub, "a-ide", "ReadFile", api.ReadFileRequest(project=ref, path="shop/cart.py"))
    assert read.code() == grpc.StatusCode.NOT_FOUND, read.details()
    with ledger.open_ledger(hub.url) as led:  # and the refused submit claimed nothing for A
        assert led.workspace_of(A, "app") is None
    assert tree_digest(theirs) == before
    outside.assert_untouched()


def _submit_request(project: str, workspace: str, **kw: Any) -> api.SubmitMissionRequest:
    return api.SubmitMissionRequest(
        project=api.ProjectRef(project=project),
        kind=kw.pop("kind", "rename"),
        params=kw.pop("params", RENAME),
        workspace=workspace,
        skip_tests=True,
        coders=1,
        **kw,
    )


def test_a_tenant_cannot_register_another_tenants_workspace(hub: Hub, outside: Outside) -> None:
    hub.workspace("bolt-web")
    _create(hub, "b-ide", "web", "bolt-web")
    err = _refused(
        hub,
        "a-ide",
        "CreateProject",
        api.CreateProjectRequest(project=api.ProjectRef(project="web"), workspace="bolt-web"),
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED, err.details()
    assert "another tenant" in (err.details() or "")
    with ledger.open_ledger(hub.url) as led:  # the refusal wrote nothing: A has no such project
        assert "web" not in led.projects(A)
        claim = led.workspace_owner(str(hub.root.resolve()), "bolt-web")
        assert claim is not None and (claim.tenant, claim.project) == (B, "web")
    outside.assert_untouched()


def test_two_projects_on_one_folder_are_refused(hub: Hub, outside: Outside) -> None:
    hub.workspace("shared")
    hub.workspace("second")
    made = _create(hub, "a-ide", "first", "shared")
    assert made.workspace == "shared"

    other = _refused(
        hub,
        "a-ide",
        "CreateProject",
        api.CreateProjectRequest(project=api.ProjectRef(project="other"), workspace="shared"),
    )
    assert other.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "belongs to project 'first'" in (other.details() or "")

    # A project created without a folder cannot take one that is already another's either.
    _call(
        hub,
        "a-ide",
        "CreateProject",
        api.CreateProjectRequest(project=api.ProjectRef(project="bare")),
    )
    err = _refused(hub, "a-ide", "SubmitMission", _submit_request("bare", "shared"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED, err.details()

    # And a project runs on its own folder only.
    err = _refused(hub, "a-ide", "SubmitMission", _submit_request("first", "second"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "owns workspace 'shared'" in (err.details() or "")
    outside.assert_untouched()


def test_a_workspace_that_is_a_symlink_out_of_the_root_is_refused(
    hub: Hub, outside: Outside
) -> None:
    (hub.root / "escape").symlink_to(outside.path, target_is_directory=True)
    for method, request in (
        (
            "CreateProject",
            api.CreateProjectRequest(project=api.ProjectRef(project="escape"), workspace="escape"),
        ),
        ("SubmitMission", _submit_request("escape2", "escape")),
    ):
        err = _refused(hub, "a-ide", method, request)
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED, (method, err.details())
        assert "symlink" in (err.details() or "")
    outside.assert_untouched()


# -- nothing leaves the root -----------------------------------------------------------


def test_a_swarm_symlink_in_a_workspace_is_refused_not_followed(hub: Hub, outside: Outside) -> None:
    repo = hub.workspace("dotswarm")
    (repo / ".swarm").symlink_to(outside.path, target_is_directory=True)
    _create(hub, "a-ide", "dotswarm", "dotswarm")
    err = _refused(hub, "a-ide", "SubmitMission", _submit_request("dotswarm", ""))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
    assert ".swarm is a symlink" in (err.details() or "")
    outside.assert_untouched()


def test_the_mission_code_refuses_a_swarm_symlink_for_its_scout_cache(
    tmp_path: Path, outside: Outside
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    (repo / ".swarm").symlink_to(outside.path, target_is_directory=True)
    with ledger.open_ledger(f"sqlite://{tmp_path / 'l.sqlite'}") as led:
        mid = start_mission(led, A, "p", repo, EditRequest("rename", RENAME), options=NO_TESTS)
        with pytest.raises(RefusedPath) as err:
            run_mission(led, A, "p", mid)
    assert ".swarm is a symlink" in str(err.value)
    outside.assert_untouched()


def test_the_local_cli_never_puts_its_ledger_through_a_swarm_symlink(
    tmp_path: Path, outside: Outside
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    (repo / ".swarm").symlink_to(outside.path, target_is_directory=True)
    proc = subprocess.run(
        [sys.executable, "-m", "swarm", "mission", "rename", "--repo", str(repo),
         "calculate_total", "compute_order_total", "--no-tests"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode != 0
    assert ".swarm is a symlink" in proc.stderr and "--ledger" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    outside.assert_untouched()


def test_links_planted_inside_the_scout_cache_are_never_followed(
    tmp_path: Path, outside: Outside
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    cache = repo / ".swarm" / "scout-cache"
    cache.mkdir(parents=True)
    for i in range(256):  # every first-byte folder of the cache's entries
        (cache / f"{i:02x}").symlink_to(outside.path, target_is_directory=True)
    with ledger.open_ledger(f"sqlite://{tmp_path / 'l.sqlite'}") as led:
        mid = start_mission(led, A, "p", repo, EditRequest("rename", RENAME), options=NO_TESTS)
        report = run_mission(led, A, "p", mid)
    assert report.ok, report.reason  # the cache is skipped, the mission is not
    assert "def compute_order_total" in (repo / "shop" / "pricing.py").read_text()
    outside.assert_untouched()


def test_a_symlinked_folder_inside_the_repo_never_leads_a_write_out(
    hub: Hub, outside: Outside
) -> None:
    repo = hub.workspace("linked")
    (repo / "shop" / "vendor").symlink_to(outside.path, target_is_directory=True)
    before = tracked(repo)
    _create(hub, "a-ide", "linked", "linked")
    mission = _submit(
        hub,
        "a-ide",
        "linked",
        "",
        kind="patch",
        params={"diff": _patch("shop/vendor/evil.py", "x = 1\n")},
    )
    done = _follow_to_end(hub, "a-ide", "linked", mission.mission_id)
    assert done.state == "failed"
    assert "shop/vendor is a symlink" in " ".join([done.reason, *(t.reason for t in done.tickets)])
    assert tracked(repo) == before and (repo / "shop" / "vendor").is_symlink()
    outside.assert_untouched()


def test_the_guard_refuses_every_way_out(tmp_path: Path, outside: Outside) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "out").symlink_to(outside.path, target_is_directory=True)
    (root / "canary-link").symlink_to(outside.path / "canary.txt")
    tree = replay.GuardedTree(root)
    cases = {
        "../outside/canary.txt": "'..'",
        "/etc/passwd": "absolute",
        "a\x00b": "NUL",
        "sub/out/canary.txt": "sub/out is a symlink",
        "sub/out/new/deeper.txt": "sub/out is a symlink",
        "canary-link": "canary-link is a symlink",
        "x" * 256: "at most 255 bytes",
        ".git/config": "version-control",
        "sub/.hg/hgrc": "version-control",
    }
    for path, rule in cases.items():
        with pytest.raises(replay.UnsafePath) as err:
            tree.write(path, b"pwned\n")
        assert rule in str(err.value), (path, str(err.value))
    for path in ("sub/out/canary.txt", "canary-link"):
        with pytest.raises(replay.UnsafePath):
            tree.read(path)
    outside.assert_untouched()


# -- a mission's location comes from the registry, never from an event -----------------


def _forge_mission(url: str, project: str, repo: str, manifest: dict[str, str]) -> str:
    """A MISSION_STARTED naming ``repo`` and ``manifest``, appended with the Python API
    (as an edge's synced log could hold it); no process runs it."""
    mid = "m0badc0ffee1"
    with ledger.open_ledger(url) as led:
        led.create_project(A, project, exist_ok=True)
        # the JSON manifest of a ledger written before missions used replay's format
        blob = led.put_blob(A, json.dumps(manifest).encode())
        started = signal_event(
            mid,
            f"{mid}.started",
            pb.SIGNAL_KIND_MISSION_STARTED,
            "forged",
            {
                "request": json.dumps({"kind": "rename", "params": RENAME}),
                "brain": "rules",
                "brain_settings": "{}",
                "options": json.dumps(dataclasses.asdict(NO_TESTS)),  # the pre-record form
                "manifest": blob.hex,
                "repo": repo,
                "skipped_locked": "[]",
            },
        )
        led.append(A, project, [started])
    return mid


def test_a_forged_repo_attribute_is_never_resumed_by_a_restarted_daemon(
    tmp_path: Path, outside: Outside
) -> None:
    shutil.copytree(SAMPLE, outside.path / "victim", ignore=shutil.ignore_patterns("__pycache__"))
    outside.before = tree_digest(outside.path)
    url = f"sqlite://{tmp_path / 'ledger.sqlite'}"
    make_token(url, A, "ide")
    root = tmp_path / "workspaces"
    root.mkdir()
    mid = _forge_mission(url, "synced", str(outside.path / "victim"), {})

    daemon = start_daemon(url, tmp_path, "--workspaces", str(root))
    try:
        started = [ln for ln in daemon.log_lines() if ln["event"] == "daemon started"]
        assert started and started[0]["resumed_missions"] == []
        skipped = [ln for ln in daemon.log_lines() if ln["event"].startswith("mission not resumed")]
        assert skipped and skipped[0]["missions"] == [mid]
    finally:
        daemon.stop()
    outside.assert_untouched()


def test_a_restarted_daemon_resumes_on_the_registered_folder_and_refuses_a_bad_manifest(
    tmp_path: Path, outside: Outside
) -> None:
    url = f"sqlite://{tmp_path / 'ledger.sqlite'}"
    token = make_token(url, A, "ide")
    root = tmp_path / "workspaces"
    shutil.copytree(SAMPLE, root / "mine", ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    with ledger.open_ledger(url) as led:
        led.create_tenant(A)
        led.create_project(A, "mine", workspace=(str(root.resolve()), "mine"))
        sha = led.put_blob(A, b"pwned\n").hex
    before = tracked(root / "mine")
    mid = _forge_mission(url, "mine", str(outside.path), {"../../outside/canary.txt": sha})

    daemon = start_daemon(url, tmp_path, "--workspaces", str(root))
    try:
        hub = Hub(daemon, url, root, {"a-ide": token})
        done = _follow_to_end(hub, "a-ide", "mine", mid)
        assert done.state == "failed"
        assert "'..' would leave the root" in done.reason
    finally:
        daemon.stop()
    assert tracked(root / "mine") == before
    outside.assert_untouched()


# -- manifests and replay --------------------------------------------------------------


def test_a_manifest_path_traversal_is_refused_by_materialise_replay_and_fork(
    tmp_path: Path, outside: Outside
) -> None:
    bad = "../outside/canary.txt"
    with ledger.open_ledger(f"sqlite://{tmp_path / 'l.sqlite'}") as led:
        led.create_tenant(A)
        led.create_project(A, "p")
        ref = led.put_blob(A, b"pwned\n")
        with pytest.raises(RefusedPath) as err:
            materialise(led, A, {bad: ref.hex}, tmp_path / "snap")
        assert "'..' would leave the root" in str(err.value)

        head = led.head(A, "p")
        assert head is not None
        state = replay.State(head, 0, {bad: replay.Entry(ref.sha256, ref.size)}, None, 0)
        with pytest.raises(replay.UnsafePath):
            replay.materialise(led, A, state, tmp_path / "out")
        assert not (tmp_path / "out").exists()
        with pytest.raises(replay.UnsafePath):
            replay.fork(led, A, "p", state, "forked")
        assert "forked" not in led.projects(A)
        with pytest.raises(replay.UnsafePath):
            replay.write_tree(tmp_path / "out2", {".git/config": b"[core]\n"}, "head")
    outside.assert_untouched()


def test_replay_out_over_a_symlink_is_refused(tmp_path: Path, outside: Outside) -> None:
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    with ledger.open_ledger(url) as led:
        mid = start_mission(led, A, "p", repo, EditRequest("rename", RENAME), options=NO_TESTS)
        assert run_mission(led, A, "p", mid).ok
    link = tmp_path / "out"
    link.symlink_to(outside.path, target_is_directory=True)
    proc = subprocess.run(
        [sys.executable, "-m", "swarm", "replay", "--ledger", url, "--tenant", A,
         "--project", "p", "--out", str(link), "--force"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode != 0
    assert "symlink" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert link.is_symlink()
    outside.assert_untouched()


# -- metadata is never a mission's to write --------------------------------------------


@pytest.mark.parametrize("path", [".git/config", "shop/.git/hooks/post-checkout", ".swarm/x"])
def test_a_patch_to_vcs_metadata_is_refused_at_submit(
    hub: Hub, outside: Outside, path: str
) -> None:
    name = "meta-" + re.sub(r"[^a-z]+", "-", path).strip("-")
    repo = hub.workspace(name)
    before = tree_digest(repo)
    err = _refused(
        hub, "a-ide", "SubmitMission",
        _submit_request(name, name, kind="patch", params={"diff": _patch(path)}),
    )  # fmt: skip
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert path in (err.details() or "") and "version-control or tool metadata" in (
        err.details() or ""
    )
    assert tree_digest(repo) == before
    outside.assert_untouched()


def test_the_mission_code_refuses_a_patch_to_git_config(tmp_path: Path, outside: Outside) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n\tbare = false\n")
    with ledger.open_ledger(f"sqlite://{tmp_path / 'l.sqlite'}") as led:
        request = EditRequest("patch", {"diff": _patch(".git/hooks/pre-commit", "echo pwned\n")})
        mid = start_mission(led, A, "p", repo, request, options=NO_TESTS)
        report = run_mission(led, A, "p", mid)
    assert not report.ok
    text = report.reason + " ".join(report.failed_tickets.values())
    assert ".git/hooks/pre-commit" in text and "version-control or tool metadata" in text
    assert (repo / ".git" / "config").read_text() == "[core]\n\tbare = false\n"
    assert not (repo / ".git" / "hooks").exists()
    outside.assert_untouched()


# -- names and paths are checked at the API edge ---------------------------------------


@pytest.mark.parametrize(
    "workspace,rule",
    [
        ("a\x00b", "NUL"),
        ("w" * 5000, "at most 255 bytes"),
        ("../outside", "one folder name"),
        (".git", "must not start with '.'"),
        ("tab\there", "control characters"),
    ],
)
def test_bad_workspace_names_are_invalid_argument(
    hub: Hub, outside: Outside, workspace: str, rule: str
) -> None:
    for method, request in (
        ("SubmitMission", _submit_request("names", workspace)),
        (
            "CreateProject",
            api.CreateProjectRequest(project=api.ProjectRef(project="names"), workspace=workspace),
        ),
    ):
        err = _refused(hub, "a-ide", method, request)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, err.details())
        assert rule in (err.details() or "")
        assert len(err.details() or "") < 400  # the name is cut, never echoed whole
    outside.assert_untouched()


def test_a_path_part_over_255_bytes_is_invalid_argument(hub: Hub, outside: Outside) -> None:
    name = "longpart"
    hub.workspace(name)
    ref = api.ProjectRef(project=name)
    _create(hub, "a-ide", name, name)
    long_part = "p" * 300
    err = _refused(
        hub, "a-ide", "ReadFile", api.ReadFileRequest(project=ref, path=f"a/{long_part}")
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 255 bytes" in (err.details() or "")
    err = _refused(
        hub, "a-ide", "SubmitMission",
        _submit_request(name, name, kind="patch", params={"diff": _patch(f"shop/{long_part}.py", "x = 1\n")}),
    )  # fmt: skip
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 255 bytes" in (err.details() or "")
    outside.assert_untouched()


def test_an_import_refused_in_the_missions_thread_ends_the_mission_with_the_reason(
    hub: Hub, outside: Outside
) -> None:
    repo = hub.workspace("oddname")
    (repo / "shop" / "back\\slash.py").write_text("x = 1\n")  # legal on Linux, not in a repo path
    _create(hub, "a-ide", "oddname", "oddname")
    mission = _submit(hub, "a-ide", "oddname", "")
    assert mission.state in ("starting", "failed", "running")
    done = _follow_to_end(hub, "a-ide", "oddname", mission.mission_id)
    assert done.state == "failed"
    assert "back\\\\slash.py" in done.reason and "use '/' as the separator" in done.reason
    with ledger.open_ledger(hub.url) as led:  # the refused import landed no file
        assert [f.path for f in led.files(A, "oddname")] == []
    outside.assert_untouched()


def test_a_workspace_over_the_files_cap_is_refused(hub: Hub, outside: Outside) -> None:
    repo = hub.workspace("huge")
    for i in range(201):
        (repo / f"f{i:04d}.txt").write_text(f"{i}\n")
    _create(hub, "a-ide", "huge", "huge")
    err = _refused(hub, "a-ide", "SubmitMission", _submit_request("huge", ""))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, err.details()
    assert "more than 200 files" in (err.details() or "") and "--max-workspace-files" in (
        err.details() or ""
    )
    with ledger.open_ledger(hub.url) as led:  # nothing was imported
        assert led.files(A, "huge") == []
    outside.assert_untouched()
