"""Events streamed and resumed, files at a point in time, locks held through the API."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import grpc
import pytest

import ledger
from proto.swarm.v1 import service_pb2 as api
from tests.daemon.conftest import PROJECT, TENANT_A, World, ref
from tests.ledger._events import change, decision


def fresh_project(world: World) -> str:
    name = f"p{uuid.uuid4().hex[:10]}"
    world.led.create_project(TENANT_A, name)
    return name


def stream(stub: Any, world: World, project: str, **kw: Any) -> Any:
    req = api.StreamEventsRequest(project=ref(project=project), **kw)
    return stub.StreamEvents(req, metadata=world.md("a-ops"), timeout=kw.pop("timeout", 20))


def test_a_broken_stream_resumes_from_its_cursor_with_every_event_exactly_once(
    world: World, stub: Any
) -> None:
    p = fresh_project(world)
    ids = [f"ev-{p}-{i}" for i in range(300)]
    world.led.append(TENANT_A, p, [decision(eid=i) for i in ids[:100]])
    writer = threading.Thread(
        target=lambda: [world.led.append(TENANT_A, p, [decision(eid=i)]) for i in ids[100:]]
    )
    seen: list[str] = []
    cursor = ""
    first = stream(stub, world, p, follow=True)
    for rec in first:
        seen.append(rec.event.event_id)
        cursor = rec.cursor
        if len(seen) == 60:
            writer.start()  # appends land while the client is away
            first.cancel()
            break
    second = stream(stub, world, p, follow=True, after=cursor)
    for rec in second:
        seen.append(rec.event.event_id)
        if rec.event.event_id == ids[-1]:
            second.cancel()
            break
    writer.join()
    mine = [s for s in seen if s.startswith("ev-")]
    assert mine == ids  # in order, no gap, no duplicate
    assert len(seen) == len(set(seen))


def test_a_follow_stream_tails_live_appends(world: World, stub: Any) -> None:
    p = fresh_project(world)
    it = stream(stub, world, p, follow=True)
    assert next(it).event.signal.kind  # PROJECT_CREATED
    threading.Timer(0.2, lambda: world.led.append(TENANT_A, p, [decision(eid=f"live-{p}")])).start()
    assert next(it).event.event_id == f"live-{p}"
    it.cancel()


def test_a_stream_without_follow_ends_at_head_and_filters_by_mission(
    world: World, stub: Any
) -> None:
    p = fresh_project(world)
    world.led.append(
        TENANT_A, p, [decision(mission="m1"), decision(mission="m2"), decision(mission="m1")]
    )
    assert len(list(stream(stub, world, p))) == 4
    assert [r.event.mission_id for r in stream(stub, world, p, mission_id="m1")] == ["m1", "m1"]
    assert len(list(stream(stub, world, p, limit=2))) == 2


def test_a_stream_honours_its_deadline(world: World, stub: Any) -> None:
    p = fresh_project(world)
    it = stub.StreamEvents(
        api.StreamEventsRequest(project=ref(project=p), follow=True),
        metadata=world.md("a-ops"),
        timeout=0.5,
    )
    with pytest.raises(grpc.RpcError) as err:
        list(it)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_stream_without_a_deadline_tails_until_the_client_cancels(
    world: World, stub: Any
) -> None:
    """IDE clients often set no deadline: the stream must wait, deliver, and end on cancel."""
    p = fresh_project(world)
    it = stub.StreamEvents(
        api.StreamEventsRequest(project=ref(project=p), follow=True), metadata=world.md("a-ops")
    )
    first = next(it)  # PROJECT_CREATED, then the stream idles with no deadline
    threading.Timer(0.5, lambda: world.led.append(TENANT_A, p, [decision(eid=f"late-{p}")])).start()
    late = next(it)
    assert late.event.event_id == f"late-{p}" and late.cursor > first.cursor
    it.cancel()
    with pytest.raises(grpc.RpcError) as err:
        next(it)
    assert err.value.code() == grpc.StatusCode.CANCELLED


@pytest.mark.parametrize(
    "after,code",
    [
        ("00" * 12, grpc.StatusCode.NOT_FOUND),
        ("zz" * 12, grpc.StatusCode.INVALID_ARGUMENT),
        ("abc", grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
def test_unknown_or_malformed_cursors_are_refused(
    world: World, stub: Any, after: str, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        list(stream(stub, world, PROJECT, after=after))
    assert err.value.code() == code
    assert "cursor" in (err.value.details() or "")


def test_an_unknown_project_is_not_found(world: World, stub: Any) -> None:
    with pytest.raises(grpc.RpcError) as err:
        list(stream(stub, world, "nope"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_history_is_an_audit_by_file_agent_or_mission(world: World, stub: Any) -> None:
    p = fresh_project(world)
    world.led.append(TENANT_A, p, [change(world.led, TENANT_A, "a.py", b"one\n", agent="coder-7")])
    got = stub.History(
        api.HistoryRequest(project=ref(project=p), agent="coder-7"),
        metadata=world.md("a-ops"),
        timeout=10,
    )
    assert [r.event.state_change.path for r in got.records] == ["a.py"]
    with pytest.raises(grpc.RpcError) as err:
        stub.History(
            api.HistoryRequest(project=ref(project=p)), metadata=world.md("a-ops"), timeout=10
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_files_at_head_at_a_versionstamp_and_at_a_time(world: World, stub: Any) -> None:
    p = fresh_project(world)
    (v1,) = world.led.append(TENANT_A, p, [change(world.led, TENANT_A, "a.py", b"v1\n")])
    first = world.led.file_state(TENANT_A, p, "a.py")
    assert first is not None
    world.led.append(
        TENANT_A, p, [change(world.led, TENANT_A, "a.py", b"v2\n", previous=first.sha256)]
    )
    world.led.append(TENANT_A, p, [change(world.led, TENANT_A, "b.py", b"b\n")])
    md = world.md("a-ops")
    head = stub.ListFiles(api.ListFilesRequest(project=ref(project=p)), metadata=md, timeout=10)
    assert [f.path for f in head.files] == ["a.py", "b.py"]
    at_v1 = api.At(versionstamp=str(v1.versionstamp))
    old = stub.ListFiles(
        api.ListFilesRequest(project=ref(project=p), at=at_v1), metadata=md, timeout=10
    )
    assert [f.path for f in old.files] == ["a.py"]
    assert (
        stub.ReadFile(
            api.ReadFileRequest(project=ref(project=p), path="a.py"), metadata=md, timeout=10
        ).content
        == b"v2\n"
    )
    assert (
        stub.ReadFile(
            api.ReadFileRequest(project=ref(project=p), path="a.py", at=at_v1),
            metadata=md,
            timeout=10,
        ).content
        == b"v1\n"
    )
    t1 = world.led.get_event(TENANT_A, p, v1.versionstamp).time_us
    at_t1 = api.At(time_us=t1)
    assert (
        stub.ReadFile(
            api.ReadFileRequest(project=ref(project=p), path="a.py", at=at_t1),
            metadata=md,
            timeout=10,
        ).content
        == b"v1\n"
    )
    for req, code in [
        (
            api.ReadFileRequest(project=ref(project=p), path="b.py", at=at_v1),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            api.ReadFileRequest(project=ref(project=p), path="../etc/passwd"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            api.ReadFileRequest(project=ref(project=p), path="a.py", at=api.At(time_us=1)),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            api.ReadFileRequest(project=ref(project=p), path="a.py", at=api.At(versionstamp="x")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            stub.ReadFile(req, metadata=md, timeout=10)
        assert err.value.code() == code, req


def test_a_lock_held_through_the_api_makes_agents_wait(world: World, stub: Any) -> None:
    p = fresh_project(world)
    world.led.append(TENANT_A, p, [change(world.led, TENANT_A, "a.py", b"v1\n")])
    head = world.led.file_state(TENANT_A, p, "a.py")
    assert head is not None
    md = world.md("a-ide")
    held = stub.AcquireLock(
        api.AcquireLockRequest(project=ref(project=p), path="a.py", holder="human:alice", ttl_s=30),
        metadata=md,
        timeout=10,
    )
    assert held.holder == "human:alice" and held.token
    # An agent cannot take the file, and a change without the human's token is refused.
    with pytest.raises(ledger.LockHeld):
        world.led.acquire_lock(TENANT_A, p, "a.py", "coder-1", ttl_s=5)
    with pytest.raises(ledger.StaleFencingToken):
        world.led.append(
            TENANT_A, p, [change(world.led, TENANT_A, "a.py", b"agent\n", previous=head.sha256)]
        )
    # The agent waits on a watch and gets the file once the IDE lets go.
    got: list[ledger.Lock] = []

    def agent() -> None:
        cursor = world.led.head(TENANT_A, p)
        while world.led.get_lock(TENANT_A, p, "a.py") is not None:
            world.led.wait_for_append(TENANT_A, p, cursor, timeout=10)
            cursor = world.led.head(TENANT_A, p)
        got.append(world.led.acquire_lock(TENANT_A, p, "a.py", "coder-1", ttl_s=5))

    waiter = threading.Thread(target=agent)
    waiter.start()
    listed = stub.ListLocks(
        api.ListLocksRequest(project=ref(project=p)), metadata=world.md("a-ops"), timeout=10
    )
    assert [(lk.path, lk.holder) for lk in listed.locks] == [("a.py", "human:alice")]
    renewed = stub.RenewLock(
        api.RenewLockRequest(
            project=ref(project=p), path="a.py", holder="human:alice", token=held.token, ttl_s=60
        ),
        metadata=md,
        timeout=10,
    )
    assert renewed.token == held.token and renewed.expires_us > held.expires_us
    assert not got
    stub.ReleaseLock(
        api.ReleaseLockRequest(
            project=ref(project=p), path="a.py", holder="human:alice", token=held.token
        ),
        metadata=md,
        timeout=10,
    )
    waiter.join(20)
    assert got and got[0].holder == "coder-1"
    kinds = [
        r.event.signal.kind
        for r in world.led.history(TENANT_A, p, path="a.py")
        if r.kind == "signal"
    ]
    assert kinds[:2] == [2, 3]  # acquired by the human, released by the human


@pytest.mark.parametrize(
    "req_,code",
    [
        (
            api.AcquireLockRequest(path="a.py", holder="coder-1", ttl_s=5),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            api.AcquireLockRequest(path="a.py", holder="human:", ttl_s=5),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            api.AcquireLockRequest(path="a.py", holder="human:bob", ttl_s=0),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            api.AcquireLockRequest(path="/abs", holder="human:bob", ttl_s=5),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            api.ReleaseLockRequest(path="a.py", holder="human:bob", token=b"nope"),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
        (
            api.RenewLockRequest(path="a.py", holder="human:bob", token=b"nope", ttl_s=5),
            grpc.StatusCode.FAILED_PRECONDITION,
        ),
    ],
)
def test_lock_requests_that_are_refused(
    world: World, stub: Any, req_: Any, code: grpc.StatusCode
) -> None:
    req_.project.CopyFrom(ref())
    method = {
        api.AcquireLockRequest: stub.AcquireLock,
        api.ReleaseLockRequest: stub.ReleaseLock,
        api.RenewLockRequest: stub.RenewLock,
    }[type(req_)]
    with pytest.raises(grpc.RpcError) as err:
        method(req_, metadata=world.md("a-ide"), timeout=10)
    assert err.value.code() == code
    assert err.value.details()


def test_a_lock_held_by_another_person_is_refused_with_who_holds_it(
    world: World, stub: Any
) -> None:
    p = fresh_project(world)
    md = world.md("a-ide")
    stub.AcquireLock(
        api.AcquireLockRequest(project=ref(project=p), path="x.py", holder="human:alice", ttl_s=30),
        metadata=md,
        timeout=10,
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.AcquireLock(
            api.AcquireLockRequest(
                project=ref(project=p), path="x.py", holder="human:bob", ttl_s=30
            ),
            metadata=md,
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "alice" in (err.value.details() or "")


def test_fork_makes_a_project_of_a_past_state(world: World, stub: Any) -> None:
    p = fresh_project(world)
    (v1,) = world.led.append(TENANT_A, p, [change(world.led, TENANT_A, "a.py", b"v1\n")])
    first = world.led.file_state(TENANT_A, p, "a.py")
    assert first is not None
    world.led.append(
        TENANT_A, p, [change(world.led, TENANT_A, "a.py", b"v2\n", previous=first.sha256)]
    )
    new = f"{p}-fork"
    forked = stub.Fork(
        api.ForkRequest(
            project=ref(project=p), at=api.At(versionstamp=str(v1.versionstamp)), new_project=new
        ),
        metadata=world.md("a-ide"),
        timeout=10,
    )
    assert forked.project.project == new and forked.files == 1
    got = stub.ReadFile(
        api.ReadFileRequest(project=ref(project=new), path="a.py"),
        metadata=world.md("a-ops"),
        timeout=10,
    )
    assert got.content == b"v1\n"
    with pytest.raises(grpc.RpcError) as err:
        stub.Fork(
            api.ForkRequest(project=ref(project=p), new_project=new),
            metadata=world.md("a-ide"),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "exists" in (
        err.value.details() or ""
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.Fork(
            api.ForkRequest(
                project=ref(project=p), at=api.At(versionstamp="00" * 12), new_project=f"{p}-x"
            ),
            metadata=world.md("a-ide"),
            timeout=10,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
