"""Missions end to end on a copy of examples/sample_repo, with the real sandbox and sqlite."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest, UnknownSymbol
from swarm.missions import (
    InvalidMission,
    UnknownMission,
    load_view,
    mission_story,
    run_mission,
    start_mission,
    walk_repo,
)
from swarm.missions._records import decode_targets
from tests.swarm.missions.conftest import (
    HALF_APPLYING_DIFF,
    ON_BOTH_ENGINES,
    PROJECT,
    TENANT,
    Mission,
    snapshot,
)

pytestmark = ON_BOTH_ENGINES  # sqlite, and sqlite held to FoundationDB's semantics


def test_rename_changes_every_definition_import_and_use_and_the_ledger_tells_the_story(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    mid, report = mission()
    assert report.ok, report
    texts = {p: (repo / p).read_text() for p in walk_repo(repo) if p.endswith(".py")}
    for path, text in texts.items():
        # only the docstring mention in cart.py remains: strings and comments are not code
        code = text.replace("``calculate_total``", "")
        assert "calculate_total" not in code, path
    assert "def compute_order_total(" in texts["shop/pricing.py"]
    assert "from shop.pricing import compute_order_total\n" in texts["shop/cart.py"]
    assert "pricing.compute_order_total(" in texts["shop/cart.py"]
    assert "from shop.pricing import compute_order_total as total_of" in texts["shop/orders.py"]
    assert '__all__ = ["Cart", "compute_order_total"]' in texts["shop/__init__.py"]
    # the sample's tests pass in the sandbox, before and after
    assert report.tests["baseline"]["passed"] == 7
    assert report.tests["after"]["counts"] == {
        "passed": 7,
        "failed": 0,
        "errors": 0,
        "skipped": 0,
        "could_not_run": 0,
    }
    assert set(report.files_changed) == {
        "shop/__init__.py",
        "shop/cart.py",
        "shop/orders.py",
        "shop/pricing.py",
        "tests/test_cart.py",
        "tests/test_pricing.py",
    }
    # the ledger's heads are the workspace
    heads = {f.path: f.sha256.hex() for f in mled.files(TENANT, PROJECT)}
    assert heads == snapshot(repo)
    # the full story per file: who decided, which change, under which lock, which verdict
    view = load_view(mled, TENANT, PROJECT, mid)
    scout = view.decision("scout.targets")[0]
    targets = decode_targets(mled.get_blob(TENANT, scout.event.decision.detail.sha256))
    assert sorted(targets) == sorted(report.files_changed)
    for path in report.files_changed:
        story = mled.history(TENANT, PROJECT, path=path)
        kinds = [(r.kind, r.event.agent_id) for r in story]
        change = [
            r for r in story if r.kind == "state_change" and r.event.agent_id.startswith("coder-")
        ]
        assert len(change) == 1, kinds
        sc = change[0].event.state_change
        assert sc.unified_diff.startswith(f"--- a/{path}") and "+" in sc.unified_diff
        assert mled.get_blob(TENANT, sc.new_sha256) == (Path(repo) / path).read_bytes()
        grants = [
            r
            for r in story
            if r.kind == "signal" and r.event.signal.kind == pb.SIGNAL_KIND_LOCK_ACQUIRED
        ]
        assert any(
            g.event.agent_id == change[0].event.agent_id or g.event.signal.attributes
            for g in grants
        )
        assert sc.fencing_token  # written under its lock
    verdicts = view.decision("critic.verdict")
    assert [v.event.decision.outcome for v in verdicts] == ["accept"]
    assert len(view.decision("critic.syntax")) == len(report.files_changed)
    tests = view.decision("critic.tests")
    assert {t.event.decision.outcome for t in tests} == {"pass"}
    told = mission_story(mled, TENANT, PROJECT, view)
    assert [t["state"] for t in told["dag"]] == ["done"] * len(told["dag"])
    assert told["story"][-1]["kind"] == "signal"


def test_a_breaking_patch_is_rejected_and_the_workspace_is_byte_identical(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    diff = (
        "--- a/shop/pricing.py\n+++ b/shop/pricing.py\n@@ -9,3 +9,3 @@\n"
        '     """Sum the prices and apply tax, rounded to cents."""\n'
        "-    return round(sum(prices) * (1.0 + tax), 2)\n"
        "+    return round(sum(prices) * (1.0 - tax), 2)\n"
        " \n"
    )
    mid, report = mission(EditRequest("patch", {"diff": diff}), critic_rounds=1)
    assert report.outcome == "failed"
    assert "critic rejected" in report.reason
    assert "test_total_with_tax" in report.reason
    assert snapshot(repo) == before
    heads = {f.path: f.sha256.hex() for f in mled.files(TENANT, PROJECT)}
    assert heads == before
    view = load_view(mled, TENANT, PROJECT, mid)
    changes = [c for c in view.changes if c.path == "shop/pricing.py"]
    edits = [c for c in changes if c.agent_id.startswith("coder-")]
    reverts = [c for c in changes if c.reverts]
    assert len(edits) == 1  # a patch is fixed text: a retry would apply it again
    assert [r.reverts for r in reverts] == [edits[0].event_id]
    assert [v.event.decision.outcome for v in view.decision("critic.verdict")] == ["reject"]
    assert "not retried" in report.reason


def test_a_syntax_error_is_rejected_at_once_and_nothing_is_written(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    diff = (
        "--- a/shop/discounts.py\n+++ b/shop/discounts.py\n@@ -6,2 +6,2 @@\n"
        " def percent_off(amount: float, percent: float) -> float:\n"
        '-    """``amount`` less ``percent`` per cent."""\n'
        "+    return (\n"
    )
    mid, report = mission(EditRequest("patch", {"diff": diff}))
    assert report.outcome == "failed"
    assert "syntax error in the edit of shop/discounts.py" in report.reason
    assert snapshot(repo) == before
    view = load_view(mled, TENANT, PROJECT, mid)
    assert not [c for c in view.changes if c.agent_id.startswith("coder-")]
    assert view.decision("critic.syntax")[0].event.decision.outcome == "reject"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            EditRequest(
                "patch", {"diff": "--- a/../outside.py\n+++ b/../outside.py\n@@ -1 +1 @@\n-a\n+b\n"}
            ),
            "outside the repository",
        ),
    ],
    ids=["path-outside-repo"],
)
def test_bad_requests_fail_the_scout_ticket_with_the_reason_and_change_nothing(
    mission: Mission, repo: Path, request_: EditRequest, expected: str
) -> None:
    before = snapshot(repo)
    _, report = mission(request_)
    assert report.outcome == "failed"
    assert expected in report.failed_tickets["scout"]
    assert report.files_changed == ()
    assert snapshot(repo) == before
    assert not (repo.parent / "outside.py").exists()


@pytest.mark.parametrize(
    ("old", "error"),
    [("no_such_thing", UnknownSymbol), ("unit_prise", UnknownSymbol)],
    ids=["unknown", "mistyped"],
)
def test_an_unknown_symbol_is_refused_before_anything_is_written(
    mled: ledger.Ledger, repo: Path, old: str, error: type[Exception]
) -> None:
    before = snapshot(repo)
    with pytest.raises(error) as refused:
        start_mission(mled, TENANT, PROJECT, repo, EditRequest("rename", {"old": old, "new": "x"}))
    assert old in str(refused.value)
    if old == "unit_prise":
        assert "did you mean unit_price" in str(refused.value)
    with pytest.raises(ledger.UnknownTenant):  # not even the tenant was created
        mled.projects(TENANT)
    assert snapshot(repo) == before


def test_a_diff_that_does_not_apply_fails_its_ticket_and_rolls_back_the_rest(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    mid, report = mission(EditRequest("patch", {"diff": HALF_APPLYING_DIFF}), coders=1)
    assert report.outcome == "failed"
    failed = report.failed_tickets
    assert any("PatchDoesNotApply" in why and "shop/pricing.py" in why for why in failed.values())
    assert snapshot(repo) == before  # discounts.py's change was compensated
    view = load_view(mled, TENANT, PROJECT, mid)
    landed = [
        c for c in view.changes if c.path == "shop/discounts.py" and c.agent_id.startswith("coder-")
    ]
    undone = [c for c in view.changes if c.reverts]
    assert len(landed) == 1 and undone and undone[0].reverts == landed[0].event_id


def test_a_policy_that_denies_the_plan_fails_it_with_every_problem_named(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    mid, report = mission(policies=("deny:tests/*", "max-files:2"))
    assert report.outcome == "failed"
    why = report.failed_tickets["scout"]
    assert (
        "protected path tests/test_cart.py" in why and "protected path tests/test_pricing.py" in why
    )
    assert "over the cap of 2" in why
    assert snapshot(repo) == before
    denial = load_view(mled, TENANT, PROJECT, mid).decision("policy.deny")
    assert denial and "invalid plan" in denial[0].event.decision.rationale


def test_an_unreachable_model_fails_the_mission_with_the_reason_on_record(
    mission: Mission, mled: ledger.Ledger, repo: Path
) -> None:
    before = snapshot(repo)
    mid, report = mission(
        EditRequest("ask", {"prompt": "make it faster"}),
        brain="openai",
        brain_settings={"base_url": "http://127.0.0.1:9", "model": "tiny", "timeout_s": 2.0},
        edit_retries=1,
    )
    assert report.outcome == "failed"
    # An ask runs as the coder's loop (ADR 0015): its ticket asks, and fails with the reason.
    assert "unreachable" in report.failed_tickets["model"]
    assert snapshot(repo) == before
    view = load_view(mled, TENANT, PROJECT, mid)
    recorded = view.decision("model.exchange")
    assert [r.event.decision.outcome for r in recorded] == ["failed"]
    assert recorded[0].event.decision.attributes["model"] == "tiny"


def test_refusals_before_start_write_nothing(
    mled: ledger.Ledger, repo: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidMission, match="not a directory"):
        start_mission(
            mled,
            TENANT,
            PROJECT,
            tmp_path / "nope",
            EditRequest("rename", {"old": "a", "new": "b"}),
        )
    from swarm.brain import InvalidRequest

    with pytest.raises(InvalidRequest):
        start_mission(
            mled, TENANT, PROJECT, repo, EditRequest("rename", {"old": "a", "new": "not valid"})
        )
    with pytest.raises(InvalidRequest, match="base_url"):
        start_mission(
            mled, TENANT, PROJECT, repo, EditRequest("ask", {"prompt": "x"}), brain="openai"
        )
    with pytest.raises(InvalidMission, match="mission id"):
        start_mission(
            mled,
            TENANT,
            PROJECT,
            repo,
            EditRequest("rename", {"old": "a", "new": "b"}),
            mission_id="../x",
        )
    assert mled.tenants() == []  # nothing was written
    with pytest.raises(UnknownMission, match="no mission"):
        run_mission(mled, TENANT, PROJECT, "m0000000000")


def test_a_finished_mission_runs_no_further_and_reports_the_same(
    mission: Mission, mled: ledger.Ledger
) -> None:
    mid, report = mission(run_tests=False)
    events = mled.project_info(TENANT, PROJECT).events
    again = run_mission(mled, TENANT, PROJECT, mid)
    assert again.outcome == report.outcome and again.files_changed == report.files_changed
    assert mled.project_info(TENANT, PROJECT).events == events


def test_the_workspace_is_reconciled_with_the_ledger_on_resume(
    mled: ledger.Ledger, repo: Path
) -> None:
    from swarm.missions import MissionOptions

    mid = start_mission(
        mled,
        TENANT,
        PROJECT,
        repo,
        EditRequest("rename", {"old": "unit_price", "new": "price_each"}),
        options=MissionOptions(coders=1, run_tests=False),
    )
    (repo / "shop" / "pricing.py").write_text("garbage that the ledger never saw\n")
    report = run_mission(mled, TENANT, PROJECT, mid)
    assert report.ok, report
    text = (repo / "shop" / "pricing.py").read_text()
    assert "def price_each(" in text and "garbage" not in text
    state = mled.file_state(TENANT, PROJECT, "shop/pricing.py")
    assert state is not None and hashlib.sha256(text.encode()).digest() == state.sha256
