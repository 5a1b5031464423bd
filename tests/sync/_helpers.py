"""Events for the sync tests: decisions and chained StateChanges with their blobs stored."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ledger
import sync
from ledger import Engine, Ledger
from proto.swarm.v1 import events_pb2 as pb


def decision(note: str = "") -> pb.SwarmEvent:
    return pb.SwarmEvent(
        event_id=str(uuid.uuid4()),
        agent_role=pb.AGENT_ROLE_SCOUT,
        agent_id="scout-1",
        mission_id="m-1",
        decision=pb.Decision(kind="scout.usages", rationale=note or "looked around"),
    )


def change(led: Ledger, tenant: str, project: str, path: str, content: bytes) -> pb.SwarmEvent:
    """A StateChange of ``path`` to ``content`` from its current head, blob stored."""
    head = led.file_state(tenant, project, path)
    blob = led.put_blob(tenant, content)
    return pb.SwarmEvent(
        event_id=str(uuid.uuid4()),
        agent_role=pb.AGENT_ROLE_CODER,
        agent_id="coder-1",
        mission_id="m-1",
        state_change=pb.StateChange(
            path=path,
            previous_sha256=head.sha256 if head else b"",
            new_sha256=blob.sha256,
            new_size=blob.size,
            content=pb.BlobRef(sha256=blob.sha256, size=blob.size),
        ),
    )


def fill(led: Ledger, tenant: str, project: str, n: int, *, seed: int = 0, batch: int = 50) -> None:
    """Append ``n`` events, about one in five a StateChange over a handful of files."""
    rng = random.Random(seed)
    pending: list[pb.SwarmEvent] = []
    for i in range(n):
        if rng.random() < 0.2:
            led.append(tenant, project, pending)
            pending = []
            path = f"src/m{rng.randrange(6)}.py"
            pending.append(change(led, tenant, project, path, f"v{seed}-{i}\n".encode() * 3))
            led.append(tenant, project, pending)
            pending = []
        else:
            pending.append(decision(f"{seed}-{i}"))
        if len(pending) >= batch:
            led.append(tenant, project, pending)
            pending = []
    led.append(tenant, project, pending)


def event_ids(led: Ledger, tenant: str, project: str) -> list[str]:
    return [r.event.event_id for r in led.iter_events(tenant, project)]


def assert_hub_mirrors_edge(edge: Ledger, hub: Ledger, tenant: str, project: str) -> None:
    """The hub holds the edge's events once each, in the edge's order, with every blob.

    The hub's own PROJECT_CREATED signal (written when sync created the
    project there) is the only event it may hold besides.
    """
    edge_ids = event_ids(edge, tenant, project)
    hub_events = list(hub.iter_events(tenant, project))
    hub_ids = [r.event.event_id for r in hub_events]
    assert len(hub_ids) == len(set(hub_ids))
    extra = [r for r in hub_events if r.event.event_id not in set(edge_ids)]
    assert len(extra) <= 1
    for r in extra:
        assert r.event.signal.kind == pb.SIGNAL_KIND_PROJECT_CREATED
    assert [i for i in hub_ids if i in set(edge_ids)] == edge_ids
    for r in hub_events:
        if r.kind == "state_change" and r.event.state_change.new_sha256:
            sha = r.event.state_change.new_sha256
            assert hub.get_blob(tenant, sha) == edge.get_blob(tenant, sha)
    assert {f.path: f.sha256 for f in hub.files(tenant, project)} == {
        f.path: f.sha256 for f in edge.files(tenant, project)
    }


class FlakyEngine:
    """A real engine whose commits fail transiently one in ``every`` (a deliberate seam).

    Failures alternate between before the commit (nothing written) and after
    it (written, but the caller hears an error: FoundationDB's
    commit_unknown_result), the case that makes idempotency matter.
    """

    def __init__(self, inner: Engine, every: int = 5, seed: int = 0) -> None:
        self.inner = inner
        self.name = inner.name
        self.every = every
        self.rng = random.Random(seed)
        self.commits = 0
        self.failures = 0

    def _error(self) -> ledger.LedgerError:
        if self.failures % 2:
            return ledger.Conflict(3, "injected transient conflict")
        return ledger.StorageError("injected transient storage error")

    def transact(self, fn: Callable[[Any], Any]) -> Any:
        self.commits += 1
        if self.rng.randrange(self.every) == 0:
            self.failures += 1
            if self.failures % 4 < 2:
                raise self._error()
            self.inner.transact(fn)  # committed; the caller hears an error anyway
            raise self._error()
        return self.inner.transact(fn)

    def read(self, fn: Callable[[Any], Any]) -> Any:
        return self.inner.read(fn)

    def open_directory(self, path: tuple[str, ...], create: bool) -> bytes | None:
        return self.inner.open_directory(path, create)

    def list_directory(self, path: tuple[str, ...]) -> list[str]:
        return self.inner.list_directory(path)

    def close(self) -> None:
        self.inner.close()


# The sync API takes a grant naming the tenants it may write (the CLI builds one from a
# sync token checked against the hub); these tests ship tenant "acme" only.
GRANT = sync.SyncGrant.of(["acme"], holder="test grant")


def sync_token(hub_url: str, tenant: str, folder: Path) -> Path:
    """A `sync` token for ``tenant`` made in the hub's token store, written to a file."""
    from swarm.daemon._tokens import Role, TokenStore

    with ledger.open_ledger(hub_url) as hub:
        secret, _ = TokenStore(hub).create(tenant, Role.SYNC, "test edge")
    path = folder / f"sync-token-{tenant}"
    path.write_text(secret + "\n")
    return path
