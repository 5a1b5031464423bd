"""Value objects the ledger hands to its callers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ledger._errors import InvalidArgument
from proto.swarm.v1 import events_pb2

TR_VERSION_BYTES = 10
VERSIONSTAMP_BYTES = 12


@dataclass(frozen=True, slots=True, order=True)
class Versionstamp:
    """The position of one event in its project's log (12 bytes, FoundationDB's format).

    The first 10 bytes are the committing transaction's versionstamp, the last
    2 the event's order within it. Ordering and equality are bytewise, so the
    order of versionstamps is the order of the log. ``str()`` is 24 hex digits,
    the form cursors take on the wire and the command line.
    """

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != VERSIONSTAMP_BYTES:
            raise InvalidArgument(
                f"a versionstamp is {VERSIONSTAMP_BYTES} bytes, got {len(self.raw)}"
            )

    @classmethod
    def parse(cls, text: str) -> Versionstamp:
        """Read the 24-hex-digit form; raises ``InvalidArgument`` naming the problem."""
        cleaned = text.strip().lower()
        if len(cleaned) != 2 * VERSIONSTAMP_BYTES:
            raise InvalidArgument(
                f"versionstamp {text!r} must be {2 * VERSIONSTAMP_BYTES} hex digits"
            )
        try:
            return cls(bytes.fromhex(cleaned))
        except ValueError:
            raise InvalidArgument(f"versionstamp {text!r} is not hexadecimal") from None

    @classmethod
    def of(cls, tr_version: bytes, user_version: int) -> Versionstamp:
        return cls(tr_version + user_version.to_bytes(2, "big"))

    @property
    def tr_version(self) -> bytes:
        """The committing transaction's 10-byte versionstamp (a fencing token's form)."""
        return self.raw[:TR_VERSION_BYTES]

    @property
    def user_version(self) -> int:
        return int.from_bytes(self.raw[TR_VERSION_BYTES:], "big")

    def __str__(self) -> str:
        return self.raw.hex()

    def __repr__(self) -> str:
        return f"Versionstamp({self.raw.hex()})"


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the ledger holds it: where it sits, what it says, its chain hash."""

    versionstamp: Versionstamp
    event: events_pb2.SwarmEvent
    chain: bytes

    @property
    def time_us(self) -> int:
        return int(self.event.time_us)

    @property
    def kind(self) -> str:
        """The payload's name: decision, state_change, ticket or signal."""
        return self.event.WhichOneof("payload") or ""


class Appended(NamedTuple):
    """What ``append`` did with one event (a NamedTuple: one is made per appended event)."""

    event_id: str
    versionstamp: Versionstamp
    duplicate: bool  # True when the id had already landed; nothing was written


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A content-addressed blob: its sha256 and size."""

    sha256: bytes
    size: int

    @property
    def hex(self) -> str:
        return self.sha256.hex()


@dataclass(frozen=True, slots=True)
class FileState:
    """The head of one file: its content hash and size, and the event that set them."""

    path: str
    sha256: bytes
    size: int
    versionstamp: Versionstamp


@dataclass(frozen=True, slots=True)
class Lock:
    """A file lock: who holds it, until when, and its fencing token.

    The token is the 10-byte versionstamp of the transaction that granted the
    lock, so tokens only ever grow; a StateChange must carry the current one.
    """

    path: str
    holder: str
    token: bytes
    expires_us: int

    def live(self, now_us: int) -> bool:
        return now_us < self.expires_us


@dataclass(frozen=True, slots=True)
class WorkspaceClaim:
    """A workspace folder ``name`` under a daemon's workspaces ``root``, owned by one project.

    A folder belongs to exactly one (tenant, project) and a project to at most
    one folder; a claim is never moved, so who may use a folder never changes.
    """

    root: str
    name: str
    tenant: str
    project: str
    claimed_us: int


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    tenant: str
    project: str
    created_us: int
    head: Versionstamp | None
    events: int
    last_time_us: int
