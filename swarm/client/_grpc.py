"""``GrpcClient``: the ``Client`` surface over a running ``swarm serve``'s gRPC API.

It is given a ``Remote`` (a channel's stub, with the bearer token, trace id
and deadline every call carries; the CLI's ``swarm.cli._remote`` makes one
from its options). Every answer is decoded by ``swarm.client._wire``; every
refused call becomes a ``ClientError`` naming the status (``NOT_FOUND: ...``).
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ledger
import ops
import replay
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.client import _files as files_
from swarm.client import _types as v
from swarm.client._browse import GrpcBrowse
from swarm.client._errors import ClientError, Detached, refused
from swarm.client._memory import hit_from_pb
from swarm.client._points import event_versionstamp
from swarm.client._wire import (
    mission_from_pb,
    query_to_pb,
    row_from_pb,
    story_from_pb,
    ticket_state,
    verify_from_pb,
    why_from_pb,
)
from swarm.memory import Hit

if TYPE_CHECKING:  # grpc loads only when a command talks to a daemon (~60 ms of start-up)
    import grpc

# How long `mission rename --server` follows a mission (Ctrl-C stops following sooner).
FOLLOW_DEADLINE_S = 7 * 24 * 3600.0
#: Rows per QueryAudit page (the daemon's own cap on one call).
AUDIT_PAGE = 10_000
#: Records per message asked of the daemon's event streams (ADR 0015, wire).
STREAM_BATCH = 500
_TERMINAL = frozenset({pb.TICKET_STATE_DONE, pb.TICKET_STATE_FAILED, pb.TICKET_STATE_CANCELLED})


class Remote:
    """One daemon: its stub, and the token, trace id and deadline every call carries."""

    def __init__(self, target: str, channel: grpc.Channel, token: str, deadline: float) -> None:
        self.target = target
        self.deadline = deadline
        self._metadata = (
            ("authorization", f"Bearer {token}"),
            ("x-trace-id", uuid.uuid4().hex),
        )
        from proto.swarm.v1 import service_pb2_grpc as api_grpc

        # The generated stubs carry no type hints; the calls are checked by the tests.
        self._stub: Any = api_grpc.SwarmStub(channel)  # type: ignore[no-untyped-call]

    def call(self, method: str, request: Any) -> Any:
        """A unary call, e.g. ``call("GetMission", req)``, within the deadline."""
        return getattr(self._stub, method)(
            request, metadata=self._metadata, timeout=self.deadline, wait_for_ready=True
        )

    def stream(self, method: str, request: Any, *, deadline: float) -> Any:
        """A server stream: iterate it for its records, ``cancel()`` it to stop early."""
        return getattr(self._stub, method)(
            request, metadata=self._metadata, timeout=deadline, wait_for_ready=True
        )


def describe(exc: grpc.RpcError) -> tuple[str, str]:
    """(status name, details) of a failed call."""
    import grpc

    code = exc.code() if isinstance(exc, grpc.Call) else None
    details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
    return (code.name if code is not None else "UNKNOWN"), details or "no details"


@contextlib.contextmanager
def refusals(hint: str = "") -> Iterator[None]:
    """A failed call as ``ClientError`` (``STATUS: details``, then ``hint``)."""
    import grpc

    try:
        yield
    except grpc.RpcError as exc:
        code, details = describe(exc)
        raise ClientError(code, details, shown=f"{code}: {details}{hint}") from None


class GrpcClient(GrpcBrowse):
    """The daemon's missions and audit, through its API, as the value types."""

    def __init__(self, remote: Remote, tenant: str = "") -> None:
        self.remote = remote
        self.tenant = tenant  # "" means the token's own tenant
        self.where = f"the daemon at {remote.target}"

    def _ref(self, project: str) -> api.ProjectRef:
        return api.ProjectRef(tenant=self.tenant, project=project)

    def _call(self, method: str, request: Any) -> Any:
        with refusals():
            return self.remote.call(method, request)

    # missions -------------------------------------------------------------------------
    def list_missions(self, project: str) -> list[v.Mission]:
        listed = self._call("ListMissions", api.ListMissionsRequest(project=self._ref(project)))
        return [mission_from_pb(m) for m in listed.missions]

    def get_mission(self, project: str, mission_id: str) -> v.Mission:
        req = api.GetMissionRequest(project=self._ref(project), mission_id=mission_id)
        return mission_from_pb(self._call("GetMission", req))

    def mission_story(self, project: str, mission_id: str) -> v.MissionStory:
        req = api.GetMissionRequest(project=self._ref(project), mission_id=mission_id)
        return story_from_pb(self._call("GetMissionStory", req))

    def cancel_mission(self, project: str, mission_id: str, reason: str) -> v.Mission:
        req = api.CancelMissionRequest(
            project=self._ref(project), mission_id=mission_id, reason=reason
        )
        return mission_from_pb(self._call("CancelMission", req))

    def run_mission(
        self, project: str, run: v.MissionRun, *, progress: v.Progress, started: v.Started
    ) -> v.MissionReport:
        """Submit the mission on ``run.workspace``, follow it to its end, report it.

        Ctrl-C while following raises ``Detached``: the mission goes on in the daemon.
        """
        if run.repo is not None or run.brain != "rules":
            raise ClientError("INVALID_ARGUMENT", "a daemon runs missions on its workspaces")
        o = run.options
        submit = api.SubmitMissionRequest(
            project=self._ref(project),
            kind=run.request.kind,
            params=dict(run.request.params),
            workspace=run.workspace,
            mission_id=run.mission_id or "",
            coders=o.coders,
            skip_tests=not o.run_tests,
            step_delay_s=o.step_delay_s,
            allow_unverified=o.allow_unverified,
            test_timeout_s=o.test_timeout_s,
            policies=list(o.policies),
        )
        mid = self._call("SubmitMission", submit).mission_id
        started(mid)
        hint = f" (mission {mid} was submitted: swarm mission show {mid} {self.flags(project)})"
        with refusals(hint):
            events = self._follow(project, mid, progress)
        return _report_of(self.get_mission(project, mid), events)

    # memory ---------------------------------------------------------------------------
    def search_memory(
        self, query: str, *, project: str | None, kind: str | None, limit: int
    ) -> list[Hit]:
        from proto.swarm.v1 import memory_pb2 as mempb

        req = mempb.SearchMemoryRequest(
            tenant=self.tenant, project=project or "", query=query, kind=kind or "", limit=limit
        )
        return [hit_from_pb(h) for h in self._call("SearchMemory", req).hits]

    def flags(self, project: str) -> str:
        """The options that name this daemon and ``project`` on a command line."""
        return f"--server {self.remote.target} --project {project}"

    def _follow(self, project: str, mission_id: str, progress: v.Progress) -> int:
        """Follow a mission to its end, its tickets' progress to ``progress``; how many events."""
        states: dict[str, int] = {}
        seen = 0
        stream = self.remote.stream(
            "FollowMission",
            api.FollowMissionRequest(
                project=self._ref(project), mission_id=mission_id, batch=STREAM_BATCH
            ),
            # Finite on purpose: the daemon's stream wait overflows (INTERNAL) without a deadline.
            deadline=FOLLOW_DEADLINE_S,
        )
        try:
            for rec in stream_records(stream):
                seen += 1
                if rec.event.WhichOneof("payload") == "ticket":
                    states[rec.event.ticket.ticket_id] = rec.event.ticket.state
                    progress("tickets", sum(s in _TERMINAL for s in states.values()), len(states))
        except KeyboardInterrupt:
            stream.cancel()
            raise Detached(mission_id) from None
        return seen

    # audit ----------------------------------------------------------------------------
    def query_audit(self, project: str, q: v.Query) -> list[v.AuditRow]:
        """``ops.query``'s rows, filtered by the daemon, page after page (QueryAudit)."""
        try:
            q.check()  # refused before any call, as the daemon would refuse it
        except ops.BadQuery as exc:
            raise ClientError(
                "INVALID_ARGUMENT", str(exc), shown=f"INVALID_ARGUMENT: {exc}"
            ) from None
        rows: list[v.AuditRow] = []
        after = ""
        while q.limit is None or len(rows) < q.limit:
            page = AUDIT_PAGE if q.limit is None else min(AUDIT_PAGE, q.limit - len(rows))
            req = query_to_pb(self._ref(project), q, limit=page, after=after)
            got = self._call("QueryAudit", req)
            rows.extend(row_from_pb(r) for r in got.rows)
            if not got.more or not got.rows:
                break
            after = got.rows[-1].versionstamp
        return rows

    def who_changed(
        self, project: str, path: str, *, since_us: int | None, until_us: int | None
    ) -> list[v.ChangeWhy]:
        req = api.WhoChangedRequest(project=self._ref(project), path=path)
        if since_us is not None:
            req.since_us = since_us
        if until_us is not None:
            req.until_us = until_us
        return [why_from_pb(w) for w in self._call("WhoChanged", req).changes]

    def verify(self, project: str, *, progress: v.Progress | None = None) -> v.VerifyReport:
        req = api.VerifyProjectRequest(project=self._ref(project))
        return verify_from_pb(self._call("VerifyProject", req))

    # replay ---------------------------------------------------------------------------
    def _at(self, project: str, point: v.Point) -> api.At:
        if point.mission is None:
            return at_point(point.text)
        if point.step < 1:  # the step-th event of the mission, as Replayer.at_mission_step counts
            raise replay.UnknownPoint(f"mission step {point.step}: steps count from 1")
        history = api.HistoryRequest(
            project=self._ref(project), mission_id=point.mission, limit=min(point.step, 10_000)
        )
        records = self._call("History", history).records
        if len(records) < point.step:
            raise replay.UnknownPoint(
                f"mission {point.mission!r} has {len(records)} events, so no step {point.step}"
            )
        return api.At(versionstamp=records[point.step - 1].cursor)

    def replay_to(
        self, project: str, point: v.Point, out: Path, *, force: bool, progress: v.Progress
    ) -> v.Replayed:
        """ListFiles at the point, ReadFile each file, check it, write the tree all or nothing.

        Reading at a past point makes the daemon fold the log once per call, so a
        file whose content is the same at head is read at head, which is cheap.
        """
        out = out.absolute()
        with refused():
            _refuse_non_empty(out, force)  # before reading anything
            listing, contents = self._files_at(project, self._at(project, point), progress)
            written = replay.write_tree(out, contents, listing.at_versionstamp, force=force)
        vs = listing.at_versionstamp
        return v.Replayed(out, vs, len(contents), written, True, server=self.remote.target)

    def _files_at(
        self, project: str, at: api.At, progress: v.Progress
    ) -> tuple[api.ListFilesResponse, dict[str, bytes]]:
        ref = self._ref(project)
        listing = self._call("ListFiles", api.ListFilesRequest(project=ref, at=at))
        vs = listing.at_versionstamp
        pinned = api.At(versionstamp=vs)
        head = listing
        if at.WhichOneof("point") != "head":
            head = self._call("ListFiles", api.ListFilesRequest(project=ref))
        at_head = {f.path: f.sha256 for f in head.files}
        contents: dict[str, bytes] = {}

        def read(path: str, point: api.At | None) -> bytes:
            req = api.ReadFileRequest(project=ref, path=path, at=point)
            return bytes(self._call("ReadFile", req).content)

        for i, f in enumerate(listing.files, 1):
            cheap = at_head.get(f.path) == f.sha256
            data = read(f.path, None if cheap else pinned)
            if cheap and hashlib.sha256(data).digest() != f.sha256:  # head moved since
                data = read(f.path, pinned)
            if hashlib.sha256(data).digest() != f.sha256 or len(data) != f.size:
                raise replay.ChainBroken(f.path, vs, "the daemon sent content not of its hash")
            contents[f.path] = data
            progress("read", i, len(listing.files))
        return listing, contents

    def fork(
        self, project: str, point: v.Point, new_project: str, *, progress: v.Progress
    ) -> v.Forked:
        with refused():
            at = self._at(project, point)
        req = api.ForkRequest(project=self._ref(project), at=at, new_project=new_project)
        done = self._call("Fork", req)
        return v.Forked(done.project.project, done.link, done.files, project, done.at_versionstamp)

    # files at a point, people's locks --------------------------------------------------
    def files_at(self, project: str, point: v.Point) -> files_.FilesAt:
        with refused():
            at = self._at(project, point)
        listing = self._call("ListFiles", api.ListFilesRequest(project=self._ref(project), at=at))
        files = tuple(files_.FileEntry(e.path, e.size, e.sha256.hex()) for e in listing.files)
        return files_.FilesAt(listing.at_versionstamp, files)

    def file_at(self, project: str, point: v.Point, path: str) -> files_.FileAt:
        """``path`` at ``point`` through ReadFile, its bytes checked against the hash sent."""
        with refused():
            files_.check_path(path)
            at = self._at(project, point)
        req = api.ReadFileRequest(project=self._ref(project), path=path, at=at)
        got = self._call("ReadFile", req)
        data = bytes(got.content)
        if hashlib.sha256(data).digest() != got.file.sha256:
            with refused():
                raise replay.ChainBroken(path, got.at_versionstamp, "content not of its hash")
        return files_.FileAt(path, got.at_versionstamp, len(data), got.file.sha256.hex(), data)

    def acquire_lock(self, project: str, path: str, holder: str, ttl_s: float) -> files_.HeldLock:
        req = api.AcquireLockRequest(
            project=self._ref(project), path=path, holder=holder, ttl_s=ttl_s
        )
        got = self._call("AcquireLock", req)
        return files_.HeldLock(got.path, got.holder, got.token.hex(), got.expires_us)

    def release_lock(self, project: str, path: str, holder: str, token: str) -> None:
        with refused():
            fencing = files_.fencing_token(token)
        req = api.ReleaseLockRequest(
            project=self._ref(project), path=path, holder=holder, token=fencing
        )
        self._call("ReleaseLock", req)


def stream_records(messages: Iterable[api.EventRecord]) -> Iterator[api.EventRecord]:
    """Every record of an event stream, in order, whichever form the daemon sent.

    A message of the batched form (the request set ``batch``) carries its records
    in ``batch``; a daemon that predates batches sends one record per message,
    which is then the record itself. Each record has its own cursor either way.
    """
    for message in messages:
        if message.batch:
            yield from message.batch
        else:
            yield message


def at_point(text: str | None) -> api.At:
    """An ``At`` from a 24-hex-digit versionstamp, an ISO or relative (-2h) time, or None (head).

    A relative time is measured from this machine's clock, as the local path does.
    """
    if text is None:
        return api.At(head=True)
    vs = event_versionstamp(text)
    if vs is not None:
        return api.At(versionstamp=vs)
    now = ledger.wall_clock_us()
    when = replay.parse_time(text, now)  # UnparseableTime names the accepted forms
    if when > now:
        raise replay.TimeInFuture(text, when, now)
    return api.At(time_us=when)


def _refuse_non_empty(out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise replay.OutputNotEmpty(str(out))


def _report_of(m: v.Mission, events: int) -> v.MissionReport:
    """The local run's report, from what the API says of a mission (no test counts there)."""
    counts: dict[str, int] = {}
    for t in m.tickets:
        counts[t.state] = counts.get(t.state, 0) + 1
    end = m.finished_us or ledger.wall_clock_us()
    return v.MissionReport(
        mission_id=m.mission_id,
        outcome=m.state,
        reason=m.reason,
        tickets=counts,
        files_changed=m.files_changed,
        tests={},
        seconds=max(0, end - m.started_us) / 1e6,
        events=events,
        failed_tickets={
            t.id: t.reason for t in m.tickets if t.state == ticket_state(pb.TICKET_STATE_FAILED)
        },
        verdict=m.verdict,
        verdict_reason=m.verdict_reason,
    )
