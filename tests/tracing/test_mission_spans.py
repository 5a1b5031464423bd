"""A mission's spans carry the ids its events record, and their links follow its tickets."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm import telemetry
from swarm.brain import EditRequest
from swarm.client import LocalClient, MissionRun


def _hex(n: int, width: int) -> str:
    return f"{n:0{width}x}"


def _run_rename(repo: Path) -> tuple[ledger.Ledger, str]:
    led = ledger.open_ledger(f"sqlite://{repo.parent / 'ledger.sqlite'}")
    run = MissionRun(EditRequest("rename", {"old": "calculate_total", "new": "total"}), repo=repo)
    report = LocalClient(led, "acme").run_mission(
        "shop", run, progress=lambda *_: None, started=lambda _: None
    )
    assert report.ok, report.reason
    return led, report.mission_id


def _events_of(led: ledger.Ledger, mid: str) -> list[pb.SwarmEvent]:
    """The events the mission wrote (the ledger's own lock signals carry its id, no span)."""
    return [
        r.event
        for r in led.iter_events("acme", "shop")
        if r.event.mission_id == mid and r.event.event_id.startswith(f"{mid}.")
    ]


def test_a_missions_spans_carry_the_trace_id_its_events_record(
    spans: InMemorySpanExporter, sample: Path
) -> None:
    led, mid = _run_rename(sample)
    events = _events_of(led, mid)
    (trace_hex,) = {e.trace_id for e in events}  # one trace id, stored in every event
    assert len(trace_hex) == 32 and trace_hex == telemetry.trace_id(mid)
    mine = [s for s in spans.get_finished_spans() if s.context.trace_id == int(trace_hex, 16)]
    (mission,) = [s for s in mine if s.name == "mission"]
    assert mission.parent is None and (mission.attributes or {})["swarm.mission_id"] == mid
    by_id = {_hex(s.context.span_id, 16): s for s in mine}
    # Every event names a span of the trace: the mission's or one ticket attempt's.
    assert {e.span_id for e in events} <= set(by_id)
    assert {e.span_id for e in events if e.event_id.endswith((".started", ".finished"))} == {
        _hex(mission.context.span_id, 16)
    }
    led.close()


def test_the_parent_child_links_follow_the_tickets(
    spans: InMemorySpanExporter, sample: Path
) -> None:
    led, mid = _run_rename(sample)
    events = _events_of(led, mid)
    tickets = [s for s in spans.get_finished_spans() if s.name.startswith("ticket ")]
    mission_span = telemetry.mission_span_id(mid)
    claims = {
        (e.ticket.ticket_id, e.ticket.attempt): e
        for e in events
        if e.WhichOneof("payload") == "ticket" and e.ticket.state == pb.TICKET_STATE_CLAIMED
    }
    worked = {_ticket_of(s): s for s in tickets}
    assert set(worked) == set(claims)  # one span per attempt claimed, no more
    for key, span in worked.items():
        assert span.parent is not None and _hex(span.parent.span_id, 16) == mission_span
        assert _hex(span.context.span_id, 16) == claims[key].span_id  # the claim names it
        # Every event the attempt wrote is in its span.
        step = f"{mid}.{key[0]}.a{key[1]}."
        assert {e.span_id for e in events if e.event_id.startswith(step)} == {claims[key].span_id}
        linked = {_hex(link.context.span_id, 16) for link in span.links}
        assert linked == {
            telemetry.ticket_span_id(mid, dep, _last_attempt(claims, dep))
            for dep in claims[key].ticket.depends_on
        }
    verify = [s for k, s in worked.items() if k[0] == "verify"]
    edits = {k[0] for k in worked if k[0].startswith("edit")}
    assert verify and edits and len(verify[0].links) >= len(edits)
    led.close()


def _ticket_of(span: ReadableSpan) -> tuple[str, int]:
    attrs = dict(span.attributes or {})
    return str(attrs["swarm.ticket_id"]), int(str(attrs["swarm.attempt"]))


def _last_attempt(claims: dict[tuple[str, int], pb.SwarmEvent], ticket: str) -> int:
    return max(a for t, a in claims if t == ticket)


def test_without_a_provider_the_ids_are_recorded_and_no_span_is_kept(sample: Path) -> None:
    led, mid = _run_rename(sample)
    events = _events_of(led, mid)
    assert {e.trace_id for e in events} == {telemetry.trace_id(mid)}
    assert all(len(e.span_id) == 16 for e in events)
    led.close()


def test_an_events_span_is_its_ticket_attempts_or_the_missions() -> None:
    mid = "m0123456789ab"
    assert telemetry.event_span_id(mid, f"{mid}.edit-3.a2.done") == telemetry.ticket_span_id(
        mid, "edit-3", 2
    )
    for other in (f"{mid}.started", f"{mid}.run.2", f"{mid}.import.ab12", f"{mid}.stopping.r1"):
        assert telemetry.event_span_id(mid, other) == telemetry.mission_span_id(mid)
    assert telemetry.trace_id(mid) != telemetry.trace_id("m0123456789ac")
    assert telemetry.ticket_span_id(mid, "a", 1) != telemetry.ticket_span_id(mid, "a", 2)
