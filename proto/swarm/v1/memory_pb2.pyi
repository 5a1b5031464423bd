from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchMemoryRequest(_message.Message):
    __slots__ = ("tenant", "project", "query", "kind", "limit")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    project: str
    query: str
    kind: str
    limit: int
    def __init__(self, tenant: _Optional[str] = ..., project: _Optional[str] = ..., query: _Optional[str] = ..., kind: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class MemoryHit(_message.Message):
    __slots__ = ("kind", "project", "score", "text", "versionstamp", "path", "symbol", "chunk_kind", "start_line", "end_line", "mission_id", "outcome", "verdict")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CHUNK_KIND_FIELD_NUMBER: _ClassVar[int]
    START_LINE_FIELD_NUMBER: _ClassVar[int]
    END_LINE_FIELD_NUMBER: _ClassVar[int]
    MISSION_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    project: str
    score: float
    text: str
    versionstamp: str
    path: str
    symbol: str
    chunk_kind: str
    start_line: int
    end_line: int
    mission_id: str
    outcome: str
    verdict: str
    def __init__(self, kind: _Optional[str] = ..., project: _Optional[str] = ..., score: _Optional[float] = ..., text: _Optional[str] = ..., versionstamp: _Optional[str] = ..., path: _Optional[str] = ..., symbol: _Optional[str] = ..., chunk_kind: _Optional[str] = ..., start_line: _Optional[int] = ..., end_line: _Optional[int] = ..., mission_id: _Optional[str] = ..., outcome: _Optional[str] = ..., verdict: _Optional[str] = ...) -> None: ...

class SearchMemoryResponse(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[MemoryHit]
    def __init__(self, hits: _Optional[_Iterable[_Union[MemoryHit, _Mapping]]] = ...) -> None: ...
