"""The ``swarm.v1.Swarm`` service: each call authenticated, tenant-scoped, mapped to a status.

The handlers here are thin adapters over the ledger, replay and missions:
unary ones are plain blocking functions ``(call, request) -> response`` that
the edge (``swarm.daemon._wire``) runs on the bounded thread pool after it
has parsed the request and checked the bearer token; it also maps errors to
statuses, caps the streams per tenant, clips what is echoed and writes the
log line. Streams are async generators on the event loop: an idle stream
holds no thread. They tail the ledger through one shared watch per project
(``ProjectWatchers``): subscribe first, then read, so an append in between
wakes the stream and nothing is missed. A stream re-checks its token on each
wake and every few seconds, so a revoked or expired token ends it with
UNAUTHENTICATED.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import threading
import time
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

import grpc

import ledger
import replay
from ledger import Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._errors import PermissionDenied
from swarm.daemon._locks import LockOwners
from swarm.daemon._logging import get_logger
from swarm.daemon._metrics import Metrics
from swarm.daemon._missions import MissionRunner
from swarm.daemon._tokens import SYSTEM_TENANT, TOKENS_PROJECT, Role, TokenInfo, TokenStore
from swarm.daemon._watchers import ProjectWatchers
from swarm.daemon._workspaces import check_path

HISTORY_DEFAULT = 1000
HISTORY_MAX = 10_000
STREAM_PAGE = 256
TOKEN_RECHECK_S = 3.0  # longest an idle stream goes without re-checking its token
TOKEN_MEMO_S = 1.0  # streams of one token share a check this fresh
HUMAN_PREFIX = "human:"
MAX_TIME_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z, datetime's last instant

T = TypeVar("T")


class _Abort(Exception):
    """A status to end the call with (raised inside handlers, turned into ``context.abort``)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Call:
    """What one call knows about itself: who, where, and for the log line."""

    __slots__ = ("bearer", "facts", "principal")

    def __init__(self, trace_id: str, bearer: str) -> None:
        self.bearer = bearer  # the secret: checked, never logged
        self.principal: TokenInfo | None = None
        self.facts: dict[str, str] = {"trace_id": trace_id}


class _Wake:
    """An open stream's wake-up: set from watcher threads, awaited on the loop."""

    __slots__ = ("event", "loop", "tokens_changed")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.event = asyncio.Event()
        self.tokens_changed = False

    def wake(self) -> None:
        """Thread-safe: wake the stream (its project grew, or the daemon stops)."""
        self.loop.call_soon_threadsafe(self.event.set)

    def wake_tokens(self) -> None:
        self.tokens_changed = True
        self.wake()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)


class SwarmService:
    """The API over one Ledger; missions go to ``missions`` when the orchestrator is wired."""

    def __init__(
        self,
        led: ledger.Ledger,
        tokens: TokenStore,
        metrics: Metrics,
        missions: MissionRunner | None = None,
        *,
        pool: Executor | None = None,
    ) -> None:
        self._led = led
        self._missions = missions
        self._tokens = tokens
        self._metrics = metrics
        self._pool = pool
        self._owners = LockOwners(led)
        self._watchers = ProjectWatchers(led)
        self._streams: set[_Wake] = set()
        self._streams_lock = threading.Lock()
        self._stopping = threading.Event()
        self._memo: dict[str, tuple[float, TokenInfo]] = {}
        self._log = get_logger()

    # lifecycle --------------------------------------------------------------------------
    def stop_streams(self) -> int:
        """End every open stream (daemon shutdown); returns how many were open."""
        self._stopping.set()
        with self._streams_lock:
            states = list(self._streams)
        for state in states:
            state.wake()
        self._watchers.close()
        return len(states)

    def open_streams(self) -> int:
        with self._streams_lock:
            return len(self._streams)

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the bounded thread pool: the event loop never blocks."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

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

    def authenticate(self, call: _Call) -> None:
        """Check the call's bearer token (blocking: one ledger read)."""
        call.principal = self._tokens.check(call.bearer)
        call.facts["token_id"] = call.principal.token_id

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
        if req.workspace:  # the folder is this project's from now on (PERMISSION_DENIED if not)
            self._runner().workspaces.register(t, p, req.workspace, exist_ok=req.exist_ok)
        else:
            self._led.create_project(t, p, exist_ok=req.exist_ok)
        self._metrics.ledger_commits.inc()
        info = self._info(t, p)
        claim = self._led.workspace_of(t, p)
        info.workspace = claim.name if claim is not None else ""
        return info

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

    async def _follow_mission(
        self, call: _Call, req: api.FollowMissionRequest
    ) -> AsyncGenerator[api.EventRecord, None]:
        t, p = self._project(call, req.project, Role.OPS)
        call.facts["mission_id"] = req.mission_id
        await self.blocking(self._runner().describe, t, p, req.mission_id)  # NOT_FOUND if unknown
        tail = self._tail(call, t, p, req.after, True, req.mission_id, 0, until_finished=True)
        async with contextlib.aclosing(tail):  # closed with us, not whenever it is collected
            async for rec in tail:
                yield rec

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

    async def _stream_events(
        self, call: _Call, req: api.StreamEventsRequest
    ) -> AsyncGenerator[api.EventRecord, None]:
        t, p = self._project(call, req.project, Role.OPS)
        if req.mission_id:
            call.facts["mission_id"] = req.mission_id
        tail = self._tail(call, t, p, req.after, req.follow, req.mission_id, req.limit)
        async with contextlib.aclosing(tail):  # closed with us, not whenever it is collected
            async for rec in tail:
                yield rec

    async def _tail(
        self,
        call: _Call,
        t: str,
        p: str,
        after_text: str,
        follow: bool,
        mission_id: str,
        limit: int,
        *,
        until_finished: bool = False,
    ) -> AsyncGenerator[api.EventRecord, None]:
        """The log after a cursor, then live: subscribed before each read, so nothing is missed.

        A client that leaves or a deadline cancels the task at its ``await``; the
        ``finally`` then drops the subscriptions, so an idle stream costs no thread.
        """
        after = await self.blocking(self._cursor, t, p, after_text)
        wake = _Wake(asyncio.get_running_loop())
        unsubscribe = await self.blocking(self._subscribe, t, p, wake) if follow else []
        with self._streams_lock:
            self._streams.add(wake)
        self._metrics.active_streams.inc()
        sent = 0
        checked = time.monotonic()
        try:
            while True:
                if self._stopping.is_set():
                    raise _Abort(
                        grpc.StatusCode.UNAVAILABLE,
                        f"daemon is shutting down; resume after cursor {after or ''}",
                    )
                if wake.tokens_changed or time.monotonic() - checked >= TOKEN_RECHECK_S:
                    await self._recheck(call, fresh=wake.tokens_changed)
                    wake.tokens_changed = False
                    checked = time.monotonic()
                wake.event.clear()  # before the read: an append after it sets it again
                batch = await self.blocking(self._led.read, t, p, after=after, limit=STREAM_PAGE)
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
                    continue
                if not follow:
                    return
                # Jittered, so a thousand streams opened together do not re-check together.
                await wake.wait(TOKEN_RECHECK_S * random.uniform(0.5, 1.0))
        finally:
            for drop in unsubscribe:
                drop()
            with self._streams_lock:
                self._streams.discard(wake)
            self._metrics.active_streams.dec()
            call.facts["sent"] = str(sent)

    def _subscribe(self, t: str, p: str, wake: _Wake) -> list[Callable[[], None]]:
        """Wake on the project's appends and on any token change (a revocation, blocking)."""
        drops = [self._watchers.subscribe(SYSTEM_TENANT, TOKENS_PROJECT, wake.wake_tokens)]
        try:
            drops.append(self._watchers.subscribe(t, p, wake.wake))
        except BaseException:
            drops[0]()
            raise
        return drops

    async def _recheck(self, call: _Call, *, fresh: bool) -> None:
        """Raise Unauthenticated if the stream's token was revoked or has expired.

        Streams of one token share a check for ``TOKEN_MEMO_S``, so a thousand idle
        streams do not each read the ledger every few seconds; a token change
        (``fresh``) skips the memo.
        """
        now = time.monotonic()
        memo = self._memo.get(call.bearer)
        if fresh or memo is None or now - memo[0] > TOKEN_MEMO_S:
            info = await self.blocking(self._tokens.check, call.bearer)
            if len(self._memo) > 4096:
                self._memo.clear()
            self._memo[call.bearer] = (time.monotonic(), info)
        else:
            self._tokens.check_expiry(memo[1])

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
            if not 0 <= at.time_us <= MAX_TIME_US:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"time_us {at.time_us} is not a time from 1970 to 9999 (µs since the epoch)",
                )
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
        if req.prefix:
            check_path(req.prefix.rstrip("/") or ".", "prefix")
        files, at = self._files_at(t, p, self._point(t, p, req.at))
        if req.prefix:
            files = [f for f in files if f.path.startswith(req.prefix)]
        return api.ListFilesResponse(files=files, at_versionstamp=at)

    def _read_file(self, call: _Call, req: api.ReadFileRequest) -> api.ReadFileResponse:
        t, p = self._project(call, req.project, Role.OPS)
        check_path(req.path)
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
    def _lock_info(self, call: _Call, t: str, p: str, lock: ledger.Lock) -> api.LockInfo:
        """A lock on the wire; its fencing token only for the token that took it, or an admin."""
        assert call.principal is not None
        shown = self._owners.may_see_token(call.principal, t, p, lock)
        return api.LockInfo(
            path=lock.path,
            holder=lock.holder,
            token=lock.token if shown else b"",
            expires_us=lock.expires_us,
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
        holder, ttl = self._human(req.holder), self._ttl(req.ttl_s)
        assert call.principal is not None
        held = self._led.get_lock(t, p, req.path)
        if held is not None and held.holder == holder:  # the ledger would extend it for anyone
            self._owners.check(call.principal, t, p, req.path, "renew")
        lock = self._led.acquire_lock(t, p, req.path, holder, ttl)
        self._owners.record(t, p, lock, call.principal.token_id)
        self._metrics.ledger_commits.inc()
        return self._lock_info(call, t, p, lock)

    def _renew_lock(self, call: _Call, req: api.RenewLockRequest) -> api.LockInfo:
        t, p = self._project(call, req.project, Role.IDE)
        holder, ttl = self._human(req.holder), self._ttl(req.ttl_s)
        assert call.principal is not None
        self._owners.check(call.principal, t, p, req.path, "renew")
        lock = self._led.renew_lock(t, p, req.path, holder, req.token, ttl)
        self._metrics.ledger_commits.inc()
        return self._lock_info(call, t, p, lock)

    def _release_lock(self, call: _Call, req: api.ReleaseLockRequest) -> api.ReleaseLockResponse:
        t, p = self._project(call, req.project, Role.IDE)
        holder = self._human(req.holder)
        assert call.principal is not None
        self._owners.check(call.principal, t, p, req.path, "release")
        self._led.release_lock(t, p, req.path, holder, req.token)
        self._owners.forget(t, p, req.path)
        self._metrics.ledger_commits.inc()
        return api.ReleaseLockResponse()

    def _list_locks(self, call: _Call, req: api.ListLocksRequest) -> api.ListLocksResponse:
        t, p = self._project(call, req.project, Role.OPS)
        return api.ListLocksResponse(
            locks=[self._lock_info(call, t, p, lk) for lk in self._led.locks(t, p)]
        )

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
            expires_us=info.expires_us,
        )

    def _create_token(self, call: _Call, req: api.CreateTokenRequest) -> api.CreateTokenResponse:
        t = self._scope(call, req.tenant, Role.ADMIN)
        if int(req.role) not in (Role.OPS, Role.IDE, Role.ADMIN):
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"role {req.role} is not ops, ide or admin"
            )
        if len(req.label) > 200:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "label is over 200 characters")
        secret, info = self._tokens.create(t, Role(req.role), req.label, expires_us=req.expires_us)
        return api.CreateTokenResponse(info=self._token_info(info), secret=secret)

    def _revoke_token(self, call: _Call, req: api.RevokeTokenRequest) -> api.TokenInfo:
        t = self._scope(call, req.tenant, Role.ADMIN)
        return self._token_info(self._tokens.revoke(t, req.token_id))

    def _list_tokens(self, call: _Call, req: api.ListTokensRequest) -> api.ListTokensResponse:
        t = self._scope(call, req.tenant, Role.ADMIN)
        return api.ListTokensResponse(tokens=[self._token_info(i) for i in self._tokens.tokens(t)])


def _finishes(rec: ledger.RecordedEvent, mission_id: str) -> bool:
    return (
        rec.kind == "signal"
        and rec.event.mission_id == mission_id
        and rec.event.signal.kind == pb.SIGNAL_KIND_MISSION_FINISHED
    )
