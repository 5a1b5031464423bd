"""Coders record why (issue 13): ``swarm audit who FILE`` after a real mission shows the
request, the coder's own rationale for the change, and the critic's verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarm.cli import main


def test_audit_who_shows_the_request_the_coders_why_and_the_verdict(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["mission", "rename", "--repo", str(repo), "calculate_total", "compute_order_total"]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert main(["audit", "who", "--repo", str(repo), "shop/pricing.py", "--json"]) == 0
    whys = json.loads(capsys.readouterr().out)
    mine = [w for w in whys if w["change"]["agent"].startswith("coder-")]
    assert len(mine) == 1, whys
    (w,) = mine
    assert w["request"] == "rename new=compute_order_total old=calculate_total"
    decision = w["decision"]
    assert decision["agent"] == w["change"]["agent"]  # the coder's own Decision, not a check's
    why = decision["summary"]
    assert "renamed" in why and "calculate_total" in why and "compute_order_total" in why
    assert "shop/pricing.py" in why and "edit-" in why
    assert "parses cleanly" not in why
    assert w["verdict_outcome"] == "accept"
    assert w["verdict"]["agent"] == "critic-1"
    assert "no regressions" in w["verdict"]["summary"]
    # The import step names its mission's request; no decision led to it, nothing judged it.
    imported = [w for w in whys if w["change"]["agent"] == "orchestrator-1"]
    assert imported and all(i["request"] == w["request"] for i in imported)
    assert all(i["decision"] is None and i["verdict"] is None for i in imported)

    assert main(["audit", "who", "--repo", str(repo), "shop/pricing.py"]) == 0
    text = capsys.readouterr().out
    assert "request: rename new=compute_order_total old=calculate_total" in text
    assert f"why: {why[:40]}" in text
    assert "verdict: accept: no regressions" in text


def test_a_change_the_critic_rejected_names_the_rejection(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A patch that breaks a passing test: the critic rejects it and compensates.
    pricing = (repo / "shop" / "pricing.py").read_text()
    broken = pricing.replace("return", "return 0 *", 1)
    assert broken != pricing
    diff = tmp_path / "break.diff"
    lines = [ln for ln in pricing.splitlines() if "return" in ln]
    target = lines[0]
    number = pricing.splitlines().index(target) + 1
    diff.write_text(
        "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n"
        f"@@ -{number},1 +{number},1 @@\n-{target}\n+{target.replace('return', 'return 0 *', 1)}\n"
    )
    code = main(["mission", "patch", "--repo", str(repo), str(diff), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["verdict"] == "rejected", report
    assert main(["audit", "who", "--repo", str(repo), "shop/pricing.py", "--json"]) == 0
    whys = json.loads(capsys.readouterr().out)
    (edit,) = [w for w in whys if w["change"]["agent"].startswith("coder-")]
    assert edit["decision"]["agent"] == edit["change"]["agent"]
    assert edit["request"].startswith("patch diff=--- a/shop/pricing.py ...")
    assert edit["verdict_outcome"] == "reject"
    assert edit["verdict"]["summary"].startswith("regressions:")


def test_a_coders_lock_signals_name_its_role_and_mission(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock a coder takes and gives back is recorded as the coder's, in its mission
    (issue 13: lock signals said role ``unspecified`` and no mission)."""
    code = main(
        ["mission", "rename", "--repo", str(repo), "calculate_total", "compute_order_total"]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    args = ["audit", "events", "--repo", str(repo), "--path", "shop/pricing.py", "--json"]
    assert main([*args, "--type", "signal"]) == 0
    rows = json.loads(capsys.readouterr().out)
    locks = [r for r in rows if "lock" in r["summary"].lower()]
    assert len(locks) >= 2, rows  # acquired, released
    assert all(r["agent"].startswith("coder-") and r["role"] == "coder" for r in locks), locks
    missions = {r["mission"] for r in locks}
    assert len(missions) == 1 and "" not in missions, locks
    assert main(["audit", "events", "--repo", str(repo), "--role", "coder", "--json"]) == 0
    coders = json.loads(capsys.readouterr().out)
    assert {r["event_id"] for r in locks} <= {r["event_id"] for r in coders}
