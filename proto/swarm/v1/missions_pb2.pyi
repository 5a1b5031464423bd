from proto.swarm.v1 import model_pb2 as _model_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MissionOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MISSION_OUTCOME_UNSPECIFIED: _ClassVar[MissionOutcome]
    MISSION_OUTCOME_SUCCEEDED: _ClassVar[MissionOutcome]
    MISSION_OUTCOME_FAILED: _ClassVar[MissionOutcome]
MISSION_OUTCOME_UNSPECIFIED: MissionOutcome
MISSION_OUTCOME_SUCCEEDED: MissionOutcome
MISSION_OUTCOME_FAILED: MissionOutcome

class MissionRecord(_message.Message):
    __slots__ = ("started", "finished", "run")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    started: MissionStarted
    finished: MissionFinished
    run: MissionRun
    def __init__(self, started: _Optional[_Union[MissionStarted, _Mapping]] = ..., finished: _Optional[_Union[MissionFinished, _Mapping]] = ..., run: _Optional[_Union[MissionRun, _Mapping]] = ...) -> None: ...

class MissionStarted(_message.Message):
    __slots__ = ("request", "brain", "brain_settings", "options", "skipped_locked", "workspace")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    BRAIN_FIELD_NUMBER: _ClassVar[int]
    BRAIN_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_LOCKED_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    request: MissionRequest
    brain: str
    brain_settings: BrainSettings
    options: MissionSettings
    skipped_locked: _containers.RepeatedScalarFieldContainer[str]
    workspace: str
    def __init__(self, request: _Optional[_Union[MissionRequest, _Mapping]] = ..., brain: _Optional[str] = ..., brain_settings: _Optional[_Union[BrainSettings, _Mapping]] = ..., options: _Optional[_Union[MissionSettings, _Mapping]] = ..., skipped_locked: _Optional[_Iterable[str]] = ..., workspace: _Optional[str] = ...) -> None: ...

class MissionRequest(_message.Message):
    __slots__ = ("kind", "params")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    params: _containers.ScalarMap[str, str]
    def __init__(self, kind: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class BrainSettings(_message.Message):
    __slots__ = ("base_url", "model", "timeout_s", "max_tokens", "context_tokens", "planner_model", "planner_base_url")
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PLANNER_MODEL_FIELD_NUMBER: _ClassVar[int]
    PLANNER_BASE_URL_FIELD_NUMBER: _ClassVar[int]
    base_url: str
    model: str
    timeout_s: float
    max_tokens: int
    context_tokens: int
    planner_model: str
    planner_base_url: str
    def __init__(self, base_url: _Optional[str] = ..., model: _Optional[str] = ..., timeout_s: _Optional[float] = ..., max_tokens: _Optional[int] = ..., context_tokens: _Optional[int] = ..., planner_model: _Optional[str] = ..., planner_base_url: _Optional[str] = ...) -> None: ...

class MissionSettings(_message.Message):
    __slots__ = ("coders", "run_tests", "ticket_timeout_s", "edit_retries", "critic_rounds", "backoff_s", "lock_ttl_s", "step_delay_s", "test_timeout_s", "policies", "allow_unverified")
    CODERS_FIELD_NUMBER: _ClassVar[int]
    RUN_TESTS_FIELD_NUMBER: _ClassVar[int]
    TICKET_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    EDIT_RETRIES_FIELD_NUMBER: _ClassVar[int]
    CRITIC_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_S_FIELD_NUMBER: _ClassVar[int]
    LOCK_TTL_S_FIELD_NUMBER: _ClassVar[int]
    STEP_DELAY_S_FIELD_NUMBER: _ClassVar[int]
    TEST_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    ALLOW_UNVERIFIED_FIELD_NUMBER: _ClassVar[int]
    coders: int
    run_tests: bool
    ticket_timeout_s: float
    edit_retries: int
    critic_rounds: int
    backoff_s: float
    lock_ttl_s: float
    step_delay_s: float
    test_timeout_s: float
    policies: _containers.RepeatedScalarFieldContainer[str]
    allow_unverified: bool
    def __init__(self, coders: _Optional[int] = ..., run_tests: _Optional[bool] = ..., ticket_timeout_s: _Optional[float] = ..., edit_retries: _Optional[int] = ..., critic_rounds: _Optional[int] = ..., backoff_s: _Optional[float] = ..., lock_ttl_s: _Optional[float] = ..., step_delay_s: _Optional[float] = ..., test_timeout_s: _Optional[float] = ..., policies: _Optional[_Iterable[str]] = ..., allow_unverified: _Optional[bool] = ...) -> None: ...

class MissionFinished(_message.Message):
    __slots__ = ("outcome", "files_changed")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FILES_CHANGED_FIELD_NUMBER: _ClassVar[int]
    outcome: MissionOutcome
    files_changed: int
    def __init__(self, outcome: _Optional[_Union[MissionOutcome, str]] = ..., files_changed: _Optional[int] = ...) -> None: ...

class MissionRun(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: int
    def __init__(self, run: _Optional[int] = ...) -> None: ...

class TicketRecord(_message.Message):
    __slots__ = ("planned", "claim", "scout", "coder", "baseline", "verify")
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    SCOUT_FIELD_NUMBER: _ClassVar[int]
    CODER_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    VERIFY_FIELD_NUMBER: _ClassVar[int]
    planned: TicketSpec
    claim: TicketClaim
    scout: ScoutResult
    coder: CoderResult
    baseline: BaselineResult
    verify: VerifyResult
    def __init__(self, planned: _Optional[_Union[TicketSpec, _Mapping]] = ..., claim: _Optional[_Union[TicketClaim, _Mapping]] = ..., scout: _Optional[_Union[ScoutResult, _Mapping]] = ..., coder: _Optional[_Union[CoderResult, _Mapping]] = ..., baseline: _Optional[_Union[BaselineResult, _Mapping]] = ..., verify: _Optional[_Union[VerifyResult, _Mapping]] = ...) -> None: ...

class TicketSpec(_message.Message):
    __slots__ = ("inputs", "retries", "backoff_s", "timeout_s")
    class InputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_S_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.ScalarMap[str, str]
    retries: int
    backoff_s: float
    timeout_s: float
    def __init__(self, inputs: _Optional[_Mapping[str, str]] = ..., retries: _Optional[int] = ..., backoff_s: _Optional[float] = ..., timeout_s: _Optional[float] = ...) -> None: ...

class TicketClaim(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: int
    def __init__(self, run: _Optional[int] = ...) -> None: ...

class ScoutResult(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: int
    def __init__(self, files: _Optional[int] = ...) -> None: ...

class CoderResult(_message.Message):
    __slots__ = ("path", "changed", "change_event_id", "new_sha256", "attempt", "rationale", "changes", "usage", "rounds")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    CHANGE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_SHA256_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    path: str
    changed: bool
    change_event_id: str
    new_sha256: bytes
    attempt: int
    rationale: str
    changes: _containers.RepeatedCompositeFieldContainer[_model_pb2.LoopChange]
    usage: _model_pb2.ModelUsage
    rounds: int
    def __init__(self, path: _Optional[str] = ..., changed: _Optional[bool] = ..., change_event_id: _Optional[str] = ..., new_sha256: _Optional[bytes] = ..., attempt: _Optional[int] = ..., rationale: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[_model_pb2.LoopChange, _Mapping]]] = ..., usage: _Optional[_Union[_model_pb2.ModelUsage, _Mapping]] = ..., rounds: _Optional[int] = ...) -> None: ...

class BaselineResult(_message.Message):
    __slots__ = ("skipped", "counts", "complete", "wall_s", "judgeable")
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    WALL_S_FIELD_NUMBER: _ClassVar[int]
    JUDGEABLE_FIELD_NUMBER: _ClassVar[int]
    skipped: bool
    counts: TestCounts
    complete: bool
    wall_s: float
    judgeable: bool
    def __init__(self, skipped: _Optional[bool] = ..., counts: _Optional[_Union[TestCounts, _Mapping]] = ..., complete: _Optional[bool] = ..., wall_s: _Optional[float] = ..., judgeable: _Optional[bool] = ...) -> None: ...

class VerifyResult(_message.Message):
    __slots__ = ("files", "tests_skipped", "tests")
    FILES_FIELD_NUMBER: _ClassVar[int]
    TESTS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    TESTS_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedScalarFieldContainer[str]
    tests_skipped: bool
    tests: TestSummary
    def __init__(self, files: _Optional[_Iterable[str]] = ..., tests_skipped: _Optional[bool] = ..., tests: _Optional[_Union[TestSummary, _Mapping]] = ...) -> None: ...

class TestSummary(_message.Message):
    __slots__ = ("stages", "counts", "could_not_run_names", "pre_existing_failure_names", "budget_s", "test_code", "unverified")
    STAGES_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    COULD_NOT_RUN_NAMES_FIELD_NUMBER: _ClassVar[int]
    PRE_EXISTING_FAILURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    BUDGET_S_FIELD_NUMBER: _ClassVar[int]
    TEST_CODE_FIELD_NUMBER: _ClassVar[int]
    UNVERIFIED_FIELD_NUMBER: _ClassVar[int]
    stages: _containers.RepeatedScalarFieldContainer[str]
    counts: TestCounts
    could_not_run_names: _containers.RepeatedScalarFieldContainer[str]
    pre_existing_failure_names: _containers.RepeatedScalarFieldContainer[str]
    budget_s: float
    test_code: TestCodeSummary
    unverified: str
    def __init__(self, stages: _Optional[_Iterable[str]] = ..., counts: _Optional[_Union[TestCounts, _Mapping]] = ..., could_not_run_names: _Optional[_Iterable[str]] = ..., pre_existing_failure_names: _Optional[_Iterable[str]] = ..., budget_s: _Optional[float] = ..., test_code: _Optional[_Union[TestCodeSummary, _Mapping]] = ..., unverified: _Optional[str] = ...) -> None: ...

class TestCodeSummary(_message.Message):
    __slots__ = ("rule", "files", "original_failing")
    RULE_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_FAILING_FIELD_NUMBER: _ClassVar[int]
    rule: str
    files: _containers.RepeatedScalarFieldContainer[str]
    original_failing: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rule: _Optional[str] = ..., files: _Optional[_Iterable[str]] = ..., original_failing: _Optional[_Iterable[str]] = ...) -> None: ...

class TestCounts(_message.Message):
    __slots__ = ("passed", "failed", "errors", "skipped", "could_not_run")
    PASSED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    COULD_NOT_RUN_FIELD_NUMBER: _ClassVar[int]
    passed: int
    failed: int
    errors: int
    skipped: int
    could_not_run: int
    def __init__(self, passed: _Optional[int] = ..., failed: _Optional[int] = ..., errors: _Optional[int] = ..., skipped: _Optional[int] = ..., could_not_run: _Optional[int] = ...) -> None: ...

class TestRun(_message.Message):
    __slots__ = ("complete", "status", "detail", "problem", "runner", "wall_s", "budget_s", "tree", "items", "counts")
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    WALL_S_FIELD_NUMBER: _ClassVar[int]
    BUDGET_S_FIELD_NUMBER: _ClassVar[int]
    TREE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    complete: bool
    status: str
    detail: str
    problem: str
    runner: str
    wall_s: float
    budget_s: float
    tree: str
    items: _containers.RepeatedCompositeFieldContainer[TestItem]
    counts: TestCounts
    def __init__(self, complete: _Optional[bool] = ..., status: _Optional[str] = ..., detail: _Optional[str] = ..., problem: _Optional[str] = ..., runner: _Optional[str] = ..., wall_s: _Optional[float] = ..., budget_s: _Optional[float] = ..., tree: _Optional[str] = ..., items: _Optional[_Iterable[_Union[TestItem, _Mapping]]] = ..., counts: _Optional[_Union[TestCounts, _Mapping]] = ...) -> None: ...

class TestItem(_message.Message):
    __slots__ = ("name", "outcome", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    outcome: str
    message: str
    def __init__(self, name: _Optional[str] = ..., outcome: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ScoutTargets(_message.Message):
    __slots__ = ("paths",)
    PATHS_FIELD_NUMBER: _ClassVar[int]
    paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, paths: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelExchange(_message.Message):
    __slots__ = ("request_json", "response_json")
    REQUEST_JSON_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    request_json: str
    response_json: str
    def __init__(self, request_json: _Optional[str] = ..., response_json: _Optional[str] = ...) -> None: ...
