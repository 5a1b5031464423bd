from proto.swarm.v1 import events_pb2 as _events_pb2
from proto.swarm.v1 import memory_pb2 as _memory_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TokenRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOKEN_ROLE_UNSPECIFIED: _ClassVar[TokenRole]
    TOKEN_ROLE_OPS: _ClassVar[TokenRole]
    TOKEN_ROLE_IDE: _ClassVar[TokenRole]
    TOKEN_ROLE_ADMIN: _ClassVar[TokenRole]
TOKEN_ROLE_UNSPECIFIED: TokenRole
TOKEN_ROLE_OPS: TokenRole
TOKEN_ROLE_IDE: TokenRole
TOKEN_ROLE_ADMIN: TokenRole

class ProjectRef(_message.Message):
    __slots__ = ("tenant", "project")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    project: str
    def __init__(self, tenant: _Optional[str] = ..., project: _Optional[str] = ...) -> None: ...

class At(_message.Message):
    __slots__ = ("head", "time_us", "versionstamp")
    HEAD_FIELD_NUMBER: _ClassVar[int]
    TIME_US_FIELD_NUMBER: _ClassVar[int]
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    head: bool
    time_us: int
    versionstamp: str
    def __init__(self, head: _Optional[bool] = ..., time_us: _Optional[int] = ..., versionstamp: _Optional[str] = ...) -> None: ...

class Project(_message.Message):
    __slots__ = ("tenant", "project", "created_us", "head", "events", "workspace")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    CREATED_US_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    project: str
    created_us: int
    head: str
    events: int
    workspace: str
    def __init__(self, tenant: _Optional[str] = ..., project: _Optional[str] = ..., created_us: _Optional[int] = ..., head: _Optional[str] = ..., events: _Optional[int] = ..., workspace: _Optional[str] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects",)
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ...) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ("project", "exist_ok", "workspace")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    EXIST_OK_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    exist_ok: bool
    workspace: str
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., exist_ok: _Optional[bool] = ..., workspace: _Optional[str] = ...) -> None: ...

class EventRecord(_message.Message):
    __slots__ = ("cursor", "event", "chain", "batch")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    event: _events_pb2.SwarmEvent
    chain: bytes
    batch: _containers.RepeatedCompositeFieldContainer[EventRecord]
    def __init__(self, cursor: _Optional[str] = ..., event: _Optional[_Union[_events_pb2.SwarmEvent, _Mapping]] = ..., chain: _Optional[bytes] = ..., batch: _Optional[_Iterable[_Union[EventRecord, _Mapping]]] = ...) -> None: ...

class StreamEventsRequest(_message.Message):
    __slots__ = ("project", "after", "follow", "mission_id", "limit", "batch")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    after: str
    follow: bool
    mission_id: str
    limit: int
    batch: int
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., after: _Optional[str] = ..., follow: _Optional[bool] = ..., mission_id: _Optional[str] = ..., limit: _Optional[int] = ..., batch: _Optional[int] = ...) -> None: ...

class HistoryRequest(_message.Message):
    __slots__ = ("project", "path", "agent", "mission_id", "after", "before", "limit", "reverse")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    REVERSE_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    path: str
    agent: str
    mission_id: str
    after: str
    before: str
    limit: int
    reverse: bool
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., path: _Optional[str] = ..., agent: _Optional[str] = ..., mission_id: _Optional[str] = ..., after: _Optional[str] = ..., before: _Optional[str] = ..., limit: _Optional[int] = ..., reverse: _Optional[bool] = ...) -> None: ...

class HistoryResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[EventRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[EventRecord, _Mapping]]] = ...) -> None: ...

class FileInfo(_message.Message):
    __slots__ = ("path", "sha256", "size", "versionstamp")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    path: str
    sha256: bytes
    size: int
    versionstamp: str
    def __init__(self, path: _Optional[str] = ..., sha256: _Optional[bytes] = ..., size: _Optional[int] = ..., versionstamp: _Optional[str] = ...) -> None: ...

class ListFilesRequest(_message.Message):
    __slots__ = ("project", "at", "prefix")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    at: At
    prefix: str
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., at: _Optional[_Union[At, _Mapping]] = ..., prefix: _Optional[str] = ...) -> None: ...

class ListFilesResponse(_message.Message):
    __slots__ = ("files", "at_versionstamp")
    FILES_FIELD_NUMBER: _ClassVar[int]
    AT_VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[FileInfo]
    at_versionstamp: str
    def __init__(self, files: _Optional[_Iterable[_Union[FileInfo, _Mapping]]] = ..., at_versionstamp: _Optional[str] = ...) -> None: ...

class ReadFileRequest(_message.Message):
    __slots__ = ("project", "path", "at")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    path: str
    at: At
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., path: _Optional[str] = ..., at: _Optional[_Union[At, _Mapping]] = ...) -> None: ...

class ReadFileResponse(_message.Message):
    __slots__ = ("file", "content", "at_versionstamp")
    FILE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    AT_VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    file: FileInfo
    content: bytes
    at_versionstamp: str
    def __init__(self, file: _Optional[_Union[FileInfo, _Mapping]] = ..., content: _Optional[bytes] = ..., at_versionstamp: _Optional[str] = ...) -> None: ...

class ForkRequest(_message.Message):
    __slots__ = ("project", "at", "new_project")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    NEW_PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    at: At
    new_project: str
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., at: _Optional[_Union[At, _Mapping]] = ..., new_project: _Optional[str] = ...) -> None: ...

class ForkResponse(_message.Message):
    __slots__ = ("project", "link", "files", "at_versionstamp")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    AT_VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    project: Project
    link: str
    files: int
    at_versionstamp: str
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ..., link: _Optional[str] = ..., files: _Optional[int] = ..., at_versionstamp: _Optional[str] = ...) -> None: ...

class LockInfo(_message.Message):
    __slots__ = ("path", "holder", "token", "expires_us")
    PATH_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_US_FIELD_NUMBER: _ClassVar[int]
    path: str
    holder: str
    token: bytes
    expires_us: int
    def __init__(self, path: _Optional[str] = ..., holder: _Optional[str] = ..., token: _Optional[bytes] = ..., expires_us: _Optional[int] = ...) -> None: ...

class AcquireLockRequest(_message.Message):
    __slots__ = ("project", "path", "holder", "ttl_s")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    TTL_S_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    path: str
    holder: str
    ttl_s: float
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., path: _Optional[str] = ..., holder: _Optional[str] = ..., ttl_s: _Optional[float] = ...) -> None: ...

class RenewLockRequest(_message.Message):
    __slots__ = ("project", "path", "holder", "token", "ttl_s")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TTL_S_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    path: str
    holder: str
    token: bytes
    ttl_s: float
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., path: _Optional[str] = ..., holder: _Optional[str] = ..., token: _Optional[bytes] = ..., ttl_s: _Optional[float] = ...) -> None: ...

class ReleaseLockRequest(_message.Message):
    __slots__ = ("project", "path", "holder", "token")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    path: str
    holder: str
    token: bytes
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., path: _Optional[str] = ..., holder: _Optional[str] = ..., token: _Optional[bytes] = ...) -> None: ...

class ReleaseLockResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListLocksRequest(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ...) -> None: ...

class ListLocksResponse(_message.Message):
    __slots__ = ("locks",)
    LOCKS_FIELD_NUMBER: _ClassVar[int]
    locks: _containers.RepeatedCompositeFieldContainer[LockInfo]
    def __init__(self, locks: _Optional[_Iterable[_Union[LockInfo, _Mapping]]] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("ticket_id", "state", "agent_kind", "depends_on", "attempt", "reason", "inputs")
    class InputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AGENT_KIND_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    state: _events_pb2.TicketState
    agent_kind: str
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    attempt: int
    reason: str
    inputs: _containers.ScalarMap[str, str]
    def __init__(self, ticket_id: _Optional[str] = ..., state: _Optional[_Union[_events_pb2.TicketState, str]] = ..., agent_kind: _Optional[str] = ..., depends_on: _Optional[_Iterable[str]] = ..., attempt: _Optional[int] = ..., reason: _Optional[str] = ..., inputs: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Mission(_message.Message):
    __slots__ = ("mission_id", "project", "kind", "params", "state", "reason", "tickets", "started_us", "finished_us", "files_changed", "workspace", "verdict", "verdict_reason")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    STARTED_US_FIELD_NUMBER: _ClassVar[int]
    FINISHED_US_FIELD_NUMBER: _ClassVar[int]
    FILES_CHANGED_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_REASON_FIELD_NUMBER: _ClassVar[int]
    mission_id: str
    project: ProjectRef
    kind: str
    params: _containers.ScalarMap[str, str]
    state: str
    reason: str
    tickets: _containers.RepeatedCompositeFieldContainer[Ticket]
    started_us: int
    finished_us: int
    files_changed: _containers.RepeatedScalarFieldContainer[str]
    workspace: str
    verdict: _events_pb2.CriticVerdict
    verdict_reason: str
    def __init__(self, mission_id: _Optional[str] = ..., project: _Optional[_Union[ProjectRef, _Mapping]] = ..., kind: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ..., tickets: _Optional[_Iterable[_Union[Ticket, _Mapping]]] = ..., started_us: _Optional[int] = ..., finished_us: _Optional[int] = ..., files_changed: _Optional[_Iterable[str]] = ..., workspace: _Optional[str] = ..., verdict: _Optional[_Union[_events_pb2.CriticVerdict, str]] = ..., verdict_reason: _Optional[str] = ...) -> None: ...

class SubmitMissionRequest(_message.Message):
    __slots__ = ("project", "kind", "params", "workspace", "mission_id", "coders", "skip_tests", "step_delay_s", "allow_unverified", "test_timeout_s", "policies")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    CODERS_FIELD_NUMBER: _ClassVar[int]
    SKIP_TESTS_FIELD_NUMBER: _ClassVar[int]
    STEP_DELAY_S_FIELD_NUMBER: _ClassVar[int]
    ALLOW_UNVERIFIED_FIELD_NUMBER: _ClassVar[int]
    TEST_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    kind: str
    params: _containers.ScalarMap[str, str]
    workspace: str
    mission_id: str
    coders: int
    skip_tests: bool
    step_delay_s: float
    allow_unverified: bool
    test_timeout_s: float
    policies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., kind: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., workspace: _Optional[str] = ..., mission_id: _Optional[str] = ..., coders: _Optional[int] = ..., skip_tests: _Optional[bool] = ..., step_delay_s: _Optional[float] = ..., allow_unverified: _Optional[bool] = ..., test_timeout_s: _Optional[float] = ..., policies: _Optional[_Iterable[str]] = ...) -> None: ...

class GetMissionRequest(_message.Message):
    __slots__ = ("project", "mission_id")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    mission_id: str
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., mission_id: _Optional[str] = ...) -> None: ...

class ListMissionsRequest(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ...) -> None: ...

class ListMissionsResponse(_message.Message):
    __slots__ = ("missions",)
    MISSIONS_FIELD_NUMBER: _ClassVar[int]
    missions: _containers.RepeatedCompositeFieldContainer[Mission]
    def __init__(self, missions: _Optional[_Iterable[_Union[Mission, _Mapping]]] = ...) -> None: ...

class CancelMissionRequest(_message.Message):
    __slots__ = ("project", "mission_id", "reason")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    mission_id: str
    reason: str
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., mission_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FollowMissionRequest(_message.Message):
    __slots__ = ("project", "mission_id", "after", "batch")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    mission_id: str
    after: str
    batch: int
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., mission_id: _Optional[str] = ..., after: _Optional[str] = ..., batch: _Optional[int] = ...) -> None: ...

class TokenInfo(_message.Message):
    __slots__ = ("token_id", "tenant", "role", "label", "created_us", "revoked_us", "expires_us")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_US_FIELD_NUMBER: _ClassVar[int]
    REVOKED_US_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_US_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    tenant: str
    role: TokenRole
    label: str
    created_us: int
    revoked_us: int
    expires_us: int
    def __init__(self, token_id: _Optional[str] = ..., tenant: _Optional[str] = ..., role: _Optional[_Union[TokenRole, str]] = ..., label: _Optional[str] = ..., created_us: _Optional[int] = ..., revoked_us: _Optional[int] = ..., expires_us: _Optional[int] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("tenant", "role", "label", "expires_us")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_US_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    role: TokenRole
    label: str
    expires_us: int
    def __init__(self, tenant: _Optional[str] = ..., role: _Optional[_Union[TokenRole, str]] = ..., label: _Optional[str] = ..., expires_us: _Optional[int] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("info", "secret")
    INFO_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    info: TokenInfo
    secret: str
    def __init__(self, info: _Optional[_Union[TokenInfo, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("tenant", "token_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    token_id: str
    def __init__(self, tenant: _Optional[str] = ..., token_id: _Optional[str] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenInfo]
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenInfo, _Mapping]]] = ...) -> None: ...

class StoryLine(_message.Message):
    __slots__ = ("versionstamp", "time_us", "agent", "kind", "event_id", "what", "path")
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    TIME_US_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    versionstamp: str
    time_us: int
    agent: str
    kind: str
    event_id: str
    what: str
    path: str
    def __init__(self, versionstamp: _Optional[str] = ..., time_us: _Optional[int] = ..., agent: _Optional[str] = ..., kind: _Optional[str] = ..., event_id: _Optional[str] = ..., what: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class MissionStory(_message.Message):
    __slots__ = ("mission", "story")
    MISSION_FIELD_NUMBER: _ClassVar[int]
    STORY_FIELD_NUMBER: _ClassVar[int]
    mission: Mission
    story: _containers.RepeatedCompositeFieldContainer[StoryLine]
    def __init__(self, mission: _Optional[_Union[Mission, _Mapping]] = ..., story: _Optional[_Iterable[_Union[StoryLine, _Mapping]]] = ...) -> None: ...

class AuditRow(_message.Message):
    __slots__ = ("versionstamp", "time", "time_us", "event_id", "kind", "role", "agent", "mission", "path", "summary", "parent_event_id")
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TIME_US_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    MISSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PARENT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    versionstamp: str
    time: str
    time_us: int
    event_id: str
    kind: str
    role: str
    agent: str
    mission: str
    path: str
    summary: str
    parent_event_id: str
    def __init__(self, versionstamp: _Optional[str] = ..., time: _Optional[str] = ..., time_us: _Optional[int] = ..., event_id: _Optional[str] = ..., kind: _Optional[str] = ..., role: _Optional[str] = ..., agent: _Optional[str] = ..., mission: _Optional[str] = ..., path: _Optional[str] = ..., summary: _Optional[str] = ..., parent_event_id: _Optional[str] = ...) -> None: ...

class QueryAuditRequest(_message.Message):
    __slots__ = ("project", "agent", "role", "kind", "path", "mission", "since_us", "until_us", "text", "limit", "after")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MISSION_FIELD_NUMBER: _ClassVar[int]
    SINCE_US_FIELD_NUMBER: _ClassVar[int]
    UNTIL_US_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    agent: str
    role: str
    kind: str
    path: str
    mission: str
    since_us: int
    until_us: int
    text: str
    limit: int
    after: str
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., agent: _Optional[str] = ..., role: _Optional[str] = ..., kind: _Optional[str] = ..., path: _Optional[str] = ..., mission: _Optional[str] = ..., since_us: _Optional[int] = ..., until_us: _Optional[int] = ..., text: _Optional[str] = ..., limit: _Optional[int] = ..., after: _Optional[str] = ...) -> None: ...

class QueryAuditResponse(_message.Message):
    __slots__ = ("rows", "more")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[AuditRow]
    more: bool
    def __init__(self, rows: _Optional[_Iterable[_Union[AuditRow, _Mapping]]] = ..., more: _Optional[bool] = ...) -> None: ...

class WhoChangedRequest(_message.Message):
    __slots__ = ("project", "path", "since_us", "until_us")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SINCE_US_FIELD_NUMBER: _ClassVar[int]
    UNTIL_US_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    path: str
    since_us: int
    until_us: int
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., path: _Optional[str] = ..., since_us: _Optional[int] = ..., until_us: _Optional[int] = ...) -> None: ...

class ChangeWhy(_message.Message):
    __slots__ = ("change", "decision", "request", "verdict", "verdict_outcome")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    VERDICT_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    change: AuditRow
    decision: AuditRow
    request: str
    verdict: AuditRow
    verdict_outcome: str
    def __init__(self, change: _Optional[_Union[AuditRow, _Mapping]] = ..., decision: _Optional[_Union[AuditRow, _Mapping]] = ..., request: _Optional[str] = ..., verdict: _Optional[_Union[AuditRow, _Mapping]] = ..., verdict_outcome: _Optional[str] = ...) -> None: ...

class WhoChangedResponse(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ChangeWhy]
    def __init__(self, changes: _Optional[_Iterable[_Union[ChangeWhy, _Mapping]]] = ...) -> None: ...

class VerifyProjectRequest(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ...) -> None: ...

class VerifyProblem(_message.Message):
    __slots__ = ("kind", "position", "versionstamp", "detail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    position: int
    versionstamp: str
    detail: str
    def __init__(self, kind: _Optional[str] = ..., position: _Optional[int] = ..., versionstamp: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class VerifyProjectResponse(_message.Message):
    __slots__ = ("records", "expected", "problems", "notes", "checked")
    class CheckedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    records: int
    expected: int
    problems: _containers.RepeatedCompositeFieldContainer[VerifyProblem]
    notes: _containers.RepeatedScalarFieldContainer[str]
    checked: _containers.ScalarMap[str, int]
    def __init__(self, records: _Optional[int] = ..., expected: _Optional[int] = ..., problems: _Optional[_Iterable[_Union[VerifyProblem, _Mapping]]] = ..., notes: _Optional[_Iterable[str]] = ..., checked: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ReadEvidenceRequest(_message.Message):
    __slots__ = ("project", "versionstamp")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    project: ProjectRef
    versionstamp: str
    def __init__(self, project: _Optional[_Union[ProjectRef, _Mapping]] = ..., versionstamp: _Optional[str] = ...) -> None: ...

class ReadEvidenceResponse(_message.Message):
    __slots__ = ("record", "evidence")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    record: EventRecord
    evidence: bytes
    def __init__(self, record: _Optional[_Union[EventRecord, _Mapping]] = ..., evidence: _Optional[bytes] = ...) -> None: ...
