"""What the hub accepts from an edge: workspace paths, manifests, the chain from the cursor."""

from __future__ import annotations

import json
import re

import pytest

import ledger
import replay
import sync
from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from sync._chain import GENESIS, walk_chain
from sync._screen import Refused, canonical, check_event, check_manifest
from tests.sync._helpers import GRANT, decision

T, P = "acme", "shop"
NOW = 1_800_000_000_000_000


@pytest.mark.parametrize(
    "path", ["src/a.py", ".github/workflows/ci.yml", "docs/.gitignore", "a/.gitkeep"]
)
def test_workspace_paths_that_are_fine(path: str) -> None:
    assert ledger.check_workspace_path(path) == path


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:\\\\x", "absolute"),
        ("a\\\\b", "separator"),
        ("a\x00b", "NUL"),
        ("a\nb", "control character"),
        (".git/config", "metadata folder '.git'"),
        ("x/.GIT/hooks/pre-commit", "metadata folder '.GIT'"),
        (".git./config", "metadata folder '.git.'"),
        (".git /config", "metadata folder '.git '"),
        (".swarm/scout-cache/x", "metadata folder '.swarm'"),
        (".hg/hgrc", "metadata folder '.hg'"),
        ("a//b", "empty"),
        ("./a", "'.'"),
    ],
)
def test_workspace_paths_that_are_refused(path: str, rule: str) -> None:
    with pytest.raises(ledger.InvalidPath, match=re.escape(rule)):
        ledger.check_workspace_path(path)


def test_a_repo_attribute_is_stripped_and_the_rest_kept() -> None:
    ev = pb.SwarmEvent(
        event_id="m1.started",
        signal=pb.Signal(
            kind=pb.SIGNAL_KIND_MISSION_STARTED,
            attributes={"repo": "/home/me/code", "manifest": "ab" * 32, "brain": "rules"},
        ),
    )
    kept, needs = check_event(T, P, ev, NOW)
    assert dict(kept.signal.attributes) == {"manifest": "ab" * 32, "brain": "rules"}
    assert "repo" in ev.signal.attributes  # the caller's message is not changed
    assert [n.what for n in needs] == ["mission manifest"]


@pytest.mark.parametrize(
    ("manifest", "rule"),
    [
        (None, "must be a sha256"),
        ("AB" * 32, "must be a sha256"),
        ("../x", "must be a sha256"),
    ],
)
def test_a_mission_start_names_its_manifest_by_hash(manifest: str | None, rule: str) -> None:
    ev = pb.SwarmEvent(event_id="m1.started", signal=pb.Signal(kind=pb.SIGNAL_KIND_MISSION_STARTED))
    if manifest is not None:
        ev.signal.attributes["manifest"] = manifest
    with pytest.raises(Refused, match=rule):
        check_event(T, P, ev, NOW)


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"../../x": "ab" * 32}).encode(), "'..' would leave"),
        (json.dumps({"a.py": "nothex"}).encode(), "must be a sha256"),
        (json.dumps({"a.py": 5}).encode(), "must be a sha256"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_manifests_are_checked_entry_by_entry(data: bytes, rule: str) -> None:
    with pytest.raises(Refused, match=rule):
        check_manifest(data)
    check_manifest(json.dumps({"src/a.py": "ab" * 32}).encode())


def test_a_manifest_in_replays_format_is_checked_entry_by_entry() -> None:
    # Missions store their manifest in replay's format (issue 13: one manifest format).
    good = replay.encode_manifest({"src/a.py": replay.Entry(b"\x01" * 32, 5)})
    check_manifest(good)
    check_manifest(replay.encode_manifest({}))
    with pytest.raises(Refused, match=re.escape("'..' would leave")):
        check_manifest(replay.encode_manifest({"../../x": replay.Entry(b"\x01" * 32, 5)}))
    with pytest.raises(Refused, match="ends inside"):
        check_manifest(good[:-3])
    modes = replay.encode_manifest({"bin/run": replay.Entry(b"\x02" * 32, 9, True)})
    assert modes[:4] == b"SWM2"
    check_manifest(modes)
    with pytest.raises(Refused, match="ends inside"):
        check_manifest(modes[:-1])
    with pytest.raises(Refused, match="unknown flags"):
        check_manifest(modes[:-1] + b"\x04")


def test_canonical_form_ignores_time_and_implicit_names_only() -> None:
    a = decision("x")
    b = pb.SwarmEvent()
    b.CopyFrom(a)
    b.time_us, b.tenant, b.project = 5, T, P
    assert canonical(a) == canonical(b)
    b.decision.rationale = "y"
    assert canonical(a) != canonical(b)


def test_the_chain_is_walked_from_the_cursor_and_stops_at_a_break() -> None:
    led = ledger.open_ledger("memory:")
    led.create_tenant(T)
    led.create_project(T, P)
    led.append(T, P, [decision(str(i)) for i in range(5)])
    raw = led.raw_records(T, P)
    records, broken = walk_chain(GENESIS, raw)
    assert broken is None and len(records) == len(raw)
    # From a cursor: the anchor is the chain stored there.
    tail, broken = walk_chain(raw[2][1], raw[3:])
    assert broken is None and [r.versionstamp for r in tail] == [r[0] for r in raw[3:]]
    flipped = [*raw[:4], (raw[4][0], raw[4][1], raw[4][2].replace(b"4", b"9"))]
    records, broken = walk_chain(GENESIS, flipped)
    assert len(records) == 4 and broken is not None and broken.versionstamp == raw[4][0]
    gap = [*raw[:2], *raw[3:]]  # one removed
    records, broken = walk_chain(GENESIS, gap)
    assert len(records) == 2 and broken is not None and broken.versionstamp == raw[3][0]


def test_tampering_after_a_sync_is_caught_from_the_cursor(pair: tuple[Ledger, Ledger]) -> None:
    """The second run starts at the cursor's stored chain: a later record that does not
    follow it is refused even though everything before it shipped long ago."""
    edge, hub = pair
    edge.create_tenant(T)
    edge.create_project(T, P)
    edge.append(T, P, [decision("first")])
    shipper = sync.Shipper(edge, hub, hub_name="hq", grant=GRANT)
    shipper.ship()
    later = decision("later")
    edge.append(T, P, [later])
    # Damage the new record's stored chain entry through the engine, as a bad disk would.
    pk = edge.scope(T, P).keys
    vs = edge.head(T, P)
    assert vs is not None
    key = pk.event(vs)
    value = edge.engine.read(lambda tr: tr.get(key))
    assert value is not None
    damaged = value[:1] + bytes(32) + value[33:]
    edge.engine.transact(lambda tr: tr.set(key, damaged))
    with pytest.raises(sync.EdgeTampered, match=str(vs)):
        shipper.ship()
    assert hub.find_event(T, later.event_id) is None
