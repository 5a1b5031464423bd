from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoundOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUND_OUTCOME_UNSPECIFIED: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_PASSED: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_NO_EDIT: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_DID_NOT_APPLY: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_SYNTAX_ERROR: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_TESTS_FAILED: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_DUPLICATE: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_MODEL_ERROR: _ClassVar[RoundOutcome]
    ROUND_OUTCOME_TESTS_INCOMPLETE: _ClassVar[RoundOutcome]
ROUND_OUTCOME_UNSPECIFIED: RoundOutcome
ROUND_OUTCOME_PASSED: RoundOutcome
ROUND_OUTCOME_NO_EDIT: RoundOutcome
ROUND_OUTCOME_DID_NOT_APPLY: RoundOutcome
ROUND_OUTCOME_SYNTAX_ERROR: RoundOutcome
ROUND_OUTCOME_TESTS_FAILED: RoundOutcome
ROUND_OUTCOME_DUPLICATE: RoundOutcome
ROUND_OUTCOME_MODEL_ERROR: RoundOutcome
ROUND_OUTCOME_TESTS_INCOMPLETE: RoundOutcome

class ModelUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "estimated", "calls")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    estimated: bool
    calls: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., estimated: _Optional[bool] = ..., calls: _Optional[int] = ...) -> None: ...

class ModelCall(_message.Message):
    __slots__ = ("provider", "model", "request_json", "response_json", "seconds", "usage", "error", "error_kind", "round")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_JSON_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_KIND_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    provider: str
    model: str
    request_json: str
    response_json: str
    seconds: float
    usage: ModelUsage
    error: str
    error_kind: str
    round: int
    def __init__(self, provider: _Optional[str] = ..., model: _Optional[str] = ..., request_json: _Optional[str] = ..., response_json: _Optional[str] = ..., seconds: _Optional[float] = ..., usage: _Optional[_Union[ModelUsage, _Mapping]] = ..., error: _Optional[str] = ..., error_kind: _Optional[str] = ..., round: _Optional[int] = ...) -> None: ...

class RoundFile(_message.Message):
    __slots__ = ("path", "new_sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    NEW_SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    new_sha256: bytes
    def __init__(self, path: _Optional[str] = ..., new_sha256: _Optional[bytes] = ...) -> None: ...

class ModelRound(_message.Message):
    __slots__ = ("round", "outcome", "summary", "feedback", "files", "failing_tests", "tests_event_id", "duplicate_of", "usage", "elapsed_s")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    FAILING_TESTS_FIELD_NUMBER: _ClassVar[int]
    TESTS_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_OF_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    round: int
    outcome: RoundOutcome
    summary: str
    feedback: str
    files: _containers.RepeatedCompositeFieldContainer[RoundFile]
    failing_tests: _containers.RepeatedScalarFieldContainer[str]
    tests_event_id: str
    duplicate_of: int
    usage: ModelUsage
    elapsed_s: float
    def __init__(self, round: _Optional[int] = ..., outcome: _Optional[_Union[RoundOutcome, str]] = ..., summary: _Optional[str] = ..., feedback: _Optional[str] = ..., files: _Optional[_Iterable[_Union[RoundFile, _Mapping]]] = ..., failing_tests: _Optional[_Iterable[str]] = ..., tests_event_id: _Optional[str] = ..., duplicate_of: _Optional[int] = ..., usage: _Optional[_Union[ModelUsage, _Mapping]] = ..., elapsed_s: _Optional[float] = ...) -> None: ...

class LoopChange(_message.Message):
    __slots__ = ("path", "change_event_id", "new_sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CHANGE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    change_event_id: str
    new_sha256: bytes
    def __init__(self, path: _Optional[str] = ..., change_event_id: _Optional[str] = ..., new_sha256: _Optional[bytes] = ...) -> None: ...
