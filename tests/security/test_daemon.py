"""The daemon stays up under abuse: each attack against a real ``swarm serve`` process.

Idle streams by the thousand (with and without a token), a tenant's streams
past its cap, megabyte request fields echoed into errors and logs, a revoked
or expired token's open stream, and a person's lock taken over by another
token. Each test asserts the refusal and that the canary folder outside the
daemon's roots is byte-identical.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

import ledger
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from tests._grpc import health_stub, reflection_stub
from tests.daemon.conftest import DaemonProc, make_token, start_daemon, swarm_cli
from tests.security._outside import Outside

TENANT_A, TENANT_B = "acme", "bolt"
PROJECT = "app"
CAP = 300  # --max-streams-per-tenant of the shared daemon


@dataclass
class Site:
    """One daemon for this module and the tokens its tests use."""

    daemon: DaemonProc
    url: str
    tokens: dict[str, str]
    workspaces: Path

    def md(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)

    def stub(self) -> Any:
        return self.daemon.stub()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("daemon-abuse")
    url = f"sqlite://{work / 'ledger.sqlite'}"
    tokens = {
        f"{t[0]}-{role}": make_token(url, t, role)
        for t in (TENANT_A, TENANT_B)
        for role in ("ops", "ide", "admin")
    }
    tokens["a-ide2"] = make_token(url, TENANT_A, "ide")
    with ledger.open_ledger(url) as led:
        for t in (TENANT_A, TENANT_B):
            led.create_project(t, PROJECT, exist_ok=True)
    workspaces = work / "workspaces"
    workspaces.mkdir()
    daemon = start_daemon(
        url, work, "--workspaces", str(workspaces), "--max-streams-per-tenant", str(CAP)
    )
    try:
        yield Site(daemon, url, tokens, workspaces)
    finally:
        assert daemon.stop() == 0


def ref(project: str = PROJECT, tenant: str = "") -> api.ProjectRef:
    return api.ProjectRef(tenant=tenant, project=project)


def code_and_details(fn: Any, *args: Any, **kwargs: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        fn(*args, **kwargs)
    return err.value.code(), err.value.details() or ""


# Idle streams ---------------------------------------------------------------------------


async def _hold_idle_streams(site: Site, *, reflection: int, watches: int, per_tenant: int) -> Any:
    """Open idle streams on a few multiplexed connections, then check health and a unary call.

    The unauthenticated reflection streams open first and send nothing (the
    attack); HTTP/2 keeps a connection's frames in order, so once the later
    streams on the same connections have answered, the server holds them all.
    """
    opts = [("grpc.use_local_subchannel_pool", 1)]  # distinct connections, not one shared
    channels = [grpc.aio.insecure_channel(site.daemon.target, options=opts) for _ in range(4)]
    calls: list[Any] = []
    try:
        for i in range(reflection):
            refl = reflection_stub(channels[i % 4])
            calls.append(refl.ServerReflectionInfo())  # no token, no request: idle
        health_calls = []
        for i in range(watches):
            health = health_stub(channels[i % 4])
            call = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=120)
            health_calls.append(call)
        tails = []
        for i in range(per_tenant):
            for who in ("a-ops", "b-ops"):
                swarm = api_grpc.SwarmStub(channels[i % 4])
                req = api.StreamEventsRequest(project=ref(), follow=True)
                tails.append(swarm.StreamEvents(req, metadata=site.md(who), timeout=120))
        calls += health_calls + tails
        # Each watch answers SERVING and each tail its first event: they are open and parked.
        firsts = await asyncio.gather(*(c.read() for c in health_calls + tails))
        assert len(firsts) == watches + 2 * per_tenant
        for channel in channels:  # on the crowded connections and on a fresh one
            got = await health_stub(channel).Check(
                health_pb2.HealthCheckRequest(service="swarm.v1.Swarm"), timeout=10
            )
            assert got.status == health_pb2.HealthCheckResponse.SERVING
            listed = await api_grpc.SwarmStub(channel).ListProjects(
                api.ListProjectsRequest(), metadata=site.md("a-ops"), timeout=10
            )
            assert [p.project for p in listed.projects] == [PROJECT]
        return len(calls)
    finally:
        for c in calls:
            c.cancel()
        for channel in channels:
            await channel.close()


def test_a_thousand_idle_streams_leave_health_and_unary_calls_answering(
    site: Site, outside: Outside
) -> None:
    held = asyncio.run(_hold_idle_streams(site, reflection=400, watches=200, per_tenant=200))
    assert held == 1000
    # Unauthenticated calls on the Swarm service are still refused, and fresh clients served.
    stub = site.stub()
    code, details = code_and_details(stub.ListProjects, api.ListProjectsRequest(), timeout=10)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "bearer token" in details
    health = health_stub(grpc.insecure_channel(site.daemon.target))
    assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == 1
    outside.assert_untouched()


def test_a_tenants_streams_past_the_cap_get_resource_exhausted(
    tmp_path: Path, outside: Outside
) -> None:
    url = f"sqlite://{tmp_path / 'cap.sqlite'}"
    a, b = make_token(url, TENANT_A, "ops"), make_token(url, TENANT_B, "ops")
    with ledger.open_ledger(url) as led:
        led.create_project(TENANT_A, PROJECT)
        led.create_project(TENANT_B, PROJECT)
    daemon = start_daemon(url, tmp_path, "--max-streams-per-tenant", "3")
    try:
        stub = daemon.stub()
        follow = api.StreamEventsRequest(project=ref(), follow=True)
        md_a = [("authorization", f"Bearer {a}")]
        held = [stub.StreamEvents(follow, metadata=md_a, timeout=60) for _ in range(3)]
        for call in held:
            next(call)  # open and parked
        extra = stub.StreamEvents(follow, metadata=md_a, timeout=60)
        code, details = code_and_details(next, extra)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert TENANT_A in details and "--max-streams-per-tenant" in details
        other = stub.StreamEvents(follow, metadata=[("authorization", f"Bearer {b}")], timeout=60)
        assert next(other).cursor  # another tenant is not affected
        other.cancel()
        # A stream that ends gives its slot back: the client waits for the end, then reopens.
        closing = held.pop()
        closing.cancel()
        reopened = None
        for _ in range(200):  # the server sees the cancel asynchronously; bounded retries
            attempt = stub.StreamEvents(follow, metadata=md_a, timeout=60)
            try:
                next(attempt)
                reopened = attempt
                break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                # The retry is paced by a call that must answer, not by a sleep.
                stub.ListProjects(api.ListProjectsRequest(), metadata=md_a, timeout=10)
        assert reopened is not None
        for call in [*held, reopened]:
            call.cancel()
    finally:
        assert daemon.stop() == 0
    outside.assert_untouched()


def test_one_address_cannot_fill_the_server_with_streams_that_need_no_token(
    tmp_path: Path, outside: Outside
) -> None:
    url = f"sqlite://{tmp_path / 'anon.sqlite'}"
    ops = make_token(url, TENANT_A, "ops")
    with ledger.open_ledger(url) as led:
        led.create_project(TENANT_A, PROJECT)
    daemon = start_daemon(url, tmp_path, "--max-anonymous-streams-per-address", "5")
    try:
        channel = grpc.insecure_channel(daemon.target)
        health = health_stub(channel)
        watches = [health.Watch(health_pb2.HealthCheckRequest(), timeout=60) for _ in range(5)]
        for w in watches:
            assert next(w).status == health_pb2.HealthCheckResponse.SERVING  # held open
        code, details = code_and_details(
            next, health.Watch(health_pb2.HealthCheckRequest(), timeout=60)
        )
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "without a token" in details
        refl = reflection_stub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        code, _ = code_and_details(lambda: list(refl.ServerReflectionInfo(iter([request]))))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        # Health checks, and a tenant's own streams, are not held back by it.
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == 1
        tail = daemon.stub().StreamEvents(
            api.StreamEventsRequest(project=ref(), follow=True),
            metadata=[("authorization", f"Bearer {ops}")],
            timeout=60,
        )
        assert next(tail).cursor
        tail.cancel()
        watches.pop().cancel()
        answered = None
        for _ in range(200):  # the server sees the cancel asynchronously; bounded retries
            try:
                answered = list(refl.ServerReflectionInfo(iter([request]), timeout=10))
                break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert answered is not None and answered[0].list_services_response.service
        for w in watches:
            w.cancel()
        channel.close()
    finally:
        assert daemon.stop() == 0
    outside.assert_untouched()


# Oversized fields -------------------------------------------------------------------------


def _log_size_when_settled(daemon: DaemonProc, trace: str, lines: int) -> int:
    """The log's size once ``lines`` lines carry ``trace`` (the log is written after the reply)."""
    for _ in range(400):
        text = daemon.log.read_text()
        if text.count(trace) >= lines:
            return len(text.encode())
        health_stub(grpc.insecure_channel(daemon.target)).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
    raise AssertionError(f"the daemon never logged {lines} lines of trace {trace}")


def _rss_mb(daemon: DaemonProc) -> float:
    for line in Path(f"/proc/{daemon.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_oversized_fields_are_clipped_in_errors_and_logs(site: Site, outside: Outside) -> None:
    stub = site.stub()
    big = "x" * (4 * 1024 * 1024)
    calls: list[tuple[Any, Any]] = [
        (stub.ReadFile, api.ReadFileRequest(project=ref(), path=big)),
        (stub.CreateProject, api.CreateProjectRequest(project=ref(big))),
        (stub.GetMission, api.GetMissionRequest(project=ref(), mission_id=big)),
        (stub.History, api.HistoryRequest(project=ref(), path=big)),
        (stub.AcquireLock, api.AcquireLockRequest(project=ref(), path=big, holder="human:x")),
        (stub.AcquireLock, api.AcquireLockRequest(project=ref(), path="a", holder=big, ttl_s=5)),
        (stub.ListFiles, api.ListFilesRequest(project=ref(), at=api.At(versionstamp=big))),
        (stub.RevokeToken, api.RevokeTokenRequest(token_id=big)),
        (stub.SubmitMission, api.SubmitMissionRequest(project=ref(), kind="x", workspace=big)),
        (stub.ListProjects, api.ListProjectsRequest(tenant=big)),
    ]
    trace = uuid.uuid4().hex
    md = [*site.md("a-admin"), ("x-trace-id", trace)]
    before = _log_size_when_settled(site.daemon, "daemon started", 1)
    rss_before = _rss_mb(site.daemon)
    for _ in range(2):  # 20 calls, 4 MB each
        for method, request in calls:
            code, details = code_and_details(method, request, metadata=md, timeout=30)
            assert code in (
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.NOT_FOUND,
                grpc.StatusCode.PERMISSION_DENIED,
            ), (code, details[:300])
            assert len(details.encode()) <= 1200, f"{len(details)} bytes echoed"
            assert "bytes)" in details or len(details) < 300
    after = _log_size_when_settled(site.daemon, trace, 20)
    assert after - before < 20 * 4096, f"the log grew by {after - before} bytes for 20 calls"
    grown = _rss_mb(site.daemon) - rss_before
    print(f"daemon RSS grew {grown:.1f} MB over 20 calls of 4 MB")
    assert grown < 200, f"daemon RSS grew {grown:.0f} MB over 20 calls of 4 MB"
    for line in site.daemon.log.read_text().splitlines():
        if trace in line:
            assert len(line) < 4096 and json.loads(line)["trace_id"] == trace
    outside.assert_untouched()


# Revoked and expired tokens ---------------------------------------------------------------


def _open_tail(site: Site, token: str) -> Any:
    stub = site.stub()
    call = stub.StreamEvents(
        api.StreamEventsRequest(project=ref(), follow=True),
        metadata=[("authorization", f"Bearer {token}")],
        timeout=60,  # a safety net only: the test waits for the stream's end
    )
    assert next(call).cursor  # open, and now idle
    return call


def _end_of(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        for _ in call:
            pass
    return err.value.code(), err.value.details() or ""


@pytest.mark.parametrize("how", ["cli-on-the-ledger", "rpc"])
def test_a_revoked_tokens_open_stream_ends_unauthenticated(
    site: Site, outside: Outside, how: str
) -> None:
    made = swarm_cli(
        "admin", "token", "create", "--ledger", site.url, "--tenant", TENANT_A,
        "--role", "ops", "--json",
    )  # fmt: skip
    token = json.loads(made.stdout)
    call = _open_tail(site, token["secret"])
    if how == "rpc":
        site.stub().RevokeToken(
            api.RevokeTokenRequest(token_id=token["token_id"]),
            metadata=site.md("a-admin"),
            timeout=10,
        )
    else:
        swarm_cli(
            "admin", "token", "revoke", token["token_id"], "--ledger", site.url,
            "--tenant", TENANT_A,
        )  # fmt: skip
    code, details = _end_of(call)
    assert code == grpc.StatusCode.UNAUTHENTICATED, details
    assert f"token {token['token_id']} was revoked" in details
    outside.assert_untouched()


def test_an_expired_token_is_refused_saying_expired(site: Site, outside: Outside) -> None:
    made = swarm_cli(
        "admin", "token", "create", "--ledger", site.url, "--tenant", TENANT_A,
        "--role", "ops", "--expires", "2s", "--json",
    )  # fmt: skip
    token = json.loads(made.stdout)
    assert token["expires_us"] > token["created_us"]
    md = [("authorization", f"Bearer {token['secret']}")]
    stub = site.stub()
    try:  # a stream open when the token expires ends with it
        code, details = _end_of(_open_tail(site, token["secret"]))
    except grpc.RpcError as exc:  # it expired before the stream opened
        code, details = exc.code(), exc.details() or ""
    assert code == grpc.StatusCode.UNAUTHENTICATED and "expired" in details, details
    code, details = code_and_details(
        stub.ListProjects, api.ListProjectsRequest(), metadata=md, timeout=10
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert f"token {token['token_id']} expired at" in details
    # The API refuses an expiry in the past; one in the future works.
    code, details = code_and_details(
        stub.CreateToken,
        api.CreateTokenRequest(role=api.TOKEN_ROLE_OPS, expires_us=1),
        metadata=site.md("a-admin"),
        timeout=10,
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "not in the future" in details
    later = ledger.wall_clock_us() + 3600 * 1_000_000
    fresh = stub.CreateToken(
        api.CreateTokenRequest(role=api.TOKEN_ROLE_OPS, expires_us=later),
        metadata=site.md("a-admin"),
        timeout=10,
    )
    assert fresh.info.expires_us == later
    ok = stub.ListProjects(
        api.ListProjectsRequest(),
        metadata=[("authorization", f"Bearer {fresh.secret}")],
        timeout=10,
    )
    assert ok.projects
    outside.assert_untouched()


# A person's lock --------------------------------------------------------------------------


def _take(site: Site, who: str, path: str, holder: str = "human:alice") -> api.LockInfo:
    got: api.LockInfo = site.stub().AcquireLock(
        api.AcquireLockRequest(project=ref(), path=path, holder=holder, ttl_s=600),
        metadata=site.md(who),
        timeout=10,
    )
    return got


def _tokens_seen(site: Site, who: str, path: str) -> bytes:
    listed = site.stub().ListLocks(
        api.ListLocksRequest(project=ref()), metadata=site.md(who), timeout=10
    )
    (lock,) = [lk for lk in listed.locks if lk.path == path]
    assert lock.holder == "human:alice"
    return bytes(lock.token)


def test_ops_and_other_tokens_see_no_fencing_tokens(site: Site, outside: Outside) -> None:
    path = f"src/{uuid.uuid4().hex[:8]}.py"
    lock = _take(site, "a-ide", path)
    assert lock.token
    assert _tokens_seen(site, "a-ops", path) == b""
    assert _tokens_seen(site, "a-ide2", path) == b""
    assert _tokens_seen(site, "a-ide", path) == lock.token  # the holder's own token
    assert _tokens_seen(site, "a-admin", path) == lock.token
    outside.assert_untouched()


def test_another_ide_token_cannot_take_over_or_release_a_persons_lock(
    site: Site, outside: Outside
) -> None:
    stub = site.stub()
    path = f"src/{uuid.uuid4().hex[:8]}.py"
    lock = _take(site, "a-ide", path)
    # Even knowing the fencing token (it is also the cursor of the LOCK_ACQUIRED event).
    release = api.ReleaseLockRequest(
        project=ref(), path=path, holder="human:alice", token=lock.token
    )
    renew = api.RenewLockRequest(
        project=ref(), path=path, holder="human:alice", token=lock.token, ttl_s=600
    )
    for method, request in ((stub.ReleaseLock, release), (stub.RenewLock, renew)):
        code, details = code_and_details(method, request, metadata=site.md("a-ide2"), timeout=10)
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "only that token or an admin" in details
    code, _ = code_and_details(_take, site, "a-ide2", path)  # re-acquire as the same person
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _ = code_and_details(stub.ReleaseLock, release, metadata=site.md("a-ops"), timeout=10)
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert _tokens_seen(site, "a-admin", path) == lock.token  # still held, unchanged
    # Its holder renews and releases it.
    stub.RenewLock(renew, metadata=site.md("a-ide"), timeout=10)
    stub.ReleaseLock(release, metadata=site.md("a-ide"), timeout=10)
    listed = stub.ListLocks(api.ListLocksRequest(project=ref()), metadata=site.md("a-ops"))
    assert path not in [lk.path for lk in listed.locks]
    outside.assert_untouched()


def test_an_admin_may_release_a_persons_lock(site: Site, outside: Outside) -> None:
    stub = site.stub()
    path = f"src/{uuid.uuid4().hex[:8]}.py"
    _take(site, "a-ide", path)
    token = _tokens_seen(site, "a-admin", path)
    stub.ReleaseLock(
        api.ReleaseLockRequest(project=ref(), path=path, holder="human:alice", token=token),
        metadata=site.md("a-admin"),
        timeout=10,
    )
    listed = stub.ListLocks(api.ListLocksRequest(project=ref()), metadata=site.md("a-ops"))
    assert path not in [lk.path for lk in listed.locks]
    # Another tenant's admin reaches nothing of it.
    lock = _take(site, "a-ide", path)
    code, _ = code_and_details(
        stub.ReleaseLock,
        api.ReleaseLockRequest(
            project=ref(tenant=TENANT_A), path=path, holder="human:alice", token=lock.token
        ),
        metadata=site.md("b-admin"),
        timeout=10,
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    outside.assert_untouched()
