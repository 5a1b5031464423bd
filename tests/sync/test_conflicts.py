"""Two edges of one tenant edit the same file offline: a Conflict, both versions kept."""

from __future__ import annotations

import sync
from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from tests.sync._helpers import GRANT, change, decision
from tests.sync.conftest import MemoryLedgers

T, P, PATH = "acme", "shop", "src/cart.py"


def _world(mem: MemoryLedgers) -> tuple[Ledger, Ledger, Ledger]:
    """Edge A ships v1 of the file; edge B starts from the hub's copy (v1) too."""
    a, b, hub = (mem() for _ in range(3))
    a.create_tenant(T)
    a.create_project(T, P)
    a.append(T, P, [change(a, T, P, PATH, b"v1\n")])
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    sync.Shipper(hub, b, hub_name="laptop-b", grant=GRANT).ship()  # B pulls the common point
    assert b.file_state(T, P, PATH).sha256 == hub.file_state(T, P, PATH).sha256  # type: ignore[union-attr]
    return a, b, hub


def _edit(led: Ledger, content: bytes) -> pb.SwarmEvent:
    ev = change(led, T, P, PATH, content)
    led.append(T, P, [ev])
    return ev


def test_second_edge_gets_a_conflict_with_both_versions_kept(mem: MemoryLedgers) -> None:
    a, b, hub = _world(mem)
    _edit(a, b"v2 from A\n")
    b_edit = _edit(b, b"v3 from B\n")
    b.append(T, P, [decision("B kept working")])
    assert sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship().conflicts == []
    report = sync.Shipper(b, hub, hub_name="hq", grant=GRANT).ship()

    (conflict,) = report.conflicts
    assert conflict.path == PATH
    assert conflict.edge_event_id == b_edit.event_id
    a_sha = a.file_state(T, P, PATH).sha256  # type: ignore[union-attr]
    assert conflict.hub_sha256 == a_sha.hex()
    assert conflict.edge_new_sha256 == b_edit.state_change.new_sha256.hex()
    # Nothing shipped over A's version; B's version and B's whole event are on the hub.
    assert hub.file_state(T, P, PATH).sha256 == a_sha  # type: ignore[union-attr]
    assert hub.find_event(T, b_edit.event_id) is None
    assert hub.get_blob(T, b_edit.state_change.new_sha256) == b"v3 from B\n"
    kept = pb.SwarmEvent.FromString(hub.get_blob(T, bytes.fromhex(conflict.edge_event_blob)))
    assert kept.event_id == b_edit.event_id
    # B's other work did ship, and the conflict is recorded on both sides, once.
    assert report.landed >= 2
    assert [c.conflict_id for c in sync.conflicts(hub, T, P)] == [conflict.conflict_id]
    assert [c.conflict_id for c in sync.conflicts(b, T, P)] == [conflict.conflict_id]
    signal = hub.get_event(T, P, hub.find_event(T, conflict.conflict_id)[1]).event  # type: ignore[index]
    assert signal.signal.kind == pb.SIGNAL_KIND_CONFLICT


def test_rerun_records_nothing_twice_and_later_edits_of_the_path_are_parked_too(
    mem: MemoryLedgers,
) -> None:
    a, b, hub = _world(mem)
    _edit(a, b"v2 from A\n")
    _edit(b, b"v3 from B\n")
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    shipper = sync.Shipper(b, hub, hub_name="hq", grant=GRANT)
    first = shipper.ship()
    assert len(first.conflicts) == 1
    assert first.duplicates >= 1  # B's local copy of the conflict signal, shipped after it
    again = shipper.ship()
    assert again.conflicts == [] and again.landed == 0 and again.duplicates == 0
    _edit(b, b"v4 from B\n")  # chained on B's version: still not the hub's head
    third = shipper.ship()
    assert len(third.conflicts) == 1
    assert len(sync.conflicts(hub, T, P)) == 2
    assert hub.file_state(T, P, PATH).sha256 == a.file_state(T, P, PATH).sha256  # type: ignore[union-attr]


def test_independent_creation_of_the_same_path_conflicts(mem: MemoryLedgers) -> None:
    a, b, hub = (mem() for _ in range(3))
    for led in (a, b):
        led.create_tenant(T)
        led.create_project(T, P)
    _edit(a, b"A's file\n")
    _edit(b, b"B's file\n")
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    (conflict,) = sync.Shipper(b, hub, hub_name="hq", grant=GRANT).ship().conflicts
    assert conflict.edge_previous_sha256 == ""


def test_status_shows_open_conflicts_until_resolved_on_the_hub(mem: MemoryLedgers) -> None:
    a, b, hub = _world(mem)
    _edit(a, b"v2 from A\n")
    _edit(b, b"v3 from B\n")
    sync.Shipper(a, hub, hub_name="hq", grant=GRANT).ship()
    (conflict,) = sync.Shipper(b, hub, hub_name="hq", grant=GRANT).ship().conflicts
    (status,) = sync.sync_status(b, "hq", hub=hub)
    assert [c.conflict_id for c in status.open_conflicts] == [conflict.conflict_id]
    # The merge is an ordinary change on the hub from its head; then the record is closed.
    hub.append(T, P, [change(hub, T, P, PATH, b"v2 + v3 merged\n")])
    eid = sync.resolve_conflict(hub, T, P, conflict.conflict_id, resolved_by="human:alice")
    assert sync.resolve_conflict(hub, T, P, conflict.conflict_id, resolved_by="human:alice") == eid
    (status,) = sync.sync_status(b, "hq", hub=hub)
    assert status.open_conflicts == ()
    assert sync.conflicts(hub, T, P) == []


def test_resolving_an_unknown_conflict_is_refused(mem: MemoryLedgers) -> None:
    hub = mem()
    hub.create_tenant(T)
    hub.create_project(T, P)
    try:
        sync.resolve_conflict(hub, T, P, "sync-conflict-nope", resolved_by="human:alice")
    except sync.InvalidSyncArgument as exc:
        assert "no conflict 'sync-conflict-nope'" in str(exc)
    else:
        raise AssertionError("an unknown conflict was resolved")
