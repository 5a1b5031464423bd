"""Attacks on edge → hub sync: a crafted edge ledger shipped with the real `swarm sync`.

Every test builds a real sqlite edge ledger with the project's own Python API
(bypassing the edge ledger's own checks where an attacker could), ships it to
a real sqlite hub ledger through ``swarm sync`` (in-process ``main``), and
asserts (1) the refusal names the event and the rule, (2) the hub holds none
of the refused rows, and (3) the folder outside every root is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ledger
import ops
import sync
from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.cli import main
from swarm.daemon._errors import Unauthenticated
from swarm.daemon._tokens import SYSTEM_TENANT, TOKENS_PROJECT, Role, TokenStore
from tests.security._outside import Outside
from tests.sync._helpers import change, decision

T, P = "acme", "shop"


@dataclass
class Site:
    """An edge and a hub ledger file, and a sync token of the hub for tenant ``acme``."""

    root: Path
    edge_url: str
    hub_url: str
    token_file: Path

    def edge(self) -> Ledger:
        return ledger.open_ledger(self.edge_url)

    def hub(self) -> Ledger:
        return ledger.open_ledger(self.hub_url)

    def sync(
        self, capsys: pytest.CaptureFixture[str], *extra: str, token: bool = True
    ) -> tuple[int, str, str]:
        argv = ["sync", "--from", self.edge_url, "--to", self.hub_url, "--hub-name", "hq"]
        if token:
            argv += ["--token-file", str(self.token_file)]
        capsys.readouterr()
        code = main([*argv, *extra])
        out, err = capsys.readouterr()
        return code, out, err


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.delenv("SWARM_SYNC_TOKEN", raising=False)
    hub_url = f"sqlite://{tmp_path / 'hub.sqlite'}"
    with ledger.open_ledger(hub_url) as hub:
        secret, _ = TokenStore(hub).create(T, Role.SYNC, "laptop")
    token_file = tmp_path / "sync-token"
    token_file.write_text(secret + "\n")
    s = Site(tmp_path, f"sqlite://{tmp_path / 'edge.sqlite'}", hub_url, token_file)
    with s.edge() as edge:
        edge.create_tenant(T)
        edge.create_project(T, P)
    yield s


def hub_ids(site: Site) -> set[str]:
    """Every event id the hub holds, in every tenant and project."""
    with site.hub() as hub:
        return {
            r.event.event_id
            for t in hub.tenants()
            for p in hub.projects(t)
            for r in hub.iter_events(t, p)
        }


def mission_started(
    edge: Ledger, mid: str, manifest: dict[str, str], repo: str, eid: str | None = None
) -> pb.SwarmEvent:
    """A MISSION_STARTED as the orchestrator writes it, manifest blob stored on the edge."""
    blob = edge.put_blob(T, json.dumps(manifest, sort_keys=True).encode())
    return pb.SwarmEvent(
        event_id=eid or f"{mid}.started",
        mission_id=mid,
        agent_role=pb.AGENT_ROLE_ORCHESTRATOR,
        agent_id="orchestrator",
        signal=pb.Signal(
            kind=pb.SIGNAL_KIND_MISSION_STARTED,
            subject=mid,
            attributes={
                "request": json.dumps({"kind": "rename", "params": {"old": "a", "new": "b"}}),
                "brain": "rules",
                "brain_settings": "{}",
                "options": "{}",
                "manifest": blob.sha256.hex(),
                "repo": repo,
                "skipped_locked": "[]",
            },
        ),
    )


# --- host paths: a repo attribute and manifest entries ---------------------------------------


def test_a_repo_attribute_naming_a_host_folder_is_dropped_and_the_hub_never_writes_there(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reported attack: the hub daemon resumed the synced mission in ``repo`` on its host."""
    with site.edge() as edge:
        pwn = change(edge, T, P, "canary.txt", b"pwned by the edge\n")
        edge.append(T, P, [pwn])
        sha = pwn.state_change.new_sha256.hex()
        edge.append(
            T, P, [mission_started(edge, "m0000000001aa", {"canary.txt": sha}, str(outside.path))]
        )
    code, _out, err = site.sync(capsys)
    assert code == 0, err
    with site.hub() as hub:
        found = hub.find_event(T, "m0000000001aa.started")
        assert found is not None
        started = hub.get_event(T, P, found[1]).event
        assert "repo" not in started.signal.attributes
        assert (
            started.signal.attributes["manifest"]
            == hashlib.sha256(json.dumps({"canary.txt": sha}, sort_keys=True).encode()).hexdigest()
        )
        # The hub daemon's start-up resumes every unfinished mission: with no host path
        # in the event there is none for it to write to.
        from swarm.daemon._metrics import Metrics
        from swarm.daemon._missions import MissionRunner

        workspaces = site.root / "workspaces"
        workspaces.mkdir()
        missions = MissionRunner(hub, workspaces, Metrics())
        missions.resume_all()
        assert missions.stop(60) == []
    outside.assert_untouched()


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ("../../../../outside/canary.txt", "'..' would leave the project"),
        ("/etc/passwd", "must be relative to the project"),
        (".git/hooks/post-checkout", "names the metadata folder '.git'"),
        ("src/.SWARM/scout-cache/x", "names the metadata folder '.SWARM'"),
        ("a\x00b", "contains a NUL byte"),
    ],
)
def test_a_manifest_entry_outside_the_workspace_is_refused_and_the_rest_ships_past_it(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str], entry: str, rule: str
) -> None:
    before, after, elsewhere = decision("before"), decision("after"), decision("elsewhere")
    with site.edge() as edge:
        blob = edge.put_blob(T, b"pwned\n")
        bad = mission_started(edge, "m0000000002bb", {entry: blob.sha256.hex()}, "/tmp/x")
        edge.append(T, P, [before, bad, after])
        manifest_sha = bytes.fromhex(bad.signal.attributes["manifest"])
        edge.create_project(T, "zoo")  # shipped after the stopped one
        edge.append(T, "zoo", [elsewhere])
    code, out, err = site.sync(capsys)
    assert code == 4, (out, err)
    assert f"edge event '{bad.event_id}'" in err and rule in err
    assert "--skip-refused" in err
    ids = hub_ids(site)
    assert before.event_id in ids and elsewhere.event_id in ids  # the rest is not blocked
    assert bad.event_id not in ids and after.event_id not in ids
    with site.hub() as hub:
        assert not hub.has_blob(T, manifest_sha)
    # Running again changes nothing: the project waits behind the refused event.
    assert site.sync(capsys)[0] == 4
    # The documented way forward: record the refusal on the hub, ship the rest.
    code, out, err = site.sync(capsys, "--skip-refused")
    assert code == 0, err
    assert f"REFUSED {T}/{P}: edge event '{bad.event_id}'" in out
    ids = hub_ids(site)
    assert bad.event_id not in ids and after.event_id in ids
    with site.hub() as hub:
        (record,) = sync.conflicts(hub, T, P)
        assert record.kind == "refused" and record.edge_event_id == bad.event_id
        assert rule in record.reason
        assert not hub.has_blob(T, manifest_sha)
    assert site.sync(capsys, "--skip-refused")[0] == 0  # recorded once, nothing left
    status = ["sync", "status", "--from", site.edge_url, "--to", site.hub_url, "--hub-name", "hq"]
    assert main([*status, "--tenant", T, "--project", P, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["projects"]
    assert [(c["kind"], c["edge_event_id"]) for c in row["open_conflicts"]] == [
        ("refused", bad.event_id)
    ]
    outside.assert_untouched()


def _append_unchecked(edge: Ledger, monkeypatch: pytest.MonkeyPatch, ev: pb.SwarmEvent) -> None:
    """What an attacker's own copy of the code may do: skip the edge ledger's path check."""
    import ledger._prepare as internals

    with monkeypatch.context() as m:
        m.setattr(internals, "_known_path", lambda path: path)
        edge.append(T, P, [ev])


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("../../outside/canary.txt", "'..' would leave the project"),
        (".git/config", "names the metadata folder '.git'"),
        ("src/.Git./hooks/pre-commit", "names the metadata folder '.Git.'"),
        ("/abs/olute", "must be relative to the project"),
    ],
)
def test_a_state_change_to_a_path_outside_the_workspace_is_refused(
    site: Site,
    outside: Outside,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    rule: str,
) -> None:
    with site.edge() as edge:
        ev = change(edge, T, P, "placeholder.txt", b"[core]\n\tfsmonitor = touch /tmp/pwned\n")
        ev.state_change.path = path
        _append_unchecked(edge, monkeypatch, ev)
    code, out, err = site.sync(capsys)
    assert code == 4, (out, err)
    assert ev.event_id in err and rule in err
    assert ev.event_id not in hub_ids(site)
    with site.hub() as hub:
        assert hub.files(T, P) == []
    outside.assert_untouched()


# --- blobs and signals -------------------------------------------------------------------------


def _flip_in_file(db: Path, needle: bytes, replacement: bytes) -> int:
    """Rewrite every stored value holding ``needle`` in the sqlite file, as a tamperer would."""
    conn = sqlite3.connect(db)
    try:
        rows = [(k, v) for k, v in conn.execute("SELECT k, v FROM kv") if needle in v]
        for k, v in rows:
            conn.execute("UPDATE kv SET v = ? WHERE k = ?", (v.replace(needle, replacement), k))
        conn.commit()
    finally:
        conn.close()
    return len(rows)


def test_a_content_blob_that_does_not_match_its_hash_is_refused(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str]
) -> None:
    with site.edge() as edge:
        ev = change(edge, T, P, "app.py", b"print('the real content')\n")
        edge.append(T, P, [ev])
    assert _flip_in_file(site.root / "edge.sqlite", b"the real content", b"the evil content") == 1
    code, out, err = site.sync(capsys)
    assert code == 4, (out, err)
    assert ev.event_id in err and "does not match its hash" in err
    assert ev.event_id not in hub_ids(site)
    with site.hub() as hub:
        assert not hub.has_blob(T, ev.state_change.new_sha256)
    outside.assert_untouched()


@pytest.mark.parametrize(
    ("shape", "rule"),
    [
        ("forged conflict", "conflict records are written by the hub"),
        ("forged resolution", "which the hub never recorded"),
        ("squatted conflict id", "are the hub's conflict records"),
        ("squatted resolution id", "are the hub's conflict records"),
        ("far future", "ahead of the hub's clock"),
        ("bad attribute key", "signal attribute"),
        ("mission id", "mission_id"),
    ],
)
def test_signals_and_envelopes_the_hub_does_not_take_from_an_edge(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str], shape: str, rule: str
) -> None:
    ev = pb.SwarmEvent(
        event_id=str(uuid.uuid4()),
        agent_role=pb.AGENT_ROLE_SYSTEM,
        agent_id="sync",
        signal=pb.Signal(kind=pb.SIGNAL_KIND_CONFLICT, subject="x", attributes={"state": "open"}),
    )
    if shape == "forged resolution":
        ev.signal.attributes.update({"state": "resolved", "resolves": "sync-conflict-" + "0" * 40})
    elif shape == "squatted conflict id":
        ev = decision("squatting")
        ev.event_id = sync.conflict_id("hq", T, P, "some-future-event")
    elif shape == "squatted resolution id":
        ev = decision("squatting")
        ev.event_id = "resolved-" + sync.conflict_id("hq", T, P, "some-future-event")
    elif shape == "far future":
        ev = decision("from the future")
        ev.time_us = ledger.wall_clock_us() + 2 * sync.MAX_AHEAD_US
    elif shape == "bad attribute key":
        ev.signal.kind = pb.SIGNAL_KIND_HEALTH
        ev.signal.attributes["bad key\n"] = "x"
    elif shape == "mission id":
        ev = decision("odd mission")
        ev.mission_id = "m/../../x"
    with site.edge() as edge:
        edge.append(T, P, [ev])
    code, out, err = site.sync(capsys)
    assert code == 4, (out, err)
    assert ev.event_id in err and rule in err
    assert ev.event_id not in hub_ids(site)
    outside.assert_untouched()


# --- the hash chain ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how", ["flip bytes", "rewrite an event", "remove an event", "cut the end off"]
)
def test_a_tampered_edge_log_is_refused_not_laundered(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    events = [decision(f"note {i:02d}") for i in range(10)]
    with site.edge() as edge:
        for ev in events:
            edge.append(T, P, [ev])
        target = events[5]
        stored = edge.find_event(T, target.event_id)
        assert stored is not None
        victim_vs = stored[1]
    db = site.root / "edge.sqlite"
    if how == "flip bytes":
        assert _flip_in_file(db, b"note 05", b"note 99") == 1
    elif how == "rewrite an event":
        forged = pb.SwarmEvent()
        forged.CopyFrom(target)
        forged.decision.rationale = "the auditors never saw this"
        conn = sqlite3.connect(db)
        rows = [(k, v) for k, v in conn.execute("SELECT k, v FROM kv") if b"note 05" in v]
        ((k, v),) = rows
        # Same record format and chain hash, other event bytes (time and names kept).
        body = forged.SerializeToString() + v[1 + 32 + len(target.SerializeToString()) :]
        conn.execute("UPDATE kv SET v = ? WHERE k = ?", (v[: 1 + 32] + body, k))
        conn.commit()
        conn.close()
    else:
        doomed = (
            [b"note 05"] if how == "remove an event" else [b"note %02d" % i for i in range(5, 10)]
        )
        conn = sqlite3.connect(db)
        keys = [k for k, v in conn.execute("SELECT k, v FROM kv") if any(d in v for d in doomed)]
        assert len(keys) == len(doomed)
        conn.executemany("DELETE FROM kv WHERE k = ?", [(k,) for k in keys])
        conn.commit()
        conn.close()
    with site.edge() as edge:
        assert not ops.verify(edge, T, P).ok  # `swarm audit verify` says TAMPERED
    code, out, err = site.sync(capsys)
    assert code == 2, (out, err)
    assert "damaged or tampered at event" in err and "nothing from it on was shipped" in err
    ids = hub_ids(site)
    assert {e.event_id for e in events[:5]} <= ids  # what the chain covers still ships
    assert not {e.event_id for e in events[5:]} & ids
    if how in ("flip bytes", "rewrite an event"):
        assert str(victim_vs) in err
    if how == "cut the end off":
        assert "events were removed from its end" in err
    with site.hub() as hub:
        assert ops.verify(hub, T, P).ok
        assert all("auditors" not in r.event.decision.rationale for r in hub.iter_events(T, P))
    assert site.sync(capsys)[0] == 2  # and again: refused until the edge is repaired
    outside.assert_untouched()


# --- tenants and credentials -------------------------------------------------------------------


def test_a_forged_token_row_in_the_edges_system_tenant_never_reaches_the_hub(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str]
) -> None:
    with site.edge() as edge:
        forged_secret, forged = TokenStore(edge).create(T, Role.ADMIN, "attacker")
        system_ids = {r.event.event_id for r in edge.iter_events(SYSTEM_TENANT, TOKENS_PROJECT)}
        edge.append(T, P, [decision("ordinary work")])
    code, out, err = site.sync(capsys)
    assert code == 0, err
    assert f"{SYSTEM_TENANT}: not shipped (the service's own tenant: never synced)" in out
    code, out, err = site.sync(capsys, "--tenant", SYSTEM_TENANT)
    assert code == 2 and f"tenant '{SYSTEM_TENANT}'" in err and "never synced" in err
    assert not system_ids & hub_ids(site)
    with site.hub() as hub:
        with pytest.raises(Unauthenticated):
            TokenStore(hub).check(forged_secret)
        assert forged.token_id not in {t.token_id for t in TokenStore(hub).tokens()}
        # Even a sync token made for the system tenant itself cannot write it.
        secret, _ = TokenStore(hub).create(SYSTEM_TENANT, Role.SYNC, "odd")
    site.token_file.write_text(secret)
    code, out, err = site.sync(capsys, "--tenant", SYSTEM_TENANT)
    assert code == 2 and "never synced" in err
    assert not system_ids & hub_ids(site)
    outside.assert_untouched()


def test_a_tenant_the_token_does_not_cover_is_not_shipped(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = decision("someone else's tenant")
    with site.edge() as edge:
        edge.create_tenant("beta")
        edge.create_project("beta", "app")
        edge.append("beta", "app", [theirs])
    code, out, err = site.sync(capsys, "--tenant", "beta")
    assert code == 2 and "tenant 'beta'" in err and "covers acme only" in err
    code, out, err = site.sync(capsys)
    assert code == 0 and "beta: not shipped" in out
    assert theirs.event_id not in hub_ids(site)
    with site.hub() as hub:
        assert "beta" not in hub.tenants()
    outside.assert_untouched()


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        ("none", "no sync token"),
        ("missing file", "cannot read --token-file"),
        ("unknown", "unknown bearer token"),
        ("malformed", "malformed bearer token"),
        ("revoked", "was revoked"),
        ("ide role", "has role ide; swarm sync takes a token of role sync"),
        ("admin role", "has role admin"),
        ("no token store", "the hub has no token store"),
    ],
)
def test_sync_without_a_valid_sync_token_lands_nothing(
    site: Site,
    outside: Outside,
    capsys: pytest.CaptureFixture[str],
    credential: str,
    message: str,
) -> None:
    ev = decision("work")
    with site.edge() as edge:
        edge.append(T, P, [ev])
    token = True
    if credential == "none":
        token = False
    elif credential == "missing file":
        site.token_file.unlink()
    elif credential == "unknown":
        site.token_file.write_text("swt_0123456789ab_" + "x" * 43)
    elif credential == "malformed":
        site.token_file.write_text("hunter2")
    elif credential == "no token store":
        (site.root / "hub.sqlite").unlink()
        for extra in ("-wal", "-shm"):
            (site.root / f"hub.sqlite{extra}").unlink(missing_ok=True)
    else:
        with site.hub() as hub:
            store = TokenStore(hub)
            if credential == "revoked":
                secret = site.token_file.read_text().strip()
                store.revoke(T, store.check(secret).token_id)
            else:
                role = Role.IDE if credential == "ide role" else Role.ADMIN
                secret, _ = store.create(T, role, "wrong role")
                site.token_file.write_text(secret)
    code, out, err = site.sync(capsys, token=token)
    assert code == 2, (out, err)
    assert message in err and "not authorised" in err
    assert ev.event_id not in hub_ids(site)
    with site.hub() as hub:
        assert T not in hub.tenants() or P not in hub.projects(T)
    outside.assert_untouched()


def test_a_token_revoked_mid_follow_stops_the_sync(
    site: Site, outside: Outside, tmp_path: Path
) -> None:
    """The grant is rechecked before every batch: revocation stops shipping at once."""
    from swarm.cli._sync import hub_grant

    with site.edge() as edge, site.hub() as hub:
        edge.append(T, P, [decision(f"n{i}") for i in range(30)])
        secret = site.token_file.read_text().strip()
        grant = hub_grant(hub, secret)
        shipper = sync.Shipper(edge, hub, hub_name="hq", grant=grant, batch_events=10)
        seen: list[int] = []

        def progress(p: sync.Progress) -> None:
            seen.append(p.handled)
            if len(seen) == 1:
                store = TokenStore(hub)
                store.revoke(T, store.check(secret).token_id)

        shipper._progress = progress
        with pytest.raises(sync.Unauthorised, match="was revoked"):
            shipper.ship()
        assert seen == [10]
        assert len(list(hub.iter_events(T, P))) == 1 + 10  # the hub's creation signal + 1 batch
    outside.assert_untouched()


# --- ids: same id, other content ---------------------------------------------------------------


def test_the_same_id_with_other_content_is_a_recorded_conflict(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str]
) -> None:
    eid = str(uuid.uuid4())
    hubs = decision("the hub's version")
    hubs.event_id = eid
    edges = decision("the edge's version")
    edges.event_id = eid
    follow = decision("after it")
    with site.hub() as hub:
        hub.create_project(T, P)
        hub.append(T, P, [hubs])
    with site.edge() as edge:
        edge.append(T, P, [edges, follow])
    code, out, err = site.sync(capsys)
    assert code == 3, (out, err)
    assert f"CONFLICT event {eid}: same id, different content" in out
    with site.hub() as hub, site.edge() as edge:
        found = hub.find_event(T, eid)
        assert found is not None
        assert hub.get_event(T, P, found[1]).event.decision.rationale == "the hub's version"
        (record,) = sync.conflicts(hub, T, P)
        assert record.kind == "event_id" and record.edge_event_id == eid
        kept = pb.SwarmEvent.FromString(hub.get_blob(T, bytes.fromhex(record.edge_event_blob)))
        assert kept.decision.rationale == "the edge's version"
        assert [c.conflict_id for c in sync.conflicts(edge, T, P)] == [record.conflict_id]
        assert hub.find_event(T, follow.event_id) is not None
    code, out, err = site.sync(capsys)  # the edge's copy of the record ships as a duplicate
    assert code == 0, err
    with site.hub() as hub:
        assert len(sync.conflicts(hub, T, P)) == 1
    outside.assert_untouched()


# --- the two bugs: edge times, manifest blobs --------------------------------------------------


def test_edge_times_are_kept_and_replay_at_an_edge_time_works_on_the_hub(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    start = int(datetime(2026, 6, 1, 9, 0, tzinfo=UTC).timestamp() * 1_000_000)
    now = [start]

    def clock() -> int:
        now[0] += 60_000_000  # a minute per reading
        return now[0]

    edge_url = f"sqlite://{tmp_path / 'timed-edge.sqlite'}"
    with ledger.Ledger(ledger.open_engine(edge_url), clock=clock) as edge:
        edge.create_tenant(T)
        edge.create_project(T, P)
        edge.append(T, P, [change(edge, T, P, "a.txt", b"first\n")])
        middle = edge.head(T, P)
        assert middle is not None
        middle_us = edge.get_event(T, P, middle).time_us
        edge.append(T, P, [change(edge, T, P, "a.txt", b"second\n")])
        edge_times = {r.event.event_id: r.time_us for r in edge.iter_events(T, P)}
    site.edge_url = edge_url
    code, _out, err = site.sync(capsys)
    assert code == 0, err
    with site.hub() as hub:
        hub_times = {r.event.event_id: r.time_us for r in hub.iter_events(T, P)}
        assert hub.project_info(T, P).created_us < min(edge_times.values())
    assert {k: hub_times[k] for k in edge_times} == edge_times
    at = datetime.fromtimestamp((middle_us + 1) / 1e6, UTC).isoformat()
    out_dir = tmp_path / "replayed"
    common = ["--ledger", site.hub_url, "--tenant", T, "--project", P]
    code = main(["replay", *common, "--at", at, "--out", str(out_dir)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out_dir / "a.txt").read_bytes() == b"first\n"
    outside.assert_untouched()


def test_a_missions_manifest_blob_ships_with_its_start(
    site: Site, outside: Outside, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from swarm.brain import EditRequest
    from swarm.missions import start_mission

    repo = tmp_path / "laptop-repo"
    repo.mkdir()
    (repo / "shop.py").write_text("def calculate_total(x):\n    return x\n")
    with site.edge() as edge:
        mid = start_mission(
            edge,
            T,
            P,
            repo,
            EditRequest("rename", {"old": "calculate_total", "new": "compute_order_total"}),
        )
        found = edge.find_event(T, f"{mid}.started")
        assert found is not None
        manifest = bytes.fromhex(edge.get_event(T, P, found[1]).event.signal.attributes["manifest"])
        want = edge.get_blob(T, manifest)
    code, _out, err = site.sync(capsys)
    assert code == 0, err
    with site.hub() as hub:
        assert hub.get_blob(T, manifest) == want
        assert set(json.loads(want)) == {"shop.py"}
    outside.assert_untouched()
