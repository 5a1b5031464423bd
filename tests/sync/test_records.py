"""Sync's stored records are typed (records.proto), and the legacy forms still load."""

from __future__ import annotations

import json

import pytest

import ledger
import sync
from ledger import Ledger, Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import records_pb2 as rpb
from sync._cursor import cursor_name, store_cursor
from tests.sync._helpers import GRANT, change

T, P, PATH = "acme", "shop", "src/cart.py"
VS = Versionstamp(bytes(range(12)))


def _led() -> Ledger:
    led = ledger.open_ledger("memory:")
    led.create_tenant(T)
    led.create_project(T, P)
    return led


def test_a_cursor_is_stored_as_a_sync_cursor_message_and_read_back() -> None:
    led = _led()
    store_cursor(led, T, P, sync.Cursor("hq", VS, 7, 1234))
    raw = led.get_cursor(T, P, cursor_name("hq"))
    assert raw is not None
    msg = rpb.SyncCursor.FromString(raw)
    assert (msg.hub, msg.versionstamp, msg.handled, msg.updated_us) == ("hq", VS.raw, 7, 1234)
    assert sync.load_cursor(led, T, P, "hq") == sync.Cursor("hq", VS, 7, 1234)


def test_a_legacy_json_cursor_still_loads() -> None:
    led = _led()
    legacy = {"format": 1, "hub": "hq", "vs": str(VS), "handled": 3, "updated_us": 99}
    led.set_cursor(T, P, cursor_name("hq"), json.dumps(legacy).encode())
    assert sync.load_cursor(led, T, P, "hq") == sync.Cursor("hq", VS, 3, 99)


@pytest.mark.parametrize(
    "raw",
    [
        rpb.SyncCursor(hub="other", handled=1).SerializeToString(),  # another hub's
        rpb.SyncCursor(hub="hq", versionstamp=b"short").SerializeToString(),
        b"\xff\xff\xff",
        b'{"format": 2, "hub": "hq"}',
    ],
)
def test_an_unreadable_cursor_is_refused_by_name(raw: bytes) -> None:
    led = _led()
    led.set_cursor(T, P, cursor_name("hq"), raw)
    with pytest.raises(sync.CorruptCursor, match=r"sync\.to\.hq"):
        sync.load_cursor(led, T, P, "hq")


def _conflicting_world() -> tuple[Ledger, Ledger, Ledger]:
    a, b, hub = _led(), _led(), ledger.open_ledger("memory:")
    a.append(T, P, [change(a, T, P, PATH, b"v1\n")])
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    sync.Shipper(hub, b, hub_name="laptop-b", grant=GRANT).ship()
    return a, b, hub


def test_a_conflict_is_a_typed_record_on_its_signal() -> None:
    a, b, hub = _conflicting_world()
    a.append(T, P, [change(a, T, P, PATH, b"v2 from A\n")])
    edit = change(b, T, P, PATH, b"v3 from B\n")
    b.append(T, P, [edit])
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    (conflict,) = sync.Shipper(b, hub, hub_name="hq", grant=GRANT).ship().conflicts
    found = hub.find_event(T, conflict.conflict_id)
    assert found is not None
    signal = hub.get_event(T, P, found[1]).event.signal
    assert dict(signal.attributes) == {}  # no facts hidden in strings
    record = signal.conflict
    assert record.state == rpb.SYNC_CONFLICT_STATE_OPEN
    assert record.kind == rpb.SYNC_CONFLICT_KIND_FILE
    assert record.edge_new_sha256 == edit.state_change.new_sha256
    assert record.hub_sha256 == hub.file_state(T, P, PATH).sha256  # type: ignore[union-attr]
    assert len(record.edge_versionstamp) == 12 and len(record.hub_versionstamp) == 12


def _legacy_signal(event_id: str, attributes: dict[str, str]) -> pb.SwarmEvent:
    return pb.SwarmEvent(
        event_id=event_id,
        agent_role=pb.AGENT_ROLE_SYSTEM,
        agent_id="sync",
        signal=pb.Signal(kind=pb.SIGNAL_KIND_CONFLICT, subject=PATH, attributes=attributes),
    )


def test_legacy_attribute_conflicts_and_resolutions_still_load() -> None:
    led = _led()
    sha = "ab" * 32
    opened = {
        "state": "open",
        "hub": "hq",
        "edge_event_id": "e-1",
        "edge_versionstamp": str(VS),
        "edge_previous_sha256": "",
        "edge_new_sha256": sha,
        "edge_event_blob": "cd" * 32,
        "hub_sha256": "ef" * 32,
        "hub_versionstamp": "",
    }  # no "conflict" attribute: written before the other kinds existed
    led.append(
        T,
        P,
        [
            _legacy_signal("sync-conflict-old1", opened),
            _legacy_signal("sync-conflict-old2", {**opened, "conflict": "event_id", "reason": "r"}),
        ],
    )
    first, second = sync.conflicts(led, T, P)
    assert (first.conflict_id, first.kind, first.edge_new_sha256) == (
        "sync-conflict-old1",
        "file",
        sha,
    )
    assert (first.edge_versionstamp, first.hub_versionstamp) == (str(VS), "")
    assert (second.kind, second.reason) == ("event_id", "r")
    closing = {"state": "resolved", "resolves": "sync-conflict-old1", "resolved_by": "human:al"}
    led.append(T, P, [_legacy_signal("resolved-sync-conflict-old1", closing)])
    assert [c.conflict_id for c in sync.conflicts(led, T, P)] == ["sync-conflict-old2"]
    # A typed resolution closes a legacy conflict too.
    sync.resolve_conflict(led, T, P, "sync-conflict-old2", resolved_by="human:al")
    assert sync.conflicts(led, T, P) == []


def test_a_conflict_record_without_a_state_is_refused_not_defaulted() -> None:
    led = _led()
    ev = _legacy_signal("sync-conflict-x", {})
    ev.signal.conflict.CopyFrom(rpb.SyncConflict(kind=rpb.SYNC_CONFLICT_KIND_FILE, hub="hq"))
    led.append(T, P, [ev])
    with pytest.raises(sync.UnreadableConflict, match="no state"):
        sync.conflicts(led, T, P)


def test_identical_content_on_both_sides_is_converged_not_a_conflict() -> None:
    a, b, hub = _conflicting_world()
    a.append(T, P, [change(a, T, P, PATH, b"the same fix\n")])
    same = change(b, T, P, PATH, b"the same fix\n")
    b.append(T, P, [same])
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    report = sync.Shipper(b, hub, hub_name="hq", grant=GRANT).ship()
    assert report.conflicts == [] and sync.conflicts(hub, T, P) == []
    assert report.converged == [same.event_id]
    # B's later edits chain on the shared content and land.
    b.append(T, P, [change(b, T, P, PATH, b"the same fix, then more\n")])
    again = sync.Shipper(b, hub, hub_name="hq", grant=GRANT).ship()
    assert again.conflicts == [] and again.landed == 1
    assert hub.get_blob(T, hub.file_state(T, P, PATH).sha256) == b"the same fix, then more\n"  # type: ignore[union-attr]


def test_different_content_still_conflicts_beside_a_converged_change() -> None:
    a, b, hub = _conflicting_world()
    a.append(T, P, [change(a, T, P, PATH, b"A's\n")])
    b.append(T, P, [change(b, T, P, PATH, b"B's\n")])
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    report = sync.Shipper(b, hub, hub_name="hq", grant=GRANT).ship()
    assert len(report.conflicts) == 1 and report.converged == []
