"""What the ledger refuses: each a clear error from its own tree, and nothing changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import ledger
from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from tests.ledger._events import change, decision


@pytest.fixture
def proj(led: Ledger, tenant: str) -> tuple[str, str]:
    led.create_tenant(tenant)
    led.create_project(tenant, "web")
    return tenant, "web"


@pytest.mark.parametrize(
    "bad",
    ["", "UPPER", "has space", "-leading", "a" * 64, "semi;colon", "dot.dot", "nul\x00", "é"],
)
def test_bad_tenant_and_project_ids(led: Ledger, tenant: str, bad: str) -> None:
    with pytest.raises(ledger.InvalidId) as err:
        led.create_tenant(bad)
    assert err.value.kind == "tenant"
    led.create_tenant(tenant)
    with pytest.raises(ledger.InvalidId) as err:
        led.create_project(tenant, bad)
    assert err.value.kind == "project"
    assert led.projects(tenant) == []


def test_non_string_id(led: Ledger) -> None:
    with pytest.raises(ledger.InvalidId, match="must be a string"):
        led.create_tenant(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../etc/passwd", "'..'"),
        ("src/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:\\x", "absolute"),
        ("a\x00b", "NUL"),
        ("", "empty"),
        ("a//b", "empty"),
        ("./a", "'.'"),
        ("a\\b", "separator"),
        ("x" * 1025, "longer"),
    ],
)
def test_bad_paths(led: Ledger, proj: tuple[str, str], path: str, reason: str) -> None:
    t, p = proj
    with pytest.raises(ledger.InvalidPath, match=reason):
        led.acquire_lock(t, p, path, "coder-1", 5)
    ev = pb.SwarmEvent(
        event_id="bad-path", state_change=pb.StateChange(path=path, new_sha256=b"\x01" * 32)
    )
    with pytest.raises(ledger.InvalidPath):
        led.append(t, p, [ev])
    assert led.find_event(t, "bad-path") is None


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (pb.SwarmEvent(decision=pb.Decision()), "must not be empty"),
        (pb.SwarmEvent(event_id="has space", decision=pb.Decision()), "event id"),
        (pb.SwarmEvent(event_id="no-payload"), "no payload"),
        (
            pb.SwarmEvent(event_id="x1", tenant="someone-else", decision=pb.Decision()),
            "belongs to tenant",
        ),
        (
            pb.SwarmEvent(event_id="x2", project="other", decision=pb.Decision()),
            "belongs to project",
        ),
        (pb.SwarmEvent(event_id="x3", time_us=-5, decision=pb.Decision()), "negative"),
        (
            pb.SwarmEvent(event_id="x4", state_change=pb.StateChange(path="a.py")),
            "create, modify or delete",
        ),
        (
            pb.SwarmEvent(
                event_id="x5", state_change=pb.StateChange(path="a.py", new_sha256=b"short")
            ),
            "32 bytes",
        ),
        (
            pb.SwarmEvent(
                event_id="x6",
                state_change=pb.StateChange(
                    path="a.py", new_sha256=b"\x01" * 32, fencing_token=b"abc"
                ),
            ),
            "10-byte",
        ),
    ],
)
def test_bad_events_change_nothing(
    led: Ledger, proj: tuple[str, str], event: pb.SwarmEvent, match: str
) -> None:
    t, p = proj
    before = led.project_info(t, p)
    good = decision()
    with pytest.raises(ledger.InvalidArgument, match=match):
        led.append(t, p, [good, event])
    assert led.project_info(t, p) == before
    assert led.find_event(t, good.event_id) is None


def test_bad_agent_id(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    with pytest.raises(ledger.InvalidId, match="agent"):
        led.append(t, p, [decision(agent="bad agent")])
    with pytest.raises(ledger.InvalidId, match="agent"):
        led.acquire_lock(t, p, "a.py", "", 5)


def test_event_over_the_value_limit(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    big = decision(text="x" * 100_000)
    with pytest.raises(ledger.ValueTooLarge, match="blob"):
        led.append(t, p, [big])
    assert led.find_event(t, big.event_id) is None


def test_batch_over_the_transaction_limit(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    events = [decision(text="y" * 90_000) for _ in range(120)]  # ~10.8 MB
    with pytest.raises(ledger.TransactionTooLarge):
        led.append(t, p, events)
    assert len(led.read(t, p)) == 1
    with pytest.raises(ledger.InvalidArgument, match="at most"):
        led.append(t, p, [decision() for _ in range(ledger.MAX_BATCH + 1)])


def test_stale_fencing_token(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    lock = led.acquire_lock(t, p, "a.py", "coder-1", 5)
    forged = bytes(10)
    with pytest.raises(ledger.StaleFencingToken) as err:
        led.append(t, p, [change(led, t, "a.py", b"x", token=forged)])
    assert err.value.current == lock.token
    assert led.file_state(t, p, "a.py") is None


def test_bad_lock_ttl(led: Ledger, proj: tuple[str, str]) -> None:
    t, p = proj
    with pytest.raises(ledger.InvalidArgument, match="ttl"):
        led.acquire_lock(t, p, "a.py", "coder-1", 0)


@pytest.mark.parametrize(
    "url",
    [
        "postgres://x",
        "nonsense",
        "sqlite://host/x.db",
        "sqlite:",
        "sqlite:///tmp/x.db?bogus=1",
        "sqlite:///tmp/x.db?sync=sometimes",
        "memory:?x=1",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ledger.InvalidLedgerUrl):
        ledger.open_ledger(url)


def test_fdb_without_a_client_library_is_a_clear_error(tmp_path: Path) -> None:
    try:
        import fdb

        fdb.api_version  # noqa: B018
        ctypes_ok = True
    except Exception:
        ctypes_ok = False
    if not ctypes_ok:
        pytest.skip("fdb package not importable")
    import os

    if os.environ.get("SWARM_FDB_CLUSTER_FILE"):
        pytest.skip("a FoundationDB client is configured here")
    with pytest.raises(ledger.EngineUnavailable, match="fdb engine unavailable"):
        ledger.open_ledger(f"fdb://{tmp_path / 'fdb.cluster'}")


def test_corrupt_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ledger.CorruptStore):
        ledger.open_ledger(f"sqlite://{path}")
    assert path.read_bytes() == b"this is not a database at all" * 100


def test_damaged_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite"
    led = ledger.open_ledger(f"sqlite://{path}")
    led.create_tenant("a")
    led.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xaa" * (4096 - 100)  # wreck the schema page after the header
    path.write_bytes(bytes(data))
    with pytest.raises(ledger.StorageError):
        ledger.open_ledger(f"sqlite://{path}").tenants()


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other-app.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(ledger.ForeignStore, match="users"):
        ledger.open_ledger(f"sqlite://{path}")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("users",)]


def test_missing_folder_and_directory_path(tmp_path: Path) -> None:
    with pytest.raises(ledger.StorageError, match="does not exist"):
        ledger.open_ledger(f"sqlite://{tmp_path / 'no' / 'such' / 'x.sqlite'}")
    with pytest.raises(ledger.StorageError, match="directory"):
        ledger.open_ledger(f"sqlite://{tmp_path}")


def test_driver_errors_never_leak(tmp_path: Path) -> None:
    """Every refusal above is a LedgerError; none is a sqlite3 exception."""
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(ledger.LedgerError) as err:
        ledger.open_ledger(f"sqlite://{path}").tenants()
    assert not isinstance(err.value, sqlite3.Error)
