"""Checks on what callers hand the ledger: ids and paths."""

from __future__ import annotations

import re

from ledger._errors import InvalidId, InvalidPath

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
