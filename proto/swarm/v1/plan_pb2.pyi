from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlannedTicket(_message.Message):
    __slots__ = ("id", "goal", "path", "reads", "symbols", "depends_on", "tests")
    ID_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    READS_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    TESTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    goal: str
    path: str
    reads: _containers.RepeatedScalarFieldContainer[str]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    tests: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., goal: _Optional[str] = ..., path: _Optional[str] = ..., reads: _Optional[_Iterable[str]] = ..., symbols: _Optional[_Iterable[str]] = ..., depends_on: _Optional[_Iterable[str]] = ..., tests: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelPlan(_message.Message):
    __slots__ = ("goal", "tickets", "attempts", "model", "summary")
    GOAL_FIELD_NUMBER: _ClassVar[int]
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    goal: str
    tickets: _containers.RepeatedCompositeFieldContainer[PlannedTicket]
    attempts: int
    model: str
    summary: str
    def __init__(self, goal: _Optional[str] = ..., tickets: _Optional[_Iterable[_Union[PlannedTicket, _Mapping]]] = ..., attempts: _Optional[int] = ..., model: _Optional[str] = ..., summary: _Optional[str] = ...) -> None: ...

class PlanRefusal(_message.Message):
    __slots__ = ("attempt", "problems")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    problems: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, attempt: _Optional[int] = ..., problems: _Optional[_Iterable[str]] = ...) -> None: ...
