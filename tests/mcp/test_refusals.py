"""What ``swarm mcp`` refuses: another tenant's project, paths that leave the repository,
unknown projects and cursors, a role too low, bad tokens. Each refusal is an error result
naming the problem, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys

import anyio

import ledger
from tests.mcp.conftest import ROOT, Repo, call, mcp_session, quick_mission

DIFF_OUT = """--- a/../outside.py
+++ b/../outside.py
@@ -0,0 +1 @@
+print("escaped")
"""


def _events_of(repo: Repo, tenant: str, project: str) -> int:
    led = ledger.open_ledger(f"sqlite://{repo.path}/.swarm/ledger.sqlite", create=False)
    try:
        return sum(1 for _ in led.iter_events(tenant, project))
    finally:
        led.close()


def _projects(repo: Repo, tenant: str) -> list[str]:
    led = ledger.open_ledger(f"sqlite://{repo.path}/.swarm/ledger.sqlite", create=False)
    try:
        return led.projects(tenant)
    finally:
        led.close()


def test_another_tenants_project_is_not_reachable(shop: Repo) -> None:
    async def body() -> None:
        async with mcp_session(shop.path, shop.tokens["acme-ide"]) as s:
            mid = await quick_mission(s)
        async with mcp_session(shop.path, shop.tokens["rival-ide"]) as s:
            for tool, args in (
                ("mission_result", {"mission_id": mid}),
                ("mission_follow", {"mission_id": mid, "wait_s": 0}),
                ("mission_list", {}),
                ("audit_who_changed", {"path": "shop/pricing.py"}),
                ("replay_file", {"path": "shop/pricing.py"}),
                ("lock_take", {"path": "shop/pricing.py", "holder": "human:eve"}),
            ):
                err, text = await call(s, tool, project="shop", **args)
                assert err, (tool, text)
                assert "NOT_FOUND" in text and "rival" in text, (tool, text)

    anyio.run(body)
    assert _events_of(shop, "acme", "shop") > 0


def test_bad_inputs_are_refused_clearly_and_write_nothing(shop: Repo) -> None:
    async def body() -> None:
        async with mcp_session(shop.path, shop.tokens["acme-ide"]) as s:
            for tool, args, words in (
                ("replay_file", {"path": "../../etc/passwd"}, "'..' would leave the root"),
                ("replay_file", {"path": "/etc/passwd"}, "must be relative"),
                ("audit_who_changed", {"path": "shop/../../x"}, "'..' would leave the root"),
                ("lock_take", {"path": "../x", "holder": "human:ann"}, "'..'"),
                ("lock_take", {"path": "shop/cart.py", "holder": "coder-1"}, "human:<name>"),
                ("mission_apply_diff", {"diff": DIFF_OUT}, "the diff writes '../outside.py'"),
                ("mission_follow", {"mission_id": "m123456", "after": "zz"}, "cursor"),
                ("replay_tree", {"at": "not a time"}, "at 'not a time'"),
                ("mission_result", {"mission_id": "m123456", "project": "nope"}, "NOT_FOUND"),
                ("mission_rename", {"old": "a", "new": "b", "project": "other"}, "project 'other'"),
                ("mission_rename", {"old": "no_such_symbol", "new": "b"}, "INVALID_ARGUMENT"),
            ):
                err, text = await call(s, tool, **args)
                assert err, (tool, text)
                assert words in text, (tool, text)
            err, text = await call(s, "mission_rename", old="calculate_total", new="x", coders=0)
            assert err and "coders" in text  # the input schema's own bound
            err, text = await call(s, "mission_list")  # no mission made even the project
            assert err and "NOT_FOUND" in text

    anyio.run(body)
    assert not (shop.path.parent / "outside.py").exists()
    assert "shop" not in _projects(shop, "acme")


def test_an_ops_token_reads_but_does_not_run_or_lock(shop: Repo) -> None:
    async def body() -> None:
        async with mcp_session(shop.path, shop.tokens["acme-ops"]) as s:
            err, text = await call(s, "mission_rename", old="calculate_total", new="x")
            assert err and "PERMISSION_DENIED" in text and "needs ide" in text
            err, text = await call(s, "lock_take", path="shop/cart.py", holder="human:ann")
            assert err and "PERMISSION_DENIED" in text

    anyio.run(body)


def test_a_persons_lock_is_taken_and_released(shop: Repo) -> None:
    async def body() -> None:
        async with mcp_session(shop.path, shop.tokens["acme-ide"]) as s:
            await quick_mission(s)  # the project exists once a mission imported it
            err, lock = await call(s, "lock_take", path="shop/cart.py", holder="human:ann")
            assert not err, lock
            assert lock["holder"] == "human:ann" and lock["token"]
            err, text = await call(s, "lock_take", path="shop/cart.py", holder="human:bob")
            assert err and "human:ann" in text
            err, text = await call(s, "lock_release", path="shop/cart.py", holder="human:ann",
                                   token="00")  # fmt: skip
            assert err
            err, done = await call(s, "lock_release", path="shop/cart.py", holder="human:ann",
                                   token=lock["token"])  # fmt: skip
            assert not err and done["released"]
            err, again = await call(s, "lock_take", path="shop/cart.py", holder="human:bob")
            assert not err, again

    anyio.run(body)


def _start(repo: Repo, *args: str, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SWARM_TOKEN", None)
    if token is not None:
        env["SWARM_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "swarm", "mcp", "--repo", str(repo.path), *args],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip


def test_a_server_without_a_good_token_does_not_start(shop: Repo) -> None:
    cases = (
        ((), None, "needs a bearer token"),
        ((), "swt_nope_nope", "unknown bearer token"),
        ((), "hello", "malformed bearer token"),
        (("--tenant", "acme"), shop.tokens["rival-ide"], "belongs to tenant 'rival'"),
        (("--http", "127.0.0.1:99999"), shop.tokens["acme-ide"], "--http"),
    )
    for args, token, words in cases:
        done = _start(shop, *args, token=token)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr, (args, done.stderr)
        assert done.stdout == ""
