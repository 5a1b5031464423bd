"""Who may call what: no token, bad tokens, revoked tokens, other tenants, lower roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from proto.swarm.v1 import memory_pb2 as mpb
from proto.swarm.v1 import service_pb2 as api
from tests.daemon.conftest import TENANT_A, TENANT_B, World, make_token, ref, swarm_cli

# Every method of the service, with a request aimed at tenant B's project.
B = TENANT_B
CALLS: dict[str, Callable[[], Any]] = {
    "ListProjects": lambda: api.ListProjectsRequest(tenant=B),
    "CreateProject": lambda: api.CreateProjectRequest(project=ref(B, "new"), exist_ok=True),
    "SubmitMission": lambda: api.SubmitMissionRequest(project=ref(B), kind="rename"),
    "GetMission": lambda: api.GetMissionRequest(project=ref(B), mission_id="m1"),
    "ListMissions": lambda: api.ListMissionsRequest(project=ref(B)),
    "CancelMission": lambda: api.CancelMissionRequest(project=ref(B), mission_id="m1"),
    "FollowMission": lambda: api.FollowMissionRequest(project=ref(B), mission_id="m1"),
    "StreamEvents": lambda: api.StreamEventsRequest(project=ref(B)),
    "History": lambda: api.HistoryRequest(project=ref(B), path="a.py"),
    "GetMissionStory": lambda: api.GetMissionRequest(project=ref(B), mission_id="m1"),
    "QueryAudit": lambda: api.QueryAuditRequest(project=ref(B)),
    "WhoChanged": lambda: api.WhoChangedRequest(project=ref(B), path="a.py"),
    "VerifyProject": lambda: api.VerifyProjectRequest(project=ref(B)),
    "ListFiles": lambda: api.ListFilesRequest(project=ref(B)),
    "ReadFile": lambda: api.ReadFileRequest(project=ref(B), path="a.py"),
    "Fork": lambda: api.ForkRequest(project=ref(B), new_project="stolen"),
    "AcquireLock": lambda: api.AcquireLockRequest(
        project=ref(B), path="a.py", holder="human:eve", ttl_s=5
    ),
    "RenewLock": lambda: api.RenewLockRequest(
        project=ref(B), path="a.py", holder="human:eve", token=b"x", ttl_s=5
    ),
    "ReleaseLock": lambda: api.ReleaseLockRequest(
        project=ref(B), path="a.py", holder="human:eve", token=b"x"
    ),
    "ListLocks": lambda: api.ListLocksRequest(project=ref(B)),
    "CreateToken": lambda: api.CreateTokenRequest(tenant=B, role=api.TOKEN_ROLE_ADMIN),
    "RevokeToken": lambda: api.RevokeTokenRequest(tenant=B, token_id="abc"),
    "ListTokens": lambda: api.ListTokensRequest(tenant=B),
    "ReadEvidence": lambda: api.ReadEvidenceRequest(project=ref(B), versionstamp="0" * 24),
    "SearchMemory": lambda: mpb.SearchMemoryRequest(tenant=B, project="app", query="tax"),
}
STREAMS = {"FollowMission", "StreamEvents"}


def invoke(stub: Any, method: str, request: Any, md: tuple[tuple[str, str], ...] | None) -> Any:
    fn = getattr(stub, method)
    if method in STREAMS:
        return list(fn(request, metadata=md, timeout=10))
    return fn(request, metadata=md, timeout=10)


def code_of(
    stub: Any, method: str, request: Any, md: tuple[tuple[str, str], ...] | None
) -> grpc.StatusCode:
    try:
        invoke(stub, method, request, md)
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_every_method_is_listed() -> None:
    from proto.swarm.v1 import service_pb2

    names = set(service_pb2.DESCRIPTOR.services_by_name["Swarm"].methods_by_name)
    assert names == set(CALLS)


@pytest.mark.parametrize("method", sorted(CALLS))
@pytest.mark.parametrize("who", ["a-admin", "a-ide", "a-ops"])
def test_a_token_of_tenant_a_never_reaches_tenant_b(
    world: World, stub: Any, method: str, who: str
) -> None:
    assert (
        code_of(stub, method, CALLS[method](), world.md(who)) == grpc.StatusCode.PERMISSION_DENIED
    )


@pytest.mark.parametrize("method", sorted(CALLS))
def test_no_token_is_unauthenticated(stub: Any, method: str) -> None:
    assert code_of(stub, method, CALLS[method](), None) == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer nonsense",
        "Basic dXNlcjpwdw==",
        "Bearer swt_000000000000_forged",
        "Bearer swt_" + "x" * 5000,
    ],
)
def test_malformed_or_unknown_tokens_are_unauthenticated(stub: Any, header: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.ListProjects(
            api.ListProjectsRequest(), metadata=[("authorization", header)], timeout=10
        )
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert err.value.details()


def test_a_revoked_token_stops_working_at_once(world: World, stub: Any) -> None:
    token = make_token(world.url, TENANT_A, "ops")
    md = [("authorization", f"Bearer {token}")]
    assert stub.ListProjects(api.ListProjectsRequest(), metadata=md, timeout=10).projects
    token_id = token.split("_")[1]
    swarm_cli("admin", "token", "revoke", "--ledger", world.url, "--tenant", TENANT_A, token_id)
    with pytest.raises(grpc.RpcError) as err:
        stub.ListProjects(api.ListProjectsRequest(), metadata=md, timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in (err.value.details() or "")


@pytest.mark.parametrize(
    "method,request_",
    [
        ("SubmitMission", api.SubmitMissionRequest(project=ref(), kind="rename")),
        ("CancelMission", api.CancelMissionRequest(project=ref(), mission_id="m1")),
        (
            "AcquireLock",
            api.AcquireLockRequest(project=ref(), path="a.py", holder="human:ops", ttl_s=5),
        ),
        ("CreateProject", api.CreateProjectRequest(project=ref(), exist_ok=True)),
        ("Fork", api.ForkRequest(project=ref(), new_project="ops-fork")),
        ("CreateToken", api.CreateTokenRequest(role=api.TOKEN_ROLE_ADMIN)),
    ],
)
def test_an_ops_token_reads_only(world: World, stub: Any, method: str, request_: Any) -> None:
    assert code_of(stub, method, request_, world.md("a-ops")) == grpc.StatusCode.PERMISSION_DENIED


def test_an_ide_token_cannot_manage_tokens(world: World, stub: Any) -> None:
    req = api.CreateTokenRequest(role=api.TOKEN_ROLE_ADMIN)
    assert code_of(stub, "CreateToken", req, world.md("a-ide")) == grpc.StatusCode.PERMISSION_DENIED


def test_ops_reads_its_own_tenant(world: World, stub: Any) -> None:
    got = stub.ListProjects(api.ListProjectsRequest(), metadata=world.md("a-ops"), timeout=10)
    # Other tests add projects to the shared daemon's tenants; whatever ran first, ops
    # sees its own tenant's and none of the other's.
    assert "app" in [p.project for p in got.projects]
    assert all(p.tenant == TENANT_A for p in got.projects)


def test_the_system_tenant_is_out_of_reach(world: World, stub: Any) -> None:
    req = api.ListProjectsRequest(tenant="swarm-system")
    assert (
        code_of(stub, "ListProjects", req, world.md("a-admin")) == grpc.StatusCode.PERMISSION_DENIED
    )


def test_an_admin_manages_its_tenants_tokens_through_the_api(world: World, stub: Any) -> None:
    made = stub.CreateToken(
        api.CreateTokenRequest(role=api.TOKEN_ROLE_OPS, label="grafana"),
        metadata=world.md("a-admin"),
        timeout=10,
    )
    assert made.secret.startswith("swt_") and made.info.tenant == TENANT_A
    listed = stub.ListTokens(api.ListTokensRequest(), metadata=world.md("a-admin"), timeout=10)
    assert made.info.token_id in {t.token_id for t in listed.tokens}
    assert all(t.tenant == TENANT_A for t in listed.tokens)
    md = (("authorization", f"Bearer {made.secret}"),)
    assert stub.ListLocks(api.ListLocksRequest(project=ref()), metadata=md, timeout=10) is not None
    revoked = stub.RevokeToken(
        api.RevokeTokenRequest(token_id=made.info.token_id),
        metadata=world.md("a-admin"),
        timeout=10,
    )
    assert revoked.revoked_us > 0
    assert (
        code_of(stub, "ListLocks", api.ListLocksRequest(project=ref()), md)
        == grpc.StatusCode.UNAUTHENTICATED
    )
    unknown = api.RevokeTokenRequest(token_id="ffffffffffff")
    assert code_of(stub, "RevokeToken", unknown, world.md("a-admin")) == grpc.StatusCode.NOT_FOUND
    bad_role = api.CreateTokenRequest(role=api.TOKEN_ROLE_UNSPECIFIED)
    assert (
        code_of(stub, "CreateToken", bad_role, world.md("a-admin"))
        == grpc.StatusCode.INVALID_ARGUMENT
    )
