"""Files at a point in history and people's locks: the value types and the local reads.

``files_at`` and ``file_at`` read a project's tree (and one file's bytes) at a
``Point`` without writing anything (no snapshot is taken, unlike ``replay_to``);
``HeldLock`` is a lock a person holds, with the fencing token that renews or
releases it. ``GrpcClient`` answers the same from the daemon's ListFiles,
ReadFile, AcquireLock and ReleaseLock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ledger
import replay

#: A person's lock holder: the API holds locks for people; agents take theirs in a mission.
HUMAN_PREFIX = "human:"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a tree: its path, size and content hash (hex)."""

    path: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class FilesAt:
    """A project's files as they stood at one event (``versionstamp``)."""

    versionstamp: str
    files: tuple[FileEntry, ...]

    def to_json(self) -> dict[str, Any]:
        return {"versionstamp": self.versionstamp, "files": [f.to_json() for f in self.files]}


@dataclass(frozen=True, slots=True)
class FileAt:
    """One file's bytes as they stood at one event, checked against their hash."""

    path: str
    versionstamp: str
    size: int
    sha256: str
    content: bytes


@dataclass(frozen=True, slots=True)
class HeldLock:
    """A lock a person holds: until when, and its fencing token (hex) to release it."""

    path: str
    holder: str
    token: str
    expires_us: int

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "holder": self.holder,
            "token": self.token,
            "expires_us": self.expires_us,
        }


class BadRequest(replay.ReplayError):
    """A path or holder a request may not name (INVALID_ARGUMENT, as the daemon says)."""


def check_path(path: str, what: str = "path") -> str:
    """``path`` if it names a file beneath the project's root; ``BadRequest`` saying why not."""
    problem = replay.path_problem(path)
    if problem is not None:
        raise BadRequest(f"{what} {path[:200]!r}: {problem}")
    return path


def check_holder(holder: str) -> str:
    """``holder`` if it names a person (``human:<name>``); ``BadRequest`` otherwise."""
    if not holder.startswith(HUMAN_PREFIX) or len(holder) == len(HUMAN_PREFIX):
        raise BadRequest(
            f"lock holder {holder[:80]!r} must be 'human:<name>': locks taken here are a "
            "person's; agents take theirs inside a mission"
        )
    return holder


def tree_at(led: ledger.Ledger, tenant: str, project: str, vs: ledger.Versionstamp) -> FilesAt:
    """The project's files at the event ``vs``, folded from the log (nothing written)."""
    state = replay.Replayer(led, tenant, project).state_at(vs)
    files = tuple(
        FileEntry(path, e.size, e.sha256.hex()) for path, e in sorted(state.files.items())
    )
    return FilesAt(str(vs), files)


def read_at(
    led: ledger.Ledger, tenant: str, project: str, vs: ledger.Versionstamp, path: str
) -> FileAt:
    """``path``'s bytes at the event ``vs``; ``replay.UnknownPoint`` if it was not there."""
    check_path(path)
    state = replay.Replayer(led, tenant, project).state_at(vs)
    entry = state.files.get(path)
    if entry is None:
        raise replay.UnknownPoint(f"no file {path!r} in {project!r} at {vs}")
    content = led.get_blob(tenant, entry.sha256)
    return FileAt(path, str(vs), entry.size, entry.sha256.hex(), content)


def held(lock: ledger.Lock) -> HeldLock:
    return HeldLock(lock.path, lock.holder, lock.token.hex(), lock.expires_us)


def fencing_token(text: str) -> bytes:
    """A fencing token from its hex form (as ``HeldLock.token`` gives it); ``BadRequest``."""
    try:
        token = bytes.fromhex(text)
    except ValueError:
        token = b""
    if not token:
        raise BadRequest(f"fencing token {text[:80]!r} is not the hex string a lock was given")
    return token
