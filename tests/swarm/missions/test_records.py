"""Typed mission records (issue 13): what a mission writes is protobuf with numbered fields,
and a ledger written the old way (JSON in string fields and blobs) still reads and runs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import ledger
import ops
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import EditRequest
from swarm.missions import (
    CRITIC,
    ORCHESTRATOR,
    SCOUT,
    AgentId,
    MissionOptions,
    MissionOutcome,
    Role,
    coder_id,
    load_view,
    run_mission,
)
from swarm.missions._events import envelope, signal_event
from swarm.missions._identity import role_of
from swarm.missions._records import (
    decode_exchange,
    decode_targets,
    decode_test_run,
    encode_exchange,
    encode_targets,
    encode_test_run,
    payload_of,
    ticket_record,
)
from swarm.missions._workspace import import_workspace
from tests.swarm.missions.conftest import PROJECT, RENAME, TENANT, Mission, snapshot

RUN: dict[str, Any] = {
    "complete": True,
    "status": "exit",
    "detail": "",
    "problem": "",
    "runner": "the sandbox's unittest runner",
    "wall_s": 0.731,
    "budget_s": 600.0,
    "tree": "ab" * 32,
    "items": [["tests/test_a.py::test_x", "passed", ""], ["t::y", "failed", "boom\nE"]],
    "counts": {"passed": 1, "failed": 1, "errors": 0, "skipped": 0, "could_not_run": 0},
}

PAYLOADS: list[tuple[str, str, int, dict[str, Any]]] = [
    (
        "coder",
        "edit-00001",
        pb.TICKET_STATE_PLANNED,
        {"inputs": {"path": "a.py"}, "retries": 1, "backoff_s": 0.2, "timeout_s": 60.0},
    ),
    ("coder", "edit-00001", pb.TICKET_STATE_CLAIMED, {"run": 2}),
    ("scout", "scout", pb.TICKET_STATE_DONE, {"files": 3}),
    (
        "coder",
        "edit-00001",
        pb.TICKET_STATE_DONE,
        {
            "path": "a.py",
            "changed": True,
            "change_event_id": "m1.edit-00001.a1.change",
            "new_sha256": "cd" * 32,
            "attempt": 1,
            "rationale": "renamed 2 occurrence(s)",
        },
    ),
    ("critic", "baseline", pb.TICKET_STATE_DONE, {"skipped": True}),
    (
        "critic",
        "baseline",
        pb.TICKET_STATE_DONE,
        {"counts": RUN["counts"], "complete": True, "wall_s": 0.5, "judgeable": True},
    ),
    ("critic", "verify", pb.TICKET_STATE_DONE, {"files": ["a.py"], "tests": "skipped"}),
    ("critic", "verify", pb.TICKET_STATE_DONE, {"files": ["a.py"], "tests": {"unverified": "x"}}),
    (
        "critic",
        "verify",
        pb.TICKET_STATE_DONE,
        {
            "files": ["a.py", "b.py"],
            "tests": {
                "stages": ["tied", "rest"],
                "counts": RUN["counts"],
                "could_not_run_names": ["t::z"],
                "pre_existing_failure_names": [],
                "budget_s": 30.5,
                "test_code": {"rule": "unchanged", "files": [], "original_failing": []},
                "unverified": "a run did not complete",
            },
        },
    ),
    ("critic", "cancel", pb.TICKET_STATE_FAILED, {}),
]


@pytest.mark.parametrize(("kind", "ticket", "state", "payload"), PAYLOADS)
def test_every_ticket_payload_round_trips_through_its_record(
    kind: str, ticket: str, state: int, payload: dict[str, Any]
) -> None:
    update = pb.TicketUpdate(ticket_id=ticket, state=state)  # type: ignore[arg-type]
    update.record.CopyFrom(ticket_record(kind, ticket, state, payload))
    wire = pb.TicketUpdate.FromString(update.SerializeToString())
    assert payload_of(wire) == payload
    assert wire.payload_json == ""
    # ... and the same payload as an older ledger wrote it reads the same
    old = pb.TicketUpdate(ticket_id=ticket, payload_json=json.dumps(payload))
    assert payload_of(old) == payload


def test_blobs_round_trip_and_older_json_blobs_still_read() -> None:
    assert decode_test_run(encode_test_run(RUN)) == RUN
    assert decode_test_run(json.dumps(RUN).encode()) == RUN
    assert encode_test_run(RUN) == encode_test_run(dict(reversed(RUN.items())))  # dedups
    assert decode_targets(encode_targets(["a.py", "b/c.py"])) == ["a.py", "b/c.py"]
    assert decode_targets(b'["a.py"]') == ["a.py"]
    assert decode_exchange(encode_exchange('{"q": 1}', '{"a": 2}')) == ('{"q": 1}', '{"a": 2}')
    old = json.dumps({"request_json": "{}", "response_json": "[]"}).encode()
    assert decode_exchange(old) == ("{}", "[]")


def test_agent_ids_are_values_with_one_role_each() -> None:
    assert str(ORCHESTRATOR) == "orchestrator-1" and str(coder_id(3)) == "coder-3"
    assert AgentId.parse("coder-3") == coder_id(3) and AgentId.parse(str(CRITIC)) == CRITIC
    assert AgentId.parse("human:alice") is None and AgentId.parse("coder-x") is None
    assert SCOUT.role is Role.SCOUT and role_of("critic-1") == pb.AGENT_ROLE_CRITIC
    assert role_of("human:alice") == pb.AGENT_ROLE_SYSTEM


def test_a_new_mission_writes_no_json_into_a_string_field(
    mission: Mission, mled: ledger.Ledger
) -> None:
    mid, report = mission(run_tests=False)
    assert report.ok and report.outcome == MissionOutcome.SUCCEEDED
    for rec in mled.history(TENANT, PROJECT, mission=mid, limit=10_000):
        ev = rec.event
        if rec.kind == "ticket":
            assert ev.ticket.payload_json == ""
        if rec.kind == "signal":
            for key, value in ev.signal.attributes.items():
                assert not value.startswith(("{", "[")), (ev.event_id, key, value)
    view = load_view(mled, TENANT, PROJECT, mid)
    assert view.started is not None and view.started.request == RENAME
    assert view.started.options.coders == 2 and view.started.brain == "rules"
    assert view.finished is not None and view.finished.outcome == MissionOutcome.SUCCEEDED
    assert view.finished.files_changed == len(report.files_changed)


def _old_ticket(mid: str, tid: str, kind: str, payload: dict[str, Any]) -> pb.SwarmEvent:
    return envelope(
        mid,
        f"{mid}.{tid}.a1.planned",
        ORCHESTRATOR,
        ticket=pb.TicketUpdate(
            ticket_id=tid,
            state=pb.TICKET_STATE_PLANNED,
            agent_kind=kind,
            attempt=1,
            payload_json=json.dumps(payload, sort_keys=True),
        ),
    )


def test_a_mission_an_older_build_started_reads_resumes_and_reports(
    mled: ledger.Ledger, repo: Path
) -> None:
    """MISSION_STARTED with JSON attributes and tickets with ``payload_json``, as every
    ledger before missions.proto holds them: this build resumes the mission to its end."""
    mid = "m0123456789ab"
    options = MissionOptions(coders=2, run_tests=False, backoff_s=0.0)
    mled.create_tenant(TENANT)
    mled.create_project(TENANT, PROJECT)
    files, _ = import_workspace(mled, TENANT, PROJECT, repo.resolve(), mid)
    manifest = {p: e.sha256.hex() for p, e in files.items()}
    blob = mled.put_blob(TENANT, json.dumps(manifest, sort_keys=True).encode())  # old form
    started = signal_event(
        mid,
        f"{mid}.started",
        pb.SIGNAL_KIND_MISSION_STARTED,
        f"rename on {repo.name}",
        {
            "request": json.dumps({"kind": RENAME.kind, "params": dict(RENAME.params)}),
            "brain": "rules",
            "brain_settings": "{}",
            "options": json.dumps(dataclasses.asdict(options), sort_keys=True),
            "manifest": blob.hex,
            "repo": str(repo.resolve()),
            "skipped_locked": "[]",
        },
    )
    spec = {"retries": 1, "backoff_s": 0.0, "timeout_s": 60.0}
    mled.append(
        TENANT,
        PROJECT,
        [
            started,
            _old_ticket(mid, "scout", "scout", {"inputs": dict(RENAME.params), **spec}),
            _old_ticket(mid, "baseline", "critic", {"inputs": {"suite": "full"}, **spec}),
        ],
    )
    view = load_view(mled, TENANT, PROJECT, mid)
    assert view.started is not None and view.started.options == options
    assert view.started.request == EditRequest(RENAME.kind, dict(RENAME.params))
    assert view.tickets["scout"].ticket.inputs == dict(RENAME.params)
    report = run_mission(mled, TENANT, PROJECT, mid)
    assert report.ok and report.verdict == "not_tested", report
    assert "shop/pricing.py" in report.files_changed
    assert "compute_order_total" in (repo / "shop" / "pricing.py").read_text()
    heads = {f.path: f.sha256.hex() for f in mled.files(TENANT, PROJECT)}
    assert heads == snapshot(repo)
    # audit reads the old start's request too
    (edit,) = [w for w in ops.who_changed(mled, TENANT, PROJECT, "shop/pricing.py") if w.decision]
    assert edit.request == "rename new=compute_order_total old=calculate_total"
    assert edit.verdict_outcome == "not_tested"
