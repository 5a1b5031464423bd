"""The ``swarm.v1.Swarm`` service: each call authenticated, tenant-scoped, mapped to a status.

Each method is wrapped once (``_unary``/``_stream``): it reads the bearer
token, checks the tenant and role, runs, maps our errors to gRPC statuses,
and records a metric and one JSON log line with tenant, project, mission and
trace ids. Streams tail the ledger through its watches: the watch is set
before the read, so an append in between fires it and nothing is missed; the
RPC's termination callback cancels the watch, so a dropped client or a
deadline frees its thread at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc

import ledger
import replay
from ledger import Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from proto.swarm.v1 import service_pb2_grpc as api_grpc
from swarm.daemon._errors import (
    PermissionDenied,
    TokenError,
    Unauthenticated,
    UnknownToken,
)
from swarm.daemon._logging import get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._missions import MissionRunner, mission_error_status
from swarm.daemon._tokens import SYSTEM_TENANT, Role, TokenInfo, TokenStore

HISTORY_DEFAULT = 1000
HISTORY_MAX = 10_000
STREAM_PAGE = 256
IDLE_WAKE_S = 30.0  # longest a tailing stream sleeps between checks
HUMAN_PREFIX = "human:"

Req = TypeVar("Req")
Resp = TypeVar("Resp")

_LEDGER_STATUS: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (ledger.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (ledger.LimitExceeded, grpc.StatusCode.INVALID_ARGUMENT),
    (ledger.NotFound, grpc.StatusCode.NOT_FOUND),
    (ledger.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (ledger.LockError, grpc.StatusCode.FAILED_PRECONDITION),
    (ledger.HashChainBroken, grpc.StatusCode.ABORTED),
    (ledger.Conflict, grpc.StatusCode.ABORTED),
    (ledger.CorruptStore, grpc.StatusCode.DATA_LOSS),  # damaged records, lost commits
    (ledger.StorageError, grpc.StatusCode.UNAVAILABLE),
)


class _Abort(Exception):
    """A status to end the call with (raised inside handlers, turned into ``context.abort``)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def status_of(exc: Exception) -> tuple[grpc.StatusCode, str]:
    """The gRPC status and message for one of our errors."""
    if isinstance(exc, _Abort):
        return exc.code, exc.message
    if isinstance(exc, Unauthenticated):
        return grpc.StatusCode.UNAUTHENTICATED, str(exc)
    if isinstance(exc, PermissionDenied):
        return grpc.StatusCode.PERMISSION_DENIED, str(exc)
    if isinstance(exc, UnknownToken):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, TokenError):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, replay.UnknownPoint):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, replay.BadPoint):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    if isinstance(exc, replay.ChainBroken):
        return grpc.StatusCode.DATA_LOSS, str(exc)
    if isinstance(exc, replay.ReplayError):
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    mission = mission_error_status(exc)
    if mission is not None:
        return getattr(grpc.StatusCode, mission[0]), mission[1]
    for kind, code in _LEDGER_STATUS:
        if isinstance(exc, kind):
            return code, f"{type(exc).__name__}: {exc}"
    return grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__})"


class _Call:
    """What one call knows about itself: who, where, and for the log line."""

    __slots__ = ("facts", "principal")

    def __init__(self, trace_id: str) -> None:
        self.principal: TokenInfo | None = None
        self.facts: dict[str, str] = {"trace_id": trace_id}


def _trace_id(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == "x-trace-id" and isinstance(value, str) and 0 < len(value) <= 64:
            return value
    return uuid.uuid4().hex


def _bearer(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() != "bearer":
                raise Unauthenticated("authorization metadata must read 'Bearer <token>'")
            return token.strip()
    return ""


class _StreamState:
    """One open stream: its current watch, cancelled when the call ends or the daemon stops."""

    __slots__ = ("closed", "lock", "watch")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watch: ledger.Watch | None = None
        self.closed = False

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.watch is not None:
                self.watch.cancel()

    def arm(self, watch: ledger.Watch) -> bool:
        """Hold ``watch`` as the one to cancel; False (and cancelled) if already closed."""
        with self.lock:
            self.watch = watch
            if self.closed:
                watch.cancel()
                return False
            return True


class SwarmService(api_grpc.SwarmServicer):
    """The API over one Ledger; missions go to ``missions`` when the orchestrator is wired."""

    def __init__(
        self,
        led: ledger.Ledger,
        tokens: TokenStore,
        metrics: Metrics,
        missions: MissionRunner | None = None,
    ) -> None:
        self._led = led
        self._missions = missions
        self._tokens = tokens
        self._metrics = metrics
        self._streams: set[_StreamState] = set()
        self._streams_lock = threading.Lock()
        self._stopping = threading.Event()
        self._log = get_logger()

    # lifecycle --------------------------------------------------------------------------
    def stop_streams(self) -> int:
        """End every open stream (daemon shutdown); returns how many were open."""
        self._stopping.set()
        with self._streams_lock:
            states = list(self._streams)
        for state in states:
            state.close()
        return len(states)

    def open_streams(self) -> int:
        with self._streams_lock:
            return len(self._streams)

    # auth -----------------------------------------------------------------------------
    def _scope(self, call: _Call, tenant: str, need: Role) -> str:
        """The tenant this call acts on, after checking the token reaches it with ``need``."""
        who = call.principal
        assert who is not None
        wanted = tenant or who.tenant
        call.facts["tenant"] = wanted
        if wanted != who.tenant or wanted == SYSTEM_TENANT:
            raise PermissionDenied(
                f"token {who.token_id} belongs to tenant {who.tenant!r}, not {wanted!r}",
                tenant=who.tenant,
                role=who.role.label,
            )
        if who.role < need:
            raise PermissionDenied(
                f"token {who.token_id} has role {who.role.label}; this call needs {need.label}",
                tenant=who.tenant,
                role=who.role.label,
            )
        return wanted

    def _project(self, call: _Call, ref: api.ProjectRef, need: Role) -> tuple[str, str]:
        tenant = self._scope(call, ref.tenant, need)
        if not ref.project:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "project is required")
        call.facts["project"] = ref.project
        return tenant, ref.project

    def _begin(self, context: grpc.ServicerContext) -> _Call:
        call = _Call(_trace_id(context))
        call.principal = self._tokens.check(_bearer(context))
        return call

    def _finish(
        self, method: str, call: _Call | None, code: grpc.StatusCode, started: float, msg: str = ""
    ) -> None:
        self._metrics.requests.labels(method, code.name).inc()
        self._metrics.latency.labels(method).observe(time.perf_counter() - started)
        facts = call.facts if call else {}
        ms = round((time.perf_counter() - started) * 1000, 2)
        if code is grpc.StatusCode.OK:
            self._log.info("rpc", method=method, code=code.name, ms=ms, **facts)
        else:
            self._metrics.errors.labels(method).inc()
            self._log.warning("rpc", method=method, code=code.name, ms=ms, error=msg, **facts)

    # projects -------------------------------------------------------------------------
    def _info(self, t: str, p: str) -> api.Project:
        info = self._led.project_info(t, p)
        return api.Project(
            tenant=t,
            project=p,
            created_us=info.created_us,
            head=str(info.head) if info.head else "",
            events=info.events,
        )

    def _list_projects(self, call: _Call, req: api.ListProjectsRequest) -> api.ListProjectsResponse:
        t = self._scope(call, req.tenant, Role.OPS)
        return api.ListProjectsResponse(projects=[self._info(t, p) for p in self._led.projects(t)])

    def _create_project(self, call: _Call, req: api.CreateProjectRequest) -> api.Project:
        t, p = self._project(call, req.project, Role.IDE)
        self._led.create_project(t, p, exist_ok=req.exist_ok)
        self._metrics.ledger_commits.inc()
        return self._info(t, p)

    # missions -------------------------------------------------------------------------
    def _runner(self) -> MissionRunner:
        if self._missions is None:
            raise _Abort(
                grpc.StatusCode.UNIMPLEMENTED,
                "this daemon runs no orchestrator (started without missions)",
            )
        return self._missions

    def _submit_mission(self, call: _Call, req: api.SubmitMissionRequest) -> api.Mission:
        t, p = self._project(call, req.project, Role.IDE)
        if req.mission_id:
            call.facts["mission_id"] = req.mission_id
        runner = self._runner()
        mid = runner.submit(t, p, req)
        call.facts["mission_id"] = mid
        return runner.describe(t, p, mid)

    def _get_mission(self, call: _Call, req: api.GetMissionRequest) -> api.Mission:
        t, p = self._project(call, req.project, Role.OPS)
        call.facts["mission_id"] = req.mission_id
        return self._runner().describe(t, p, req.mission_id)

    def _list_missions(self, call: _Call, req: api.ListMissionsRequest) -> api.ListMissionsResponse:
        t, p = self._project(call, req.project, Role.OPS)
        return api.ListMissionsResponse(missions=self._runner().list(t, p))

    def _cancel_mission(self, call: _Call, req: api.CancelMissionRequest) -> api.Mission:
        t, p = self._project(call, req.project, Role.IDE)
        call.facts["mission_id"] = req.mission_id
        runner = self._runner()
        assert call.principal is not None
        runner.cancel(t, p, req.mission_id, req.reason, f"token {call.principal.token_id}")
        return runner.describe(t, p, req.mission_id)

    def _follow_mission(
        self, call: _Call, req: api.FollowMissionRequest, context: grpc.ServicerContext
    ) -> Iterator[api.EventRecord]:
        t, p = self._project(call, req.project, Role.OPS)
        call.facts["mission_id"] = req.mission_id
        self._runner().describe(t, p, req.mission_id)  # NOT_FOUND for an unknown mission
        yield from self._tail(
            call, t, p, req.after, True, req.mission_id, 0, context, until_finished=True
        )

    # events ---------------------------------------------------------------------------
    def _cursor(self, t: str, p: str, text: str, name: str = "cursor") -> Versionstamp | None:
        if not text:
            return None
        try:
            vs = Versionstamp.parse(text)
        except ledger.InvalidArgument as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {exc}") from None
        try:
            self._led.get_event(t, p, vs)
        except ledger.UnknownEvent:
            raise _Abort(
                grpc.StatusCode.NOT_FOUND, f"unknown {name} {text}: no event of {p!r} sits there"
            ) from None
        return vs

    def _stream_events(
        self, call: _Call, req: api.StreamEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[api.EventRecord]:
        t, p = self._project(call, req.project, Role.OPS)
        if req.mission_id:
            call.facts["mission_id"] = req.mission_id
        yield from self._tail(call, t, p, req.after, req.follow, req.mission_id, req.limit, context)

    def _tail(
        self,
        call: _Call,
        t: str,
        p: str,
        after_text: str,
        follow: bool,
        mission_id: str,
        limit: int,
        context: grpc.ServicerContext,
        *,
        until_finished: bool = False,
    ) -> Iterator[api.EventRecord]:
        """The log after a cursor, then live: watch set before each read, so nothing is missed."""
        after = self._cursor(t, p, after_text)
        state = _StreamState()
        context.add_callback(state.close)
        with self._streams_lock:
            self._streams.add(state)
        self._metrics.active_streams.inc()
        sent = 0
        try:
            while True:
                if self._stopping.is_set():
                    raise _Abort(
                        grpc.StatusCode.UNAVAILABLE,
                        f"daemon is shutting down; resume after cursor {after or ''}",
                    )
                if state.closed:  # the client went away or the deadline passed
                    return
                # Watch first, then read: an append after the read fires the watch.
                watch = self._led.watch(t, p) if follow else None
                if watch is not None and not state.arm(watch):
                    continue  # closed meanwhile: the top of the loop says how the stream ends
                batch = self._led.read(t, p, after=after, limit=STREAM_PAGE)
                for rec in batch:
                    after = rec.versionstamp
                    if mission_id and rec.event.mission_id != mission_id:
                        continue
                    yield api.EventRecord(
                        cursor=str(rec.versionstamp), event=rec.event, chain=rec.chain
                    )
                    sent += 1
                    self._metrics.events_streamed.inc()
                    if limit and sent >= limit:
                        return
                    if until_finished and _finishes(rec, mission_id):
                        return
                if batch:
                    if watch is not None:
                        watch.cancel()
                    continue
                if watch is None:
                    return
                # A call without a deadline has an endless time_remaining(); wake now and
                # then anyway to see a shutdown or a client that left.
                watch.wait(min(context.time_remaining(), IDLE_WAKE_S))
        finally:
            state.close()
            with self._streams_lock:
                self._streams.discard(state)
            self._metrics.active_streams.dec()
            call.facts["sent"] = str(sent)

    def _history(self, call: _Call, req: api.HistoryRequest) -> api.HistoryResponse:
        t, p = self._project(call, req.project, Role.OPS)
        which = req.WhichOneof("subject")
        if which is None:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, "history needs a path, agent or mission_id"
            )
        limit = req.limit or HISTORY_DEFAULT
        if limit > HISTORY_MAX:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"limit {limit} is over {HISTORY_MAX}")
        kwargs: dict[str, Any] = {
            {"path": "path", "agent": "agent", "mission_id": "mission"}[which]: getattr(req, which)
        }
        records = self._led.history(
            t,
            p,
            after=self._parse_vs(req.after, "after"),
            before=self._parse_vs(req.before, "before"),
            limit=limit,
            reverse=req.reverse,
            **kwargs,
        )
        return api.HistoryResponse(
            records=[
                api.EventRecord(cursor=str(r.versionstamp), event=r.event, chain=r.chain)
                for r in records
            ]
        )

    @staticmethod
    def _parse_vs(text: str, name: str) -> Versionstamp | None:
        if not text:
            return None
        try:
            return Versionstamp.parse(text)
        except ledger.InvalidArgument as exc:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {exc}") from None

    # files ----------------------------------------------------------------------------
    def _point(self, t: str, p: str, at: api.At) -> Versionstamp | None:
        """The versionstamp ``at`` names; None means head."""
        which = at.WhichOneof("point")
        if which is None or which == "head":
            return None
        if which == "time_us":
            vs = self._led.versionstamp_at(t, p, at.time_us)
            if vs is None:
                when = replay.format_time(at.time_us)
                raise _Abort(
                    grpc.StatusCode.NOT_FOUND,
                    f"project {p!r} had no events yet at {when} (a time before it existed)",
                )
            return vs
        return self._cursor(t, p, at.versionstamp, "versionstamp")

    def _files_at(self, t: str, p: str, vs: Versionstamp | None) -> tuple[list[api.FileInfo], str]:
        if vs is None:
            head = self._led.head(t, p)
            files = [
                api.FileInfo(
                    path=f.path, sha256=f.sha256, size=f.size, versionstamp=str(f.versionstamp)
                )
                for f in self._led.files(t, p)
            ]
            return files, str(head) if head else ""
        state = replay.Replayer(self._led, t, p).state_at(vs)
        files = [
            api.FileInfo(path=path, sha256=entry.sha256, size=entry.size)
            for path, entry in sorted(state.files.items())
        ]
        return files, str(vs)

    def _list_files(self, call: _Call, req: api.ListFilesRequest) -> api.ListFilesResponse:
        t, p = self._project(call, req.project, Role.OPS)
        files, at = self._files_at(t, p, self._point(t, p, req.at))
        if req.prefix:
            files = [f for f in files if f.path.startswith(req.prefix)]
        return api.ListFilesResponse(files=files, at_versionstamp=at)

    def _read_file(self, call: _Call, req: api.ReadFileRequest) -> api.ReadFileResponse:
        t, p = self._project(call, req.project, Role.OPS)
        vs = self._point(t, p, req.at)
        if vs is None:
            head = self._led.file_state(t, p, req.path)
            if head is None:
                raise _Abort(grpc.StatusCode.NOT_FOUND, f"no file {req.path!r} at head of {p!r}")
            found = api.FileInfo(
                path=head.path,
                sha256=head.sha256,
                size=head.size,
                versionstamp=str(head.versionstamp),
            )
            at = str(self._led.head(t, p) or "")
        else:
            files, at = self._files_at(t, p, vs)
            match = [f for f in files if f.path == req.path]
            if not match:
                raise _Abort(grpc.StatusCode.NOT_FOUND, f"no file {req.path!r} in {p!r} at {at}")
            found = match[0]
        content = self._led.get_blob(t, found.sha256)
        return api.ReadFileResponse(file=found, content=content, at_versionstamp=at)

    def _fork(self, call: _Call, req: api.ForkRequest) -> api.ForkResponse:
        t, p = self._project(call, req.project, Role.IDE)
        vs = self._point(t, p, req.at) or self._led.head(t, p)
        assert vs is not None  # a project's log opens with PROJECT_CREATED
        state = replay.Replayer(self._led, t, p).state_at(vs)
        forked = replay.fork(self._led, t, p, state, req.new_project)
        self._metrics.ledger_commits.inc()
        return api.ForkResponse(
            project=self._info(t, forked.project),
            link=str(forked.link),
            files=forked.files,
            at_versionstamp=str(vs),
        )

    # locks ----------------------------------------------------------------------------
    @staticmethod
    def _lock_info(lock: ledger.Lock) -> api.LockInfo:
        return api.LockInfo(
            path=lock.path, holder=lock.holder, token=lock.token, expires_us=lock.expires_us
        )

    @staticmethod
    def _human(holder: str) -> str:
        if not holder.startswith(HUMAN_PREFIX) or len(holder) == len(HUMAN_PREFIX):
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"lock holder {holder!r} must be 'human:<name>': the API holds locks for people, "
                "agents take theirs inside the daemon",
            )
        return holder

    @staticmethod
    def _ttl(ttl_s: float) -> float:
        if not 0 < ttl_s <= 24 * 3600:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"ttl_s {ttl_s} must be in (0, 86400] seconds"
            )
        return ttl_s

    def _acquire_lock(self, call: _Call, req: api.AcquireLockRequest) -> api.LockInfo:
        t, p = self._project(call, req.project, Role.IDE)
        lock = self._led.acquire_lock(t, p, req.path, self._human(req.holder), self._ttl(req.ttl_s))
        self._metrics.ledger_commits.inc()
        return self._lock_info(lock)

    def _renew_lock(self, call: _Call, req: api.RenewLockRequest) -> api.LockInfo:
        t, p = self._project(call, req.project, Role.IDE)
        lock = self._led.renew_lock(
            t, p, req.path, self._human(req.holder), req.token, self._ttl(req.ttl_s)
        )
        self._metrics.ledger_commits.inc()
        return self._lock_info(lock)

    def _release_lock(self, call: _Call, req: api.ReleaseLockRequest) -> api.ReleaseLockResponse:
        t, p = self._project(call, req.project, Role.IDE)
        self._led.release_lock(t, p, req.path, self._human(req.holder), req.token)
        self._metrics.ledger_commits.inc()
        return api.ReleaseLockResponse()

    def _list_locks(self, call: _Call, req: api.ListLocksRequest) -> api.ListLocksResponse:
        t, p = self._project(call, req.project, Role.OPS)
        return api.ListLocksResponse(locks=[self._lock_info(lk) for lk in self._led.locks(t, p)])

    # tokens ---------------------------------------------------------------------------
    @staticmethod
    def _token_info(info: TokenInfo) -> api.TokenInfo:
        return api.TokenInfo(
            token_id=info.token_id,
            tenant=info.tenant,
            role=api.TokenRole.Name(int(info.role)),
            label=info.label,
            created_us=info.created_us,
            revoked_us=info.revoked_us,
        )

    def _create_token(self, call: _Call, req: api.CreateTokenRequest) -> api.CreateTokenResponse:
        t = self._scope(call, req.tenant, Role.ADMIN)
        if int(req.role) not in (Role.OPS, Role.IDE, Role.ADMIN):
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"role {req.role} is not ops, ide or admin"
            )
        if len(req.label) > 200:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "label is over 200 characters")
        secret, info = self._tokens.create(t, Role(req.role), req.label)
        return api.CreateTokenResponse(info=self._token_info(info), secret=secret)

    def _revoke_token(self, call: _Call, req: api.RevokeTokenRequest) -> api.TokenInfo:
        t = self._scope(call, req.tenant, Role.ADMIN)
        return self._token_info(self._tokens.revoke(t, req.token_id))

    def _list_tokens(self, call: _Call, req: api.ListTokensRequest) -> api.ListTokensResponse:
        t = self._scope(call, req.tenant, Role.ADMIN)
        return api.ListTokensResponse(tokens=[self._token_info(i) for i in self._tokens.tokens(t)])

    # the wire -------------------------------------------------------------------------
    def _run_unary(
        self,
        method: str,
        impl: Callable[[_Call, Any], Any],
        request: Any,
        context: grpc.ServicerContext,
    ) -> Any:
        started = time.perf_counter()
        call: _Call | None = None
        try:
            call = self._begin(context)
            response = impl(call, request)
        except Exception as exc:
            code, msg = status_of(exc)
            if code is grpc.StatusCode.INTERNAL:
                self._log.exception("rpc failed", method=method)
            self._finish(method, call, code, started, msg)
            context.abort(code, msg)
        self._finish(method, call, grpc.StatusCode.OK, started)
        return response

    def _run_stream(
        self,
        method: str,
        impl: Callable[[_Call, Any, grpc.ServicerContext], Iterator[Any]],
        request: Any,
        context: grpc.ServicerContext,
    ) -> Iterator[Any]:
        started = time.perf_counter()
        call: _Call | None = None
        code = grpc.StatusCode.OK
        try:
            call = self._begin(context)
            yield from impl(call, request, context)
            if not context.is_active():
                code = grpc.StatusCode.CANCELLED
        except Exception as exc:
            code, msg = status_of(exc)
            if code is grpc.StatusCode.INTERNAL:
                self._log.exception("rpc failed", method=method)
            self._finish(method, call, code, started, msg)
            context.abort(code, msg)
        except GeneratorExit:  # the client went away mid-stream
            self._finish(method, call, grpc.StatusCode.CANCELLED, started)
            raise
        self._finish(method, call, code, started)


def _finishes(rec: ledger.RecordedEvent, mission_id: str) -> bool:
    return (
        rec.kind == "signal"
        and rec.event.mission_id == mission_id
        and rec.event.signal.kind == pb.SIGNAL_KIND_MISSION_FINISHED
    )


def _unary(name: str) -> Callable[..., Any]:
    impl_name = "_" + "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")

    def method(self: SwarmService, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run_unary(name, getattr(self, impl_name), request, context)

    method.__name__ = name
    return method


def _stream(name: str) -> Callable[..., Any]:
    impl_name = "_" + "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")

    def method(self: SwarmService, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._run_stream(name, getattr(self, impl_name), request, context)

    method.__name__ = name
    return method


UNARY_METHODS = (
    "ListProjects",
    "CreateProject",
    "SubmitMission",
    "GetMission",
    "ListMissions",
    "CancelMission",
    "History",
    "ListFiles",
    "ReadFile",
    "Fork",
    "AcquireLock",
    "RenewLock",
    "ReleaseLock",
    "ListLocks",
    "CreateToken",
    "RevokeToken",
    "ListTokens",
)
STREAM_METHODS = ("FollowMission", "StreamEvents")

for _name in UNARY_METHODS:
    setattr(SwarmService, _name, _unary(_name))
for _name in STREAM_METHODS:
    setattr(SwarmService, _name, _stream(_name))
