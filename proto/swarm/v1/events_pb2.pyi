from proto.swarm.v1 import records_pb2 as _records_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_ROLE_UNSPECIFIED: _ClassVar[AgentRole]
    AGENT_ROLE_SCOUT: _ClassVar[AgentRole]
    AGENT_ROLE_CODER: _ClassVar[AgentRole]
    AGENT_ROLE_CRITIC: _ClassVar[AgentRole]
    AGENT_ROLE_ORCHESTRATOR: _ClassVar[AgentRole]
    AGENT_ROLE_HUMAN: _ClassVar[AgentRole]
    AGENT_ROLE_SYSTEM: _ClassVar[AgentRole]

class TestCodeRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEST_CODE_RULE_UNSPECIFIED: _ClassVar[TestCodeRule]
    TEST_CODE_RULE_UNCHANGED: _ClassVar[TestCodeRule]
    TEST_CODE_RULE_RENAME_ONLY: _ClassVar[TestCodeRule]
    TEST_CODE_RULE_ORIGINAL_TESTS: _ClassVar[TestCodeRule]

class CriticVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CRITIC_VERDICT_UNSPECIFIED: _ClassVar[CriticVerdict]
    CRITIC_VERDICT_ACCEPTED: _ClassVar[CriticVerdict]
    CRITIC_VERDICT_REJECTED: _ClassVar[CriticVerdict]
    CRITIC_VERDICT_COULD_NOT_JUDGE: _ClassVar[CriticVerdict]
    CRITIC_VERDICT_UNVERIFIED: _ClassVar[CriticVerdict]
    CRITIC_VERDICT_NOT_TESTED: _ClassVar[CriticVerdict]

class ChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_KIND_UNSPECIFIED: _ClassVar[ChangeKind]
    CHANGE_KIND_CREATE: _ClassVar[ChangeKind]
    CHANGE_KIND_MODIFY: _ClassVar[ChangeKind]
    CHANGE_KIND_DELETE: _ClassVar[ChangeKind]

class TicketState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TICKET_STATE_UNSPECIFIED: _ClassVar[TicketState]
    TICKET_STATE_PLANNED: _ClassVar[TicketState]
    TICKET_STATE_READY: _ClassVar[TicketState]
    TICKET_STATE_CLAIMED: _ClassVar[TicketState]
    TICKET_STATE_DONE: _ClassVar[TicketState]
    TICKET_STATE_FAILED: _ClassVar[TicketState]
    TICKET_STATE_RETRY: _ClassVar[TicketState]
    TICKET_STATE_CANCELLED: _ClassVar[TicketState]

class SignalKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNAL_KIND_UNSPECIFIED: _ClassVar[SignalKind]
    SIGNAL_KIND_PROJECT_CREATED: _ClassVar[SignalKind]
    SIGNAL_KIND_LOCK_ACQUIRED: _ClassVar[SignalKind]
    SIGNAL_KIND_LOCK_RELEASED: _ClassVar[SignalKind]
    SIGNAL_KIND_LOCK_EXPIRED: _ClassVar[SignalKind]
    SIGNAL_KIND_AGENT_STARTED: _ClassVar[SignalKind]
    SIGNAL_KIND_AGENT_STOPPED: _ClassVar[SignalKind]
    SIGNAL_KIND_HEALTH: _ClassVar[SignalKind]
    SIGNAL_KIND_MISSION_STARTED: _ClassVar[SignalKind]
    SIGNAL_KIND_MISSION_FINISHED: _ClassVar[SignalKind]
    SIGNAL_KIND_FORKED: _ClassVar[SignalKind]
    SIGNAL_KIND_CONFLICT: _ClassVar[SignalKind]
AGENT_ROLE_UNSPECIFIED: AgentRole
AGENT_ROLE_SCOUT: AgentRole
AGENT_ROLE_CODER: AgentRole
AGENT_ROLE_CRITIC: AgentRole
AGENT_ROLE_ORCHESTRATOR: AgentRole
AGENT_ROLE_HUMAN: AgentRole
AGENT_ROLE_SYSTEM: AgentRole
TEST_CODE_RULE_UNSPECIFIED: TestCodeRule
TEST_CODE_RULE_UNCHANGED: TestCodeRule
TEST_CODE_RULE_RENAME_ONLY: TestCodeRule
TEST_CODE_RULE_ORIGINAL_TESTS: TestCodeRule
CRITIC_VERDICT_UNSPECIFIED: CriticVerdict
CRITIC_VERDICT_ACCEPTED: CriticVerdict
CRITIC_VERDICT_REJECTED: CriticVerdict
CRITIC_VERDICT_COULD_NOT_JUDGE: CriticVerdict
CRITIC_VERDICT_UNVERIFIED: CriticVerdict
CRITIC_VERDICT_NOT_TESTED: CriticVerdict
CHANGE_KIND_UNSPECIFIED: ChangeKind
CHANGE_KIND_CREATE: ChangeKind
CHANGE_KIND_MODIFY: ChangeKind
CHANGE_KIND_DELETE: ChangeKind
TICKET_STATE_UNSPECIFIED: TicketState
TICKET_STATE_PLANNED: TicketState
TICKET_STATE_READY: TicketState
TICKET_STATE_CLAIMED: TicketState
TICKET_STATE_DONE: TicketState
TICKET_STATE_FAILED: TicketState
TICKET_STATE_RETRY: TicketState
TICKET_STATE_CANCELLED: TicketState
SIGNAL_KIND_UNSPECIFIED: SignalKind
SIGNAL_KIND_PROJECT_CREATED: SignalKind
SIGNAL_KIND_LOCK_ACQUIRED: SignalKind
SIGNAL_KIND_LOCK_RELEASED: SignalKind
SIGNAL_KIND_LOCK_EXPIRED: SignalKind
SIGNAL_KIND_AGENT_STARTED: SignalKind
SIGNAL_KIND_AGENT_STOPPED: SignalKind
SIGNAL_KIND_HEALTH: SignalKind
SIGNAL_KIND_MISSION_STARTED: SignalKind
SIGNAL_KIND_MISSION_FINISHED: SignalKind
SIGNAL_KIND_FORKED: SignalKind
SIGNAL_KIND_CONFLICT: SignalKind

class SwarmEvent(_message.Message):
    __slots__ = ("event_id", "tenant", "project", "mission_id", "trace_id", "span_id", "agent_role", "agent_id", "time_us", "parent_event_id", "decision", "state_change", "ticket", "signal")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ROLE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_US_FIELD_NUMBER: _ClassVar[int]
    PARENT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    TICKET_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    tenant: str
    project: str
    mission_id: str
    trace_id: str
    span_id: str
    agent_role: AgentRole
    agent_id: str
    time_us: int
    parent_event_id: str
    decision: Decision
    state_change: StateChange
    ticket: TicketUpdate
    signal: Signal
    def __init__(self, event_id: _Optional[str] = ..., tenant: _Optional[str] = ..., project: _Optional[str] = ..., mission_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., agent_role: _Optional[_Union[AgentRole, str]] = ..., agent_id: _Optional[str] = ..., time_us: _Optional[int] = ..., parent_event_id: _Optional[str] = ..., decision: _Optional[_Union[Decision, _Mapping]] = ..., state_change: _Optional[_Union[StateChange, _Mapping]] = ..., ticket: _Optional[_Union[TicketUpdate, _Mapping]] = ..., signal: _Optional[_Union[Signal, _Mapping]] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("kind", "input", "rationale", "rejected", "confidence", "memory_refs", "outcome", "attributes", "detail", "verdict", "test_code", "omitted")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_REFS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    TEST_CODE_FIELD_NUMBER: _ClassVar[int]
    OMITTED_FIELD_NUMBER: _ClassVar[int]
    kind: str
    input: str
    rationale: str
    rejected: _containers.RepeatedCompositeFieldContainer[Alternative]
    confidence: float
    memory_refs: _containers.RepeatedScalarFieldContainer[str]
    outcome: str
    attributes: _containers.ScalarMap[str, str]
    detail: BlobRef
    verdict: CriticVerdict
    test_code: TestCodeCheck
    omitted: _records_pb2.ImportOmissions
    def __init__(self, kind: _Optional[str] = ..., input: _Optional[str] = ..., rationale: _Optional[str] = ..., rejected: _Optional[_Iterable[_Union[Alternative, _Mapping]]] = ..., confidence: _Optional[float] = ..., memory_refs: _Optional[_Iterable[str]] = ..., outcome: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., detail: _Optional[_Union[BlobRef, _Mapping]] = ..., verdict: _Optional[_Union[CriticVerdict, str]] = ..., test_code: _Optional[_Union[TestCodeCheck, _Mapping]] = ..., omitted: _Optional[_Union[_records_pb2.ImportOmissions, _Mapping]] = ...) -> None: ...

class TestCodeCheck(_message.Message):
    __slots__ = ("files", "rule", "judge_run", "original_failing")
    FILES_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    JUDGE_RUN_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_FAILING_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[TestCodeFile]
    rule: TestCodeRule
    judge_run: str
    original_failing: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, files: _Optional[_Iterable[_Union[TestCodeFile, _Mapping]]] = ..., rule: _Optional[_Union[TestCodeRule, str]] = ..., judge_run: _Optional[str] = ..., original_failing: _Optional[_Iterable[str]] = ...) -> None: ...

class TestCodeFile(_message.Message):
    __slots__ = ("path", "reason")
    PATH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    path: str
    reason: str
    def __init__(self, path: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Alternative(_message.Message):
    __slots__ = ("description", "reason_rejected")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REASON_REJECTED_FIELD_NUMBER: _ClassVar[int]
    description: str
    reason_rejected: str
    def __init__(self, description: _Optional[str] = ..., reason_rejected: _Optional[str] = ...) -> None: ...

class StateChange(_message.Message):
    __slots__ = ("path", "previous_sha256", "new_sha256", "unified_diff", "content", "fencing_token", "reversible", "reverts_event_id", "kind", "new_size", "executable")
    PATH_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SHA256_FIELD_NUMBER: _ClassVar[int]
    NEW_SHA256_FIELD_NUMBER: _ClassVar[int]
    UNIFIED_DIFF_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FENCING_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REVERSIBLE_FIELD_NUMBER: _ClassVar[int]
    REVERTS_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NEW_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
    path: str
    previous_sha256: bytes
    new_sha256: bytes
    unified_diff: str
    content: BlobRef
    fencing_token: bytes
    reversible: bool
    reverts_event_id: str
    kind: ChangeKind
    new_size: int
    executable: bool
    def __init__(self, path: _Optional[str] = ..., previous_sha256: _Optional[bytes] = ..., new_sha256: _Optional[bytes] = ..., unified_diff: _Optional[str] = ..., content: _Optional[_Union[BlobRef, _Mapping]] = ..., fencing_token: _Optional[bytes] = ..., reversible: _Optional[bool] = ..., reverts_event_id: _Optional[str] = ..., kind: _Optional[_Union[ChangeKind, str]] = ..., new_size: _Optional[int] = ..., executable: _Optional[bool] = ...) -> None: ...

class BlobRef(_message.Message):
    __slots__ = ("sha256", "size")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    sha256: bytes
    size: int
    def __init__(self, sha256: _Optional[bytes] = ..., size: _Optional[int] = ...) -> None: ...

class TicketUpdate(_message.Message):
    __slots__ = ("ticket_id", "state", "agent_kind", "depends_on", "attempt", "reason", "payload_json")
    TICKET_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    AGENT_KIND_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    ticket_id: str
    state: TicketState
    agent_kind: str
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    attempt: int
    reason: str
    payload_json: str
    def __init__(self, ticket_id: _Optional[str] = ..., state: _Optional[_Union[TicketState, str]] = ..., agent_kind: _Optional[str] = ..., depends_on: _Optional[_Iterable[str]] = ..., attempt: _Optional[int] = ..., reason: _Optional[str] = ..., payload_json: _Optional[str] = ...) -> None: ...

class Signal(_message.Message):
    __slots__ = ("kind", "subject", "detail", "attributes", "conflict")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_FIELD_NUMBER: _ClassVar[int]
    kind: SignalKind
    subject: str
    detail: str
    attributes: _containers.ScalarMap[str, str]
    conflict: _records_pb2.SyncConflict
    def __init__(self, kind: _Optional[_Union[SignalKind, str]] = ..., subject: _Optional[str] = ..., detail: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., conflict: _Optional[_Union[_records_pb2.SyncConflict, _Mapping]] = ...) -> None: ...
