"""The ``swarm.v1.Swarm`` servicer: one method per RPC, named as in the proto.

Each method is a thin adapter over the ledger, replay or missions: it checks
the tenant and role (``call.project`` / ``call.scope``), does its one thing
and returns the response message. What every call needs besides (parsing
the request, the bearer token, the per-tenant stream cap, the thread pool,
error-to-status mapping, clipping, the log line and the metrics) is done by
the interceptors in ``swarm.daemon._interceptors``, which hand each method a
``Call`` in place of grpc's context.

Unary methods are plain blocking functions: the interceptors run them on the
bounded thread pool. Streaming methods are async generators on the event
loop (``swarm.daemon._streams``). A new RPC is one entry in
``proto/swarm/v1/service.proto`` and one method here.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncGenerator
from typing import Any

import grpc

import ledger
import ops
import replay
from proto.swarm.v1 import memory_pb2 as mpb
from proto.swarm.v1 import service_pb2 as api
from swarm.client._wire import query_from_pb, row_to_pb, verify_to_pb, why_to_pb
from swarm.daemon._call import Abort, Call
from swarm.daemon._locks import LockOwners
from swarm.daemon._memory import DaemonMemory
from swarm.daemon._metrics import Metrics
from swarm.daemon._missions import MissionRunner
from swarm.daemon._points import cursor, file_at, files_at, parse_versionstamp, point
from swarm.daemon._pool import Pool
from swarm.daemon._streams import Streams, Tail
from swarm.daemon._tokens import Role, TokenInfo, TokenStore
from swarm.daemon._workspaces import check_path

HISTORY_DEFAULT = 1000
HISTORY_MAX = 10_000
HUMAN_PREFIX = "human:"
_SUBJECTS = {"path": "path", "agent": "agent", "mission_id": "mission"}  # field → history()


class SwarmService:
    """The API over one Ledger; missions go to ``missions`` when the orchestrator is wired."""

    def __init__(
        self,
        led: ledger.Ledger,
        tokens: TokenStore,
        metrics: Metrics,
        missions: MissionRunner | None = None,
        *,
        pool: Pool,
        memory: DaemonMemory | None = None,
    ) -> None:
        self._led = led
        self._memory = memory
        self._missions = missions
        self._tokens = tokens
        self._owners = LockOwners(led)
        self.streams = Streams(led, tokens, metrics, pool)
        self._pool = pool

    # projects -------------------------------------------------------------------------
    def ListProjects(
        self, request: api.ListProjectsRequest, call: Call
    ) -> api.ListProjectsResponse:
        t = call.scope(request.tenant, Role.OPS)
        return api.ListProjectsResponse(projects=[self._info(t, p) for p in self._led.projects(t)])

    def CreateProject(self, request: api.CreateProjectRequest, call: Call) -> api.Project:
        t, p = call.project(request.project, Role.IDE)
        if request.workspace:  # the folder is this project's from now on (PERMISSION_DENIED if not)
            self._runner().workspaces.register(t, p, request.workspace, exist_ok=request.exist_ok)
        else:
            self._led.create_project(t, p, exist_ok=request.exist_ok)
        info = self._info(t, p)
        claim = self._led.workspace_of(t, p)
        info.workspace = claim.name if claim is not None else ""
        return info

    # missions -------------------------------------------------------------------------
    def SubmitMission(self, request: api.SubmitMissionRequest, call: Call) -> api.Mission:
        t, p = call.project(request.project, Role.IDE)
        if request.mission_id:
            call.note(mission_id=request.mission_id)
        runner = self._runner()
        mid = runner.submit(t, p, request, trace_id=call.trace_id)
        call.note(mission_id=mid)
        return runner.describe(t, p, mid)

    def GetMission(self, request: api.GetMissionRequest, call: Call) -> api.Mission:
        t, p = call.project(request.project, Role.OPS)
        call.note(mission_id=request.mission_id)
        return self._runner().describe(t, p, request.mission_id)

    def ListMissions(
        self, request: api.ListMissionsRequest, call: Call
    ) -> api.ListMissionsResponse:
        t, p = call.project(request.project, Role.OPS)
        return api.ListMissionsResponse(missions=self._runner().list(t, p))

    def CancelMission(self, request: api.CancelMissionRequest, call: Call) -> api.Mission:
        t, p = call.project(request.project, Role.IDE)
        call.note(mission_id=request.mission_id)
        runner = self._runner()
        who = f"token {call.who.token_id}"
        runner.cancel(t, p, request.mission_id, request.reason, who)
        return runner.describe(t, p, request.mission_id)

    def GetMissionStory(self, request: api.GetMissionRequest, call: Call) -> api.MissionStory:
        t, p = call.project(request.project, Role.OPS)
        call.note(mission_id=request.mission_id)
        return self._runner().story(t, p, request.mission_id)

    async def FollowMission(
        self, request: api.FollowMissionRequest, call: Call
    ) -> AsyncGenerator[api.EventRecord, None]:
        t, p = call.project(request.project, Role.OPS)
        mid = request.mission_id
        call.note(mission_id=mid)
        await self._pool.run(self._runner().describe, t, p, mid)  # NOT_FOUND if unknown
        tail = Tail(t, p, request.after, True, mid, until_finished=True, batch=request.batch)
        async with contextlib.aclosing(self.streams.tail(call, tail)) as records:
            async for record in records:  # closed with us, not whenever it is collected
                yield record

    # events ---------------------------------------------------------------------------
    async def StreamEvents(
        self, request: api.StreamEventsRequest, call: Call
    ) -> AsyncGenerator[api.EventRecord, None]:
        t, p = call.project(request.project, Role.OPS)
        if request.mission_id:
            call.note(mission_id=request.mission_id)
        tail = Tail(
            t,
            p,
            request.after,
            request.follow,
            request.mission_id,
            request.limit,
            batch=request.batch,
        )
        async with contextlib.aclosing(self.streams.tail(call, tail)) as records:
            async for record in records:  # closed with us, not whenever it is collected
                yield record

    def History(self, request: api.HistoryRequest, call: Call) -> api.HistoryResponse:
        t, p = call.project(request.project, Role.OPS)
        which = request.WhichOneof("subject")
        if which is None:
            raise Abort(
                grpc.StatusCode.INVALID_ARGUMENT, "history needs a path, agent or mission_id"
            )
        limit = _page(request.limit)
        subject: dict[str, Any] = {_SUBJECTS[which]: getattr(request, which)}
        records = self._led.history(
            t,
            p,
            after=parse_versionstamp(request.after, "after"),
            before=parse_versionstamp(request.before, "before"),
            limit=limit,
            reverse=request.reverse,
            **subject,
        )
        return api.HistoryResponse(records=[_record(r) for r in records])

    # audit ----------------------------------------------------------------------------
    def QueryAudit(self, request: api.QueryAuditRequest, call: Call) -> api.QueryAuditResponse:
        t, p = call.project(request.project, Role.OPS)
        limit = _page(request.limit)
        q = query_from_pb(request)
        after = cursor(self._led, t, p, request.after, "after")
        if after is not None:  # start the read at the cursor's time (the time index), not the log's
            at = self._led.get_event(t, p, after).time_us
            q = dataclasses.replace(q, since_us=max(at, q.since_us or at))
        rows: list[api.AuditRow] = []
        for row in ops.query(self._led, t, p, q):
            if after is not None and row.versionstamp <= str(after):
                continue
            if len(rows) == limit:
                return api.QueryAuditResponse(rows=rows, more=True)
            rows.append(row_to_pb(row))
        return api.QueryAuditResponse(rows=rows, more=False)

    def WhoChanged(self, request: api.WhoChangedRequest, call: Call) -> api.WhoChangedResponse:
        t, p = call.project(request.project, Role.OPS)
        whys = ops.who_changed(
            self._led,
            t,
            p,
            request.path,
            since_us=request.since_us if request.HasField("since_us") else None,
            until_us=request.until_us if request.HasField("until_us") else None,
        )
        return api.WhoChangedResponse(changes=[why_to_pb(w) for w in whys])

    def VerifyProject(
        self, request: api.VerifyProjectRequest, call: Call
    ) -> api.VerifyProjectResponse:
        t, p = call.project(request.project, Role.OPS)
        return verify_to_pb(ops.verify(self._led, t, p))

    # files ----------------------------------------------------------------------------
    def ListFiles(self, request: api.ListFilesRequest, call: Call) -> api.ListFilesResponse:
        t, p = call.project(request.project, Role.OPS)
        if request.prefix:
            check_path(request.prefix.rstrip("/") or ".", "prefix")
        files, at = files_at(self._led, t, p, point(self._led, t, p, request.at))
        if request.prefix:
            files = [f for f in files if f.path.startswith(request.prefix)]
        return api.ListFilesResponse(files=files, at_versionstamp=at)

    def ReadFile(self, request: api.ReadFileRequest, call: Call) -> api.ReadFileResponse:
        t, p = call.project(request.project, Role.OPS)
        check_path(request.path)
        found, at = file_at(self._led, t, p, request.path, request.at)
        content = self._led.get_blob(t, found.sha256)
        return api.ReadFileResponse(file=found, content=content, at_versionstamp=at)

    def ReadEvidence(
        self, request: api.ReadEvidenceRequest, call: Call
    ) -> api.ReadEvidenceResponse:
        t, p = call.project(request.project, Role.OPS)
        vs = parse_versionstamp(request.versionstamp, "versionstamp")
        if vs is None:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "versionstamp is required")
        rec = self._led.get_event(t, p, vs)  # NOT_FOUND when the project has no such event
        evidence = b""
        if rec.kind == "decision" and rec.event.decision.HasField("detail"):
            evidence = self._led.get_blob(t, rec.event.decision.detail.sha256)
        return api.ReadEvidenceResponse(record=_record(rec), evidence=evidence)

    def Fork(self, request: api.ForkRequest, call: Call) -> api.ForkResponse:
        t, p = call.project(request.project, Role.IDE)
        vs = point(self._led, t, p, request.at) or self._led.head(t, p)
        assert vs is not None  # a project's log opens with PROJECT_CREATED
        state = replay.Replayer(self._led, t, p).state_at(vs)
        forked = replay.fork(self._led, t, p, state, request.new_project)
        return api.ForkResponse(
            project=self._info(t, forked.project),
            link=str(forked.link),
            files=forked.files,
            at_versionstamp=str(vs),
        )

    # locks (people's; agents take theirs inside the daemon) ----------------------------
    def AcquireLock(self, request: api.AcquireLockRequest, call: Call) -> api.LockInfo:
        t, p = call.project(request.project, Role.IDE)
        holder, ttl = _human(request.holder), _ttl(request.ttl_s)
        held = self._led.get_lock(t, p, request.path)
        if held is not None and held.holder == holder:  # the ledger would extend it for anyone
            self._owners.check(call.who, t, p, request.path, "renew")
        lock = self._led.acquire_lock(t, p, request.path, holder, ttl)
        self._owners.record(t, p, lock, call.who.token_id)
        return self._lock_info(call, t, p, lock)

    def RenewLock(self, request: api.RenewLockRequest, call: Call) -> api.LockInfo:
        t, p = call.project(request.project, Role.IDE)
        holder, ttl = _human(request.holder), _ttl(request.ttl_s)
        self._owners.check(call.who, t, p, request.path, "renew")
        lock = self._led.renew_lock(t, p, request.path, holder, request.token, ttl)
        return self._lock_info(call, t, p, lock)

    def ReleaseLock(self, request: api.ReleaseLockRequest, call: Call) -> api.ReleaseLockResponse:
        t, p = call.project(request.project, Role.IDE)
        holder = _human(request.holder)
        self._owners.check(call.who, t, p, request.path, "release")
        self._led.release_lock(t, p, request.path, holder, request.token)
        self._owners.forget(t, p, request.path)
        return api.ReleaseLockResponse()

    def ListLocks(self, request: api.ListLocksRequest, call: Call) -> api.ListLocksResponse:
        t, p = call.project(request.project, Role.OPS)
        locks = [self._lock_info(call, t, p, lock) for lock in self._led.locks(t, p)]
        return api.ListLocksResponse(locks=locks)

    # tokens ---------------------------------------------------------------------------
    def CreateToken(self, request: api.CreateTokenRequest, call: Call) -> api.CreateTokenResponse:
        t = call.scope(request.tenant, Role.ADMIN)
        if int(request.role) not in (Role.OPS, Role.IDE, Role.ADMIN):
            raise Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"role {request.role} is not ops, ide or admin"
            )
        if len(request.label) > 200:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "label is over 200 characters")
        secret, info = self._tokens.create(
            t, Role(request.role), request.label, expires_us=request.expires_us
        )
        return api.CreateTokenResponse(info=_token_info(info), secret=secret)

    def RevokeToken(self, request: api.RevokeTokenRequest, call: Call) -> api.TokenInfo:
        t = call.scope(request.tenant, Role.ADMIN)
        return _token_info(self._tokens.revoke(t, request.token_id))

    def ListTokens(self, request: api.ListTokensRequest, call: Call) -> api.ListTokensResponse:
        t = call.scope(request.tenant, Role.ADMIN)
        return api.ListTokensResponse(tokens=[_token_info(i) for i in self._tokens.tokens(t)])

    # memory ---------------------------------------------------------------------------
    def SearchMemory(
        self, request: mpb.SearchMemoryRequest, call: Call
    ) -> mpb.SearchMemoryResponse:
        t = call.scope(request.tenant, Role.OPS)
        if request.project:
            call.note(project=request.project)
        if self._memory is None:
            raise Abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "memory is off in this daemon: start it with swarm serve --memory",
            )
        return self._memory.search(t, request)

    # shared by the methods ------------------------------------------------------------
    def _runner(self) -> MissionRunner:
        if self._missions is None:
            raise Abort(
                grpc.StatusCode.UNIMPLEMENTED,
                "this daemon runs no orchestrator (started without missions)",
            )
        return self._missions

    def _info(self, t: str, p: str) -> api.Project:
        info = self._led.project_info(t, p)
        return api.Project(
            tenant=t,
            project=p,
            created_us=info.created_us,
            head=str(info.head) if info.head else "",
            events=info.events,
        )

    def _lock_info(self, call: Call, t: str, p: str, lock: ledger.Lock) -> api.LockInfo:
        """A lock on the wire; its fencing token only for the token that took it, or an admin."""
        shown = self._owners.may_see_token(call.who, t, p, lock)
        return api.LockInfo(
            path=lock.path,
            holder=lock.holder,
            token=lock.token if shown else b"",
            expires_us=lock.expires_us,
        )


def _record(rec: ledger.RecordedEvent) -> api.EventRecord:
    return api.EventRecord(cursor=str(rec.versionstamp), event=rec.event, chain=rec.chain)


def _page(limit: int) -> int:
    """A page's size: ``limit``, 0 meaning the default; INVALID_ARGUMENT over the cap."""
    if limit > HISTORY_MAX:
        raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"limit {limit} is over {HISTORY_MAX}")
    return limit or HISTORY_DEFAULT


def _human(holder: str) -> str:
    if not holder.startswith(HUMAN_PREFIX) or len(holder) == len(HUMAN_PREFIX):
        raise Abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"lock holder {holder!r} must be 'human:<name>': the API holds locks for people, "
            "agents take theirs inside the daemon",
        )
    return holder


def _ttl(ttl_s: float) -> float:
    if not 0 < ttl_s <= 24 * 3600:
        raise Abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"ttl_s {ttl_s} must be in (0, 86400] seconds"
        )
    return ttl_s


def _token_info(info: TokenInfo) -> api.TokenInfo:
    return api.TokenInfo(
        token_id=info.token_id,
        tenant=info.tenant,
        role=api.TokenRole.Name(int(info.role)),
        label=info.label,
        created_us=info.created_us,
        revoked_us=info.revoked_us,
        expires_us=info.expires_us,
    )
