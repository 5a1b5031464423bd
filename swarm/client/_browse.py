"""Reads for looking around a daemon's projects: projects, files at a point, one event in full.

Mission control (``swarm.web``) is written against these and the ``Client``
methods; they are calls of the daemon's API (``ListProjects``, ``ListFiles``,
``ReadFile``, ``History``, ``FollowMission``, ``ReadEvidence``), decoded into
the frozen value types below. ``GrpcClient`` has them through ``GrpcBrowse``;
a token that cannot read a project gets the API's refusal (``ClientError``)
and nothing else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import model_pb2
from proto.swarm.v1 import service_pb2 as api
from swarm.client._wire import ticket_state
from swarm.missions import VERDICT_NAMES, describe_event
from swarm.missions._records import decode_exchange, decode_test_run

if TYPE_CHECKING:
    from swarm.client._grpc import Remote

#: Decisions whose evidence blob is a sandbox test run (swarm.missions._suites.RUN_KINDS).
TEST_RUN_KINDS = frozenset({"critic.baseline", "critic.tests"})
#: Decisions whose evidence blob is one exchange with a model provider.
EXCHANGE_KINDS = frozenset({"brain.exchange", "brain.failed-exchange", "model.exchange"})
_CHANGE_KINDS = {
    pb.CHANGE_KIND_CREATE: "create",
    pb.CHANGE_KIND_MODIFY: "modify",
    pb.CHANGE_KIND_DELETE: "delete",
}
#: How long a followed mission's stream may stay open (finite: see GrpcClient._follow).
FOLLOW_DEADLINE_S = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """One project of the tenant: when it began, its head and how many events it holds."""

    tenant: str
    project: str
    created_us: int
    head: str
    events: int
    workspace: str = ""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file of a project's tree at one point."""

    path: str
    size: int
    sha256: str  # hex


@dataclass(frozen=True, slots=True)
class Tree:
    """A project's files at the event ``at`` (24 hex digits)."""

    at: str
    files: tuple[FileEntry, ...]


@dataclass(frozen=True, slots=True)
class FileAt:
    """One file's bytes at the event ``at``."""

    path: str
    at: str
    content: bytes


@dataclass(frozen=True, slots=True)
class DecisionInfo:
    """What a Decision event says: the choice, why, and the verdict when the critic spoke."""

    kind: str
    input: str
    rationale: str
    outcome: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    verdict: str = ""  # the critic's verdict's name on a critic.verdict decision
    original_failing: tuple[str, ...] = ()
    has_evidence: bool = False


@dataclass(frozen=True, slots=True)
class EventInfo:
    """One event of a project in full: the story line's facts and its payload's."""

    versionstamp: str
    time_us: int
    agent: str
    kind: str  # decision, state_change, ticket, signal
    event_id: str
    parent_event_id: str
    mission_id: str
    what: str
    path: str = ""
    diff: str = ""  # a state change's unified diff ("" for binary or large changes)
    change: str = ""  # create, modify, delete
    ticket_id: str = ""
    ticket_state: str = ""
    decision: DecisionInfo | None = None


@dataclass(frozen=True, slots=True)
class TestItem:
    """One test of a sandbox run: its name, outcome and the runner's message (its output)."""

    name: str
    outcome: str
    message: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """An event and what its Decision's evidence blob holds, decoded by the decision's kind."""

    event: EventInfo
    tests: tuple[TestItem, ...] = ()
    run_status: str = ""
    exchange_request: str = ""
    exchange_response: str = ""
    raw_size: int = 0


def event_from_pb(rec: api.EventRecord) -> EventInfo:
    """An API event record as an ``EventInfo``."""
    ev = rec.event
    kind = ev.WhichOneof("payload") or ""
    info: dict[str, Any] = {}
    if kind == "state_change":
        sc = ev.state_change
        info = {"path": sc.path, "diff": sc.unified_diff, "change": _CHANGE_KINDS.get(sc.kind, "")}
    elif kind == "ticket":
        info = {"ticket_id": ev.ticket.ticket_id, "ticket_state": ticket_state(ev.ticket.state)}
    elif kind == "decision":
        d = ev.decision
        info = {
            "decision": DecisionInfo(
                kind=d.kind,
                input=d.input,
                rationale=d.rationale,
                outcome=d.outcome,
                attributes=dict(d.attributes),
                verdict=VERDICT_NAMES.get(d.verdict, "") if d.verdict else "",
                original_failing=tuple(d.test_code.original_failing),
                has_evidence=d.HasField("detail"),
            )
        }
    return EventInfo(
        versionstamp=rec.cursor,
        time_us=ev.time_us,
        agent=ev.agent_id,
        kind=kind,
        event_id=ev.event_id,
        parent_event_id=ev.parent_event_id,
        mission_id=ev.mission_id,
        what=describe_event(ev),
        **info,
    )


def _exchange(kind: str, blob: bytes) -> tuple[str, str]:
    """(request, response) bodies: a coder loop's call is a ModelCall, a one-shot's not."""
    if kind == "model.exchange":
        call = model_pb2.ModelCall.FromString(blob)
        return call.request_json, call.response_json or call.error
    return decode_exchange(blob)


def evidence_from_pb(got: api.ReadEvidenceResponse) -> Evidence:
    """The event and its evidence, decoded when the decision's kind says what it holds."""
    event = event_from_pb(got.record)
    blob = bytes(got.evidence)
    kind = event.decision.kind if event.decision is not None else ""
    if blob and kind in TEST_RUN_KINDS:
        run = decode_test_run(blob)
        items = tuple(TestItem(str(n), str(o), str(m)) for n, o, m in run["items"])
        return Evidence(event, tests=items, run_status=str(run["status"]), raw_size=len(blob))
    if blob and kind in EXCHANGE_KINDS:
        request, response = _exchange(kind, blob)
        return Evidence(
            event, exchange_request=request, exchange_response=response, raw_size=len(blob)
        )
    return Evidence(event, raw_size=len(blob))


class GrpcBrowse:
    """The browsing reads over a daemon's API (mixed into ``GrpcClient``)."""

    remote: Remote
    tenant: str

    def _ref(self, project: str) -> api.ProjectRef:
        return api.ProjectRef(tenant=self.tenant, project=project)

    def _call(self, method: str, request: Any) -> Any:
        raise NotImplementedError  # GrpcClient's

    def list_projects(self) -> list[ProjectInfo]:
        """The tenant's projects, by name."""
        got = self._call("ListProjects", api.ListProjectsRequest(tenant=self.tenant))
        return sorted(
            (
                ProjectInfo(p.tenant, p.project, p.created_us, p.head, p.events, p.workspace)
                for p in got.projects
            ),
            key=lambda p: p.project,
        )

    def list_files(self, project: str, at: str | None) -> Tree:
        """The project's files after event ``at`` (24 hex digits; None: head)."""
        point = api.At(head=True) if at is None else api.At(versionstamp=at)
        got = self._call("ListFiles", api.ListFilesRequest(project=self._ref(project), at=point))
        files = tuple(FileEntry(f.path, f.size, bytes(f.sha256).hex()) for f in got.files)
        return Tree(got.at_versionstamp, files)

    def read_file(self, project: str, path: str, at: str | None) -> FileAt:
        """One file's bytes after event ``at`` (None: head); NOT_FOUND if it did not exist."""
        point = api.At(head=True) if at is None else api.At(versionstamp=at)
        req = api.ReadFileRequest(project=self._ref(project), path=path, at=point)
        got = self._call("ReadFile", req)
        return FileAt(path, got.at_versionstamp, bytes(got.content))

    def mission_events(
        self,
        project: str,
        mission_id: str,
        *,
        after: str = "",
        before: str = "",
        limit: int = 1000,
        newest: bool = False,
    ) -> list[EventInfo]:
        """Up to ``limit`` (at most 10000) of the mission's events between the cursors, in log
        order; ``newest``: the last ``limit`` of them rather than the first (a page from the
        end, read through the mission's index without folding the rest)."""
        req = api.HistoryRequest(
            project=self._ref(project),
            mission_id=mission_id,
            after=after,
            before=before,
            limit=limit,
            reverse=newest,
        )
        records = self._call("History", req).records
        if newest:
            return [event_from_pb(r) for r in reversed(records)]
        return [event_from_pb(r) for r in records]

    def evidence(self, project: str, versionstamp: str) -> Evidence:
        """One event of the project and its decision's evidence (test run, model exchange)."""
        req = api.ReadEvidenceRequest(project=self._ref(project), versionstamp=versionstamp)
        return evidence_from_pb(self._call("ReadEvidence", req))

    @contextlib.contextmanager
    def follow(
        self, project: str, mission_id: str, after: str = ""
    ) -> Iterator[Iterator[EventInfo]]:
        """The mission's events after ``after`` as they land, until it ends.

        Yields an iterator of ``EventInfo``; leaving the block cancels the stream
        (the daemon frees it at once), so a thread blocked on it wakes up.
        """
        from swarm.client._grpc import refusals

        req = api.FollowMissionRequest(
            project=self._ref(project), mission_id=mission_id, after=after
        )
        stream = self.remote.stream("FollowMission", req, deadline=FOLLOW_DEADLINE_S)

        def events() -> Iterator[EventInfo]:
            with refusals():
                for rec in stream:
                    yield event_from_pb(rec)

        try:
            yield events()
        finally:
            stream.cancel()
