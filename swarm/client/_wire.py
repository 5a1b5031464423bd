"""Each value type's one codec to and from the API's messages (``proto/swarm/v1/service.proto``).

The daemon encodes with ``*_to_pb``; ``GrpcClient`` decodes with ``*_from_pb``;
``decode(encode(x)) == x`` for every value (tests/client checks it on real
answers), which is what lets the two clients return equal results.
"""

from __future__ import annotations

from typing import Any

from ledger import Versionstamp
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import service_pb2 as api
from swarm.client._types import (
    AuditRow,
    ChangeWhy,
    Mission,
    MissionStory,
    Problem,
    Query,
    StoryLine,
    TicketInfo,
    VerifyReport,
)
from swarm.missions import VERDICT_NAMES

_VERDICTS = {name: value for value, name in VERDICT_NAMES.items()}
_PREFIX = "TICKET_STATE_"


def ticket_state(value: int) -> str:
    """A ticket state's name as the CLI prints it (``done``); an unknown one as its number."""
    try:
        return str(pb.TicketState.Name(value)).removeprefix(_PREFIX).lower()
    except ValueError:
        return str(value)


def _state_value(name: str) -> Any:
    """A ticket state's enum value from its name (or the number an unknown one was shown as)."""
    return int(name) if name.isdigit() else pb.TicketState.Value(_PREFIX + name.upper())


def mission_to_pb(m: Mission) -> api.Mission:
    return api.Mission(
        mission_id=m.mission_id,
        project=api.ProjectRef(tenant=m.tenant, project=m.project),
        kind=m.kind,
        params=dict(m.params),
        state=m.state,
        reason=m.reason,
        tickets=[
            api.Ticket(
                ticket_id=t.id,
                state=_state_value(t.state),
                agent_kind=t.kind,
                depends_on=list(t.depends_on),
                attempt=t.attempt,
                reason=t.reason,
                inputs=dict(t.inputs),
            )
            for t in m.tickets
        ],
        started_us=m.started_us,
        finished_us=m.finished_us,
        files_changed=list(m.files_changed),
        workspace=m.workspace,
        verdict=_VERDICTS.get(m.verdict, pb.CRITIC_VERDICT_UNSPECIFIED),  # type: ignore[arg-type]
        verdict_reason=m.verdict_reason,
    )


def mission_from_pb(m: api.Mission) -> Mission:
    return Mission(
        mission_id=m.mission_id,
        tenant=m.project.tenant,
        project=m.project.project,
        kind=m.kind,
        state=m.state,
        reason=m.reason,
        started_us=m.started_us,
        finished_us=m.finished_us,
        files_changed=tuple(m.files_changed),
        tickets=tuple(
            TicketInfo(
                id=t.ticket_id,
                kind=t.agent_kind,
                state=ticket_state(t.state),
                attempt=t.attempt,
                reason=t.reason,
                depends_on=tuple(t.depends_on),
                inputs=dict(t.inputs),
            )
            for t in m.tickets
        ),
        params=dict(m.params),
        workspace=m.workspace,
        verdict=VERDICT_NAMES.get(m.verdict, "?"),
        verdict_reason=m.verdict_reason,
    )


def story_to_pb(s: MissionStory) -> api.MissionStory:
    return api.MissionStory(
        mission=mission_to_pb(s.mission),
        story=[
            api.StoryLine(
                versionstamp=x.versionstamp,
                time_us=x.time_us,
                agent=x.agent,
                kind=x.kind,
                event_id=x.event_id,
                what=x.what,
                path=x.path,
            )
            for x in s.story
        ],
    )


def story_from_pb(s: api.MissionStory) -> MissionStory:
    lines = tuple(
        StoryLine(x.versionstamp, x.time_us, x.agent, x.kind, x.event_id, x.what, x.path)
        for x in s.story
    )
    return MissionStory(mission_from_pb(s.mission), lines)


def row_to_pb(r: AuditRow) -> api.AuditRow:
    return api.AuditRow(**r.as_dict())  # type: ignore[arg-type]


def row_from_pb(r: api.AuditRow) -> AuditRow:
    return AuditRow(
        versionstamp=r.versionstamp,
        time=r.time,
        time_us=r.time_us,
        event_id=r.event_id,
        kind=r.kind,
        role=r.role,
        agent=r.agent,
        mission=r.mission,
        path=r.path,
        summary=r.summary,
        parent_event_id=r.parent_event_id,
    )


def why_to_pb(w: ChangeWhy) -> api.ChangeWhy:
    out = api.ChangeWhy(
        change=row_to_pb(w.change), request=w.request, verdict_outcome=w.verdict_outcome
    )
    if w.decision is not None:
        out.decision.CopyFrom(row_to_pb(w.decision))
    if w.verdict is not None:
        out.verdict.CopyFrom(row_to_pb(w.verdict))
    return out


def why_from_pb(w: api.ChangeWhy) -> ChangeWhy:
    decision = row_from_pb(w.decision) if w.HasField("decision") else None
    verdict = row_from_pb(w.verdict) if w.HasField("verdict") else None
    return ChangeWhy(row_from_pb(w.change), decision, w.request, verdict, w.verdict_outcome)


_FILTERS = ("agent", "role", "kind", "path", "mission", "since_us", "until_us", "text")


def query_to_pb(
    ref: api.ProjectRef, q: Query, *, limit: int, after: str = ""
) -> api.QueryAuditRequest:
    """A page of ``q``: at most ``limit`` rows after the cursor ``after`` (q.limit is the
    caller's to count across pages)."""
    req = api.QueryAuditRequest(project=ref, limit=limit, after=after)
    for name in _FILTERS:
        value = getattr(q, name)
        if value is not None:
            setattr(req, name, value)
    return req


def query_from_pb(req: api.QueryAuditRequest) -> Query:
    """The filters of a request (no limit: the page's size is the daemon's to bound)."""
    given = {name: getattr(req, name) for name in _FILTERS if req.HasField(name)}
    return Query(**given)


def verify_to_pb(r: VerifyReport) -> api.VerifyProjectResponse:
    return api.VerifyProjectResponse(
        records=r.records,
        expected=r.expected,
        problems=[
            api.VerifyProblem(
                kind=p.kind,
                position=p.position,
                versionstamp=str(p.versionstamp) if p.versionstamp is not None else "",
                detail=p.detail,
            )
            for p in r.problems
        ],
        notes=list(r.notes),
        checked=dict(r.checked),
    )


def verify_from_pb(r: api.VerifyProjectResponse) -> VerifyReport:
    problems = tuple(
        Problem(
            p.kind,
            p.position,
            Versionstamp.parse(p.versionstamp) if p.versionstamp else None,
            p.detail,
        )
        for p in r.problems
    )
    return VerifyReport(r.records, r.expected, problems, tuple(r.notes), dict(r.checked))
