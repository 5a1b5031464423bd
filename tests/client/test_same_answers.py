"""The same questions through LocalClient and GrpcClient give equal answers, and the same refusals."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

import ledger
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from swarm.client import ClientError, LocalClient, MissionRun, Query
from swarm.client import _grpc as client_grpc
from swarm.client._wire import (
    mission_from_pb,
    mission_to_pb,
    row_from_pb,
    row_to_pb,
    story_from_pb,
    story_to_pb,
    verify_from_pb,
    verify_to_pb,
)
from swarm.missions import MissionOptions
from tests.client.conftest import RENAME, Done, Pair
from tests.daemon.conftest import SAMPLE, TENANT_A, World


def test_the_mission_reads_the_same_both_ways(pair: Pair, done: Done) -> None:
    mid = done.report.mission_id
    here = pair.local.get_mission(done.project, mid)
    there = pair.remote.get_mission(done.project, mid)
    assert here == there
    assert here.state == "succeeded" and here.kind == "rename"
    assert "shop/pricing.py" in here.files_changed
    assert here.files_changed == done.report.files_changed


def test_the_list_reads_the_same_both_ways(pair: Pair, done: Done) -> None:
    here = pair.local.list_missions(done.project)
    assert [m.mission_id for m in here] == [done.report.mission_id]
    assert here == pair.remote.list_missions(done.project)


def test_the_story_reads_the_same_both_ways(pair: Pair, done: Done, world: World) -> None:
    mid = done.report.mission_id
    here = pair.local.mission_story(done.project, mid)
    assert here == pair.remote.mission_story(done.project, mid)
    # Every event of the mission, in log order, and the coders' tickets carry their inputs.
    log = world.led.history(TENANT_A, done.project, mission=mid, limit=10_000)
    assert [line.versionstamp for line in here.story] == [str(r.versionstamp) for r in log]
    coders = [t for t in here.mission.tickets if t.kind == "coder"]
    assert coders and all(t.inputs.get("path") for t in coders)
    # get_mission leaves the inputs out (a patch's ticket may carry a whole diff).
    assert all(not t.inputs for t in pair.remote.get_mission(done.project, mid).tickets)


@pytest.mark.parametrize(
    "q",
    [
        Query(),
        Query(kind="state_change"),
        Query(role="coder"),
        Query(agent="critic-1", kind="decision"),
        Query(path="shop/pricing.py"),
        Query(text="rename"),
        Query(kind="ticket", limit=5),
        Query(since_us=0, until_us=2**62),
    ],
    ids=repr,
)
def test_audit_queries_answer_the_same_both_ways(pair: Pair, done: Done, q: Query) -> None:
    here = pair.local.query_audit(done.project, q)
    assert here, q
    assert here == pair.remote.query_audit(done.project, q)


def test_audit_pages_through_the_daemon_give_every_row_once(
    pair: Pair, done: Done, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_grpc, "AUDIT_PAGE", 7)
    here = pair.local.query_audit(done.project, Query())
    assert len(here) > 3 * 7  # several pages
    assert pair.remote.query_audit(done.project, Query()) == here
    assert pair.remote.query_audit(done.project, Query(limit=16)) == here[:16]
    mission = Query(mission=done.report.mission_id, kind="decision")
    assert pair.remote.query_audit(done.project, mission) == pair.local.query_audit(
        done.project, mission
    )


def test_who_changed_answers_the_same_both_ways(pair: Pair, done: Done) -> None:
    here = pair.local.who_changed(done.project, "shop/pricing.py", since_us=None, until_us=None)
    assert len(here) >= 2  # imported, then renamed
    assert here == pair.remote.who_changed(
        done.project, "shop/pricing.py", since_us=None, until_us=None
    )
    window = {"since_us": here[-1].change.time_us, "until_us": None}
    assert pair.remote.who_changed(done.project, "shop/pricing.py", **window) == here[-1:]


def test_verify_answers_the_same_both_ways(pair: Pair, done: Done) -> None:
    here = pair.local.verify(done.project)
    assert here.ok and here.records > 0
    assert here == pair.remote.verify(done.project)


def test_each_codec_round_trips_real_answers(pair: Pair, done: Done) -> None:
    mid = done.report.mission_id
    m = pair.local.get_mission(done.project, mid)
    assert mission_from_pb(mission_to_pb(m)) == m
    s = pair.local.mission_story(done.project, mid)
    assert story_from_pb(story_to_pb(s)) == s
    for row in pair.local.query_audit(done.project, Query(limit=50)):
        assert row_from_pb(row_to_pb(row)) == row
    report = pair.local.verify(done.project)
    assert verify_from_pb(verify_to_pb(report)) == report


# refusals --------------------------------------------------------------------------------
def _refusal(call: Callable[..., object], *args: object, **kwargs: object) -> ClientError:
    """The ClientError ``call(*args, **kwargs)`` raises (the test fails if it raises none)."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_an_unknown_mission_is_not_found_both_ways(pair: Pair, done: Done) -> None:
    for ask in ("get_mission", "mission_story"):
        here = _refusal(getattr(pair.local, ask), done.project, "m00000000")
        there = _refusal(getattr(pair.remote, ask), done.project, "m00000000")
        assert here.code == there.code == "NOT_FOUND", ask
        assert here.detail == there.detail and "m00000000" in here.detail, ask
        assert str(there) == f"NOT_FOUND: {here.detail}"


@pytest.mark.parametrize(
    "q,words",
    [
        (Query(kind="gossip"), "unknown event type 'gossip'"),
        (Query(role="wizard"), "unknown role 'wizard'"),
        (Query(since_us=10, until_us=5), "ends before it starts"),
        (Query(limit=0), "limit must be at least 1"),
    ],
)
def test_a_bad_filter_is_refused_both_ways(pair: Pair, done: Done, q: Query, words: str) -> None:
    here = _refusal(lambda: pair.local.query_audit(done.project, q))
    there = _refusal(lambda: pair.remote.query_audit(done.project, q))
    assert here.code == there.code == "INVALID_ARGUMENT"
    assert words in here.detail and here.detail == there.detail


def test_the_daemon_itself_refuses_a_bad_filter(world: World, stub: api_grpc.SwarmStub) -> None:
    """A client that skips the check (any gRPC client) gets the same refusal from the daemon."""
    ref = api.ProjectRef(project="clientpair")
    for req, words in (
        (api.QueryAuditRequest(project=ref, kind="gossip"), "unknown event type"),
        (api.QueryAuditRequest(project=ref, role="wizard"), "unknown role"),
        (api.QueryAuditRequest(project=ref, since_us=10, until_us=5), "ends before it starts"),
        (api.QueryAuditRequest(project=ref, limit=10_001), "over 10000"),
        (api.QueryAuditRequest(project=ref, after="zz"), "after"),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            stub.QueryAudit(req, metadata=world.md("a-ops"), timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, req
        assert words in (caught.value.details() or ""), req


def test_an_unknown_project_is_not_found_both_ways(pair: Pair) -> None:
    for ask in (
        lambda c: c.verify("no-such-project"),
        lambda c: c.query_audit("no-such-project", Query()),
        lambda c: c.list_missions("no-such-project"),
    ):
        here = _refusal(ask, pair.local)
        there = _refusal(ask, pair.remote)
        assert here.code == there.code == "NOT_FOUND"
        assert here.detail in there.detail  # the daemon leads with the error's type


def test_cancel_is_refused_locally_and_names_the_daemon(pair: Pair, done: Done) -> None:
    here = _refusal(lambda: pair.local.cancel_mission(done.project, done.report.mission_id, ""))
    assert here.code == "UNIMPLEMENTED" and "through a daemon only" in here.detail


def test_a_finished_mission_cannot_be_cancelled(pair: Pair, done: Done) -> None:
    mid = done.report.mission_id
    there = _refusal(lambda: pair.remote.cancel_mission(done.project, mid, "too late"))
    assert there.code == "FAILED_PRECONDITION" and "already ended" in there.detail
    assert pair.local.get_mission(done.project, mid).state == "succeeded"


# running a mission -----------------------------------------------------------------------
def test_a_local_run_reports_what_the_daemon_run_reports(
    pair: Pair, done: Done, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".swarm"))
    with ledger.open_ledger(f"sqlite://{tmp_path / 'l.sqlite'}") as led:
        local = LocalClient(led, "local")
        run = MissionRun(RENAME, MissionOptions(run_tests=False), repo=repo)
        seen: list[str] = []
        report = local.run_mission("repo", run, progress=lambda *_: None, started=seen.append)
        assert seen == [report.mission_id]
        theirs = done.report
        assert (report.outcome, report.files_changed, report.tickets) == (
            theirs.outcome,
            theirs.files_changed,
            theirs.tickets,
        )
        mine = local.get_mission("repo", report.mission_id)
        assert mine.files_changed == report.files_changed
    assert "def compute_order_total" in (repo / "shop" / "pricing.py").read_text()


def test_each_client_refuses_the_others_place_to_run(pair: Pair, done: Done) -> None:
    on_workspace = MissionRun(RENAME, workspace=done.project)
    here = _refusal(
        lambda: pair.local.run_mission(
            done.project, on_workspace, progress=lambda *_: None, started=lambda _: None
        )
    )
    assert here.code == "INVALID_ARGUMENT" and "--repo" in here.detail
    on_repo = MissionRun(RENAME, repo=Path("."))
    there = _refusal(
        lambda: pair.remote.run_mission(
            done.project, on_repo, progress=lambda *_: None, started=lambda _: None
        )
    )
    assert there.code == "INVALID_ARGUMENT" and "workspaces" in there.detail
    assert [m.mission_id for m in pair.local.list_missions(done.project)] == [
        done.report.mission_id
    ]
