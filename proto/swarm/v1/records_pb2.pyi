from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SyncConflictState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_CONFLICT_STATE_UNSPECIFIED: _ClassVar[SyncConflictState]
    SYNC_CONFLICT_STATE_OPEN: _ClassVar[SyncConflictState]
    SYNC_CONFLICT_STATE_RESOLVED: _ClassVar[SyncConflictState]

class SyncConflictKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_CONFLICT_KIND_UNSPECIFIED: _ClassVar[SyncConflictKind]
    SYNC_CONFLICT_KIND_FILE: _ClassVar[SyncConflictKind]
    SYNC_CONFLICT_KIND_EVENT_ID: _ClassVar[SyncConflictKind]
    SYNC_CONFLICT_KIND_REFUSED: _ClassVar[SyncConflictKind]

class StoredTokenRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORED_TOKEN_ROLE_UNSPECIFIED: _ClassVar[StoredTokenRole]
    STORED_TOKEN_ROLE_SYNC: _ClassVar[StoredTokenRole]
    STORED_TOKEN_ROLE_OPS: _ClassVar[StoredTokenRole]
    STORED_TOKEN_ROLE_IDE: _ClassVar[StoredTokenRole]
    STORED_TOKEN_ROLE_ADMIN: _ClassVar[StoredTokenRole]

class OmitReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OMIT_REASON_UNSPECIFIED: _ClassVar[OmitReason]
    OMIT_REASON_FOLDER: _ClassVar[OmitReason]
    OMIT_REASON_FILE: _ClassVar[OmitReason]
    OMIT_REASON_SYMLINK: _ClassVar[OmitReason]
    OMIT_REASON_SPECIAL: _ClassVar[OmitReason]
SYNC_CONFLICT_STATE_UNSPECIFIED: SyncConflictState
SYNC_CONFLICT_STATE_OPEN: SyncConflictState
SYNC_CONFLICT_STATE_RESOLVED: SyncConflictState
SYNC_CONFLICT_KIND_UNSPECIFIED: SyncConflictKind
SYNC_CONFLICT_KIND_FILE: SyncConflictKind
SYNC_CONFLICT_KIND_EVENT_ID: SyncConflictKind
SYNC_CONFLICT_KIND_REFUSED: SyncConflictKind
STORED_TOKEN_ROLE_UNSPECIFIED: StoredTokenRole
STORED_TOKEN_ROLE_SYNC: StoredTokenRole
STORED_TOKEN_ROLE_OPS: StoredTokenRole
STORED_TOKEN_ROLE_IDE: StoredTokenRole
STORED_TOKEN_ROLE_ADMIN: StoredTokenRole
OMIT_REASON_UNSPECIFIED: OmitReason
OMIT_REASON_FOLDER: OmitReason
OMIT_REASON_FILE: OmitReason
OMIT_REASON_SYMLINK: OmitReason
OMIT_REASON_SPECIAL: OmitReason

class SyncConflict(_message.Message):
    __slots__ = ("state", "kind", "hub", "edge_event_id", "edge_versionstamp", "edge_previous_sha256", "edge_new_sha256", "edge_event_blob", "hub_sha256", "hub_versionstamp", "edge_event_sha256", "hub_event_sha256", "reason", "resolves", "resolved_by")
    STATE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    HUB_FIELD_NUMBER: _ClassVar[int]
    EDGE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    EDGE_PREVIOUS_SHA256_FIELD_NUMBER: _ClassVar[int]
    EDGE_NEW_SHA256_FIELD_NUMBER: _ClassVar[int]
    EDGE_EVENT_BLOB_FIELD_NUMBER: _ClassVar[int]
    HUB_SHA256_FIELD_NUMBER: _ClassVar[int]
    HUB_VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    EDGE_EVENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    HUB_EVENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESOLVES_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    state: SyncConflictState
    kind: SyncConflictKind
    hub: str
    edge_event_id: str
    edge_versionstamp: bytes
    edge_previous_sha256: bytes
    edge_new_sha256: bytes
    edge_event_blob: bytes
    hub_sha256: bytes
    hub_versionstamp: bytes
    edge_event_sha256: bytes
    hub_event_sha256: bytes
    reason: str
    resolves: str
    resolved_by: str
    def __init__(self, state: _Optional[_Union[SyncConflictState, str]] = ..., kind: _Optional[_Union[SyncConflictKind, str]] = ..., hub: _Optional[str] = ..., edge_event_id: _Optional[str] = ..., edge_versionstamp: _Optional[bytes] = ..., edge_previous_sha256: _Optional[bytes] = ..., edge_new_sha256: _Optional[bytes] = ..., edge_event_blob: _Optional[bytes] = ..., hub_sha256: _Optional[bytes] = ..., hub_versionstamp: _Optional[bytes] = ..., edge_event_sha256: _Optional[bytes] = ..., hub_event_sha256: _Optional[bytes] = ..., reason: _Optional[str] = ..., resolves: _Optional[str] = ..., resolved_by: _Optional[str] = ...) -> None: ...

class SyncCursor(_message.Message):
    __slots__ = ("hub", "versionstamp", "handled", "updated_us")
    HUB_FIELD_NUMBER: _ClassVar[int]
    VERSIONSTAMP_FIELD_NUMBER: _ClassVar[int]
    HANDLED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_US_FIELD_NUMBER: _ClassVar[int]
    hub: str
    versionstamp: bytes
    handled: int
    updated_us: int
    def __init__(self, hub: _Optional[str] = ..., versionstamp: _Optional[bytes] = ..., handled: _Optional[int] = ..., updated_us: _Optional[int] = ...) -> None: ...

class TokenRecord(_message.Message):
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
    role: StoredTokenRole
    label: str
    created_us: int
    revoked_us: int
    expires_us: int
    def __init__(self, token_id: _Optional[str] = ..., tenant: _Optional[str] = ..., role: _Optional[_Union[StoredTokenRole, str]] = ..., label: _Optional[str] = ..., created_us: _Optional[int] = ..., revoked_us: _Optional[int] = ..., expires_us: _Optional[int] = ...) -> None: ...

class ImportOmissions(_message.Message):
    __slots__ = ("paths", "more")
    PATHS_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    paths: _containers.RepeatedCompositeFieldContainer[OmittedPath]
    more: int
    def __init__(self, paths: _Optional[_Iterable[_Union[OmittedPath, _Mapping]]] = ..., more: _Optional[int] = ...) -> None: ...

class OmittedPath(_message.Message):
    __slots__ = ("path", "reason")
    PATH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    path: str
    reason: OmitReason
    def __init__(self, path: _Optional[str] = ..., reason: _Optional[_Union[OmitReason, str]] = ...) -> None: ...
