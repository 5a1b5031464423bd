"""``swarm mcp`` over stdio, driven by the MCP SDK's own client as an IDE drives it."""

from __future__ import annotations

import anyio

from tests.mcp.conftest import Repo, call, mcp_session

TOOLS = {
    "mission_rename",
    "mission_add_param",
    "mission_apply_diff",
    "mission_follow",
    "mission_result",
    "mission_list",
    "replay_tree",
    "replay_file",
    "audit_who_changed",
    "lock_take",
    "lock_release",
}


def test_a_mission_submitted_followed_to_its_end_and_audited(shop: Repo) -> None:
    async def body() -> None:
        async with mcp_session(shop.path, shop.tokens["acme-ide"]) as s:
            listed = await s.list_tools()
            by_name = {t.name: t for t in listed.tools}
            assert set(by_name) == TOOLS
            schema = by_name["mission_rename"].input_schema
            assert schema["required"] == ["old", "new"]
            assert schema["properties"]["coders"]["type"] == "integer"
            err, sub = await call(
                s, "mission_rename", old="calculate_total", new="compute_order_total"
            )
            assert not err, sub
            mid = sub["mission_id"]
            cursor, events, finished = "", [], False
            while not finished:  # guard: a mission of the sample ends in seconds
                err, got = await call(s, "mission_follow", mission_id=mid, after=cursor, wait_s=30)
                assert not err, got
                events += got["events"]
                cursor, finished = got["cursor"], got["finished"]
                assert len(events) < 10_000
            assert [e["versionstamp"] for e in events] == sorted(
                {e["versionstamp"] for e in events}
            )
            err, res = await call(s, "mission_result", mission_id=mid)
            assert not err, res
            assert res["state"] == "succeeded" and res["verdict"] == "accepted"
            assert "shop/pricing.py" in res["files_changed"]
            changed = [e for e in events if e["kind"] == "state_change"]
            assert {e["path"] for e in changed} >= {"shop/pricing.py"}
            err, who = await call(s, "audit_who_changed", path="shop/pricing.py")
            assert not err, who
            mine = [c for c in who["changes"] if c["change"]["mission"] == mid]
            assert mine and mine[-1]["decision"] is not None
            err, now = await call(s, "replay_file", path="shop/pricing.py")
            assert not err and "def compute_order_total" in now["content"]
            # The mission's step just before its first coder's change: the file as it was.
            first = next(i for i, e in enumerate(events) if e["agent"].startswith("coder"))
            err, before = await call(
                s, "replay_file", path="shop/pricing.py", mission=mid, step=first
            )
            assert not err, before
            assert "def calculate_total" in before["content"]
            on_disk = (shop.path / "shop" / "pricing.py").read_text("utf-8")
            assert now["content"] == on_disk

    anyio.run(body)
