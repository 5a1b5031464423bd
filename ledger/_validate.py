"""Checks on what callers hand the ledger: ids, paths, and events another ledger sent."""

from __future__ import annotations

import re
from collections.abc import Callable

from ledger._errors import InvalidEvent, InvalidId, InvalidPath
from proto.swarm.v1 import events_pb2

# Tenants and projects become directory names and key elements: keep them plain.
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62})")
# Agents include people ("human:alice") and numbered workers ("coder-2").
_AGENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
# Event ids are client-chosen (UUIDs in practice) and are the idempotency key.
EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
PATH_LIMIT = 1024


def _check(kind: str, pattern: re.Pattern[str], value: object, rule: str) -> str:
    if not isinstance(value, str):
        raise InvalidId(kind, value, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidId(kind, value, "must not be empty")
    if pattern.fullmatch(value) is None:
        raise InvalidId(kind, value, rule)
    return value


def tenant_id(value: object) -> str:
    return _check(
        "tenant", _NAME, value, "use 1-63 of a-z 0-9 _ -, starting with a letter or digit"
    )


def project_id(value: object) -> str:
    return _check(
        "project", _NAME, value, "use 1-63 of a-z 0-9 _ -, starting with a letter or digit"
    )


def agent_id(value: object) -> str:
    return _check("agent", _AGENT, value, "use 1-128 of A-Z a-z 0-9 _ . : @ -")


def event_id(value: object) -> str:
    return _check("event", EVENT_ID, value, "use 1-128 of A-Z a-z 0-9 _ . : -")


def file_path(value: object) -> str:
    """A relative POSIX path inside a project, normalised as given (no `.` tricks)."""
    if not isinstance(value, str):
        raise InvalidPath(value, f"must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidPath(value, "must not be empty")
    if "\x00" in value:
        raise InvalidPath(value, "contains a NUL byte")
    if value.startswith("/") or re.match(r"[A-Za-z]:[\\/]", value):
        raise InvalidPath(value, "must be relative to the project, not absolute")
    if "\\" in value:
        raise InvalidPath(value, "use '/' as the separator")
    if len(value.encode("utf-8", "surrogatepass")) > PATH_LIMIT:
        raise InvalidPath(value, f"longer than {PATH_LIMIT} bytes")
    for part in value.split("/"):
        if part == "..":
            raise InvalidPath(value, "'..' would leave the project")
        if part in ("", "."):
            raise InvalidPath(value, "empty or '.' component")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPath(value, "is not valid UTF-8") from None
    return value


# Folders of version-control and tool metadata: no replicated event may name a path in
# one (a hook or `.git/config` written from an event would run on the next `git status`).
# Names are case-folded: case-insensitive file systems treat `.GIT` as `.git`.
METADATA_DIRS = frozenset(
    {".git", ".swarm", ".hg", ".svn", ".bzr", "_darcs", "cvs", ".jj", ".pijul", ".fslckout"}
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Signals whose subject is a file path (the lock history of a file).
_PATH_SIGNALS = frozenset(
    {
        events_pb2.SIGNAL_KIND_LOCK_ACQUIRED,
        events_pb2.SIGNAL_KIND_LOCK_RELEASED,
        events_pb2.SIGNAL_KIND_LOCK_EXPIRED,
    }
)


def workspace_path(value: object) -> str:
    """``file_path``, and also no control characters and no metadata folder anywhere.

    Metadata names are compared case-folded and without trailing dots and
    spaces, which case-insensitive and Windows file systems ignore.
    """
    path = file_path(value)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise InvalidPath(path, "contains a control character")
    for part in path.split("/"):
        if part.rstrip(". ").casefold() in METADATA_DIRS:
            raise InvalidPath(path, f"names the metadata folder {part!r}")
    return path


def sha256_hex(kind: str, value: object) -> str:
    """A content hash as text: 64 lowercase hex digits."""
    if not isinstance(value, str) or _HEX64.fullmatch(value) is None:
        raise InvalidId(kind, value, "must be a sha256: 64 lowercase hex digits")
    return value


def replicated_event(tenant: str, project: str, event: events_pb2.SwarmEvent) -> None:
    """Check an event another ledger sent (sync) before anything of it is stored.

    Everything ``Ledger.append`` checks that needs no store, and more: paths
    are ``workspace_path``s, hashes and blob references have their sizes,
    signal attributes have plain keys. Raises ``InvalidEvent`` naming the rule.
    """
    eid = event.event_id
    try:
        _replicated(tenant, project, event)
    except (InvalidId, InvalidPath) as exc:
        raise InvalidEvent(eid, str(exc)) from None


def _replicated(tenant: str, project: str, event: events_pb2.SwarmEvent) -> None:
    eid = event_id(event.event_id)
    if event.tenant and event.tenant != tenant:
        raise InvalidEvent(eid, f"belongs to tenant {event.tenant!r}, not {tenant!r}")
    if event.project and event.project != project:
        raise InvalidEvent(eid, f"belongs to project {event.project!r}, not {project!r}")
    if event.agent_id:
        agent_id(event.agent_id)
    # Missions index the log and the rest name spans and causes: plain ids, bounded.
    for name in ("mission_id", "parent_event_id", "trace_id", "span_id"):
        value = getattr(event, name)
        if value and EVENT_ID.fullmatch(value) is None:
            raise InvalidEvent(eid, f"{name} {value[:80]!r}: use 1-128 of A-Z a-z 0-9 _ . : -")
    if event.time_us < 0:
        raise InvalidEvent(eid, f"time_us {event.time_us} is negative")
    kind = event.WhichOneof("payload")
    if kind is None:
        raise InvalidEvent(eid, "has no payload (decision, state_change, ticket or signal)")
    if kind == "state_change":
        _replicated_change(eid, event.state_change)
    elif kind == "decision":
        if len(event.decision.detail.sha256) not in (0, 32):
            raise InvalidEvent(eid, "decision detail blob reference must be 32 bytes or empty")
    elif kind == "signal":
        sig = event.signal
        if sig.kind in _PATH_SIGNALS:
            workspace_path(sig.subject)
        for key in sig.attributes:
            if _ATTRIBUTE_KEY.fullmatch(key) is None:
                raise InvalidEvent(
                    eid, f"signal attribute {key[:80]!r}: use 1-64 of A-Z a-z 0-9 _ . -"
                )


def state_change(
    eid: str, change: events_pb2.StateChange, path_rule: Callable[[object], str] = file_path
) -> str:
    """What every StateChange must be (``Ledger.append`` checks it too); returns its path.

    ``path_rule`` checks the path: ``file_path`` for appends, ``workspace_path``
    for replicated events.
    """
    path = path_rule(change.path)
    for name in ("previous_sha256", "new_sha256"):
        if len(getattr(change, name)) not in (0, 32):
            raise InvalidEvent(eid, f"{name} must be 32 bytes or empty")
    if not change.previous_sha256 and not change.new_sha256:
        raise InvalidEvent(eid, "a StateChange must create, modify or delete a file")
    if len(change.fencing_token) not in (0, 10):
        raise InvalidEvent(eid, "fencing_token must be a 10-byte versionstamp or empty")
    if change.HasField("content") and change.content.sha256 != change.new_sha256:
        raise InvalidEvent(eid, "content blob does not match new_sha256")
    return path


def _replicated_change(eid: str, change: events_pb2.StateChange) -> None:
    state_change(eid, change, workspace_path)
    if change.HasField("content") and change.content.size != change.new_size:
        raise InvalidEvent(eid, "content blob size does not match new_size")
    if not change.new_sha256 and change.new_size:
        raise InvalidEvent(eid, "a deletion has no new_size")


NAME_MAX = 255  # bytes of one folder name (Linux and macOS)
ROOT_MAX = 4096  # bytes of an absolute root path (PATH_MAX)


def workspace(root: object, name: object) -> tuple[str, str]:
    """A workspace folder: an absolute ``root`` and one plain folder ``name`` in it."""
    if not isinstance(root, str) or not root.startswith("/") or "\x00" in root:
        raise InvalidPath(root, "a workspaces root must be an absolute path with no NUL")
    if len(root.encode("utf-8", "surrogatepass")) > ROOT_MAX:
        raise InvalidPath(root[:80], f"a workspaces root must be at most {ROOT_MAX} bytes")
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise InvalidPath(name, "a workspace is one folder name, not empty, '.' or '..'")
    if "/" in name or "\\" in name or "\x00" in name:
        raise InvalidPath(name[:80], "a workspace is one folder name: no '/', '\\' or NUL")
    if len(name.encode("utf-8", "surrogatepass")) > NAME_MAX:
        raise InvalidPath(name[:80], f"a workspace name must be at most {NAME_MAX} bytes")
    return root, name
