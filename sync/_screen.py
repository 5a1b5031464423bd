"""What the hub accepts from an edge: the ledger's validators, and sync's own rules.

Each edge event is checked before any of it is stored (``check_event``):
the ledger's ``check_replicated_event`` (ids, workspace paths, hashes,
attribute keys), a time no more than ``MAX_AHEAD_US`` past the hub's clock,
and a mission's ``manifest`` named by a sha256. Host-local facts of the
edge are stripped: a ``repo`` attribute names a folder on the edge's disk
and means nothing (or something dangerous) on the hub, so the hub keeps the
event without it (``HOST_ATTRIBUTES``). The blobs an event references are
read from the edge, checked against their hashes, and (a manifest) parsed
and checked path by path before they are copied (see ``Shipper._admit``).

An event that breaks a rule is refused with the rule named (``Refusal``).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import ledger
from ledger import Versionstamp
from proto.swarm.v1 import events_pb2 as pb

# Facts that name places on the edge's host; the hub drops them from signals.
HOST_ATTRIBUTES = frozenset({"repo"})
MAX_AHEAD_US = 3600 * 1_000_000  # an hour of clock skew; more would push the hub's clock on
CONTENT = "content"
DETAIL = "decision detail"
MANIFEST = "mission manifest"


class Refused(Exception):
    """Internal: the event in hand breaks ``rule``."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Refusal:
    """An edge event the hub refused, with the rule it broke.

    ``skipped`` is True when ``skip_refused`` recorded it on the hub (a
    ``refused`` conflict record) and shipping went on past it; otherwise
    its project stopped just before it and the cursor stayed there.
    """

    tenant: str
    project: str
    event_id: str
    versionstamp: Versionstamp
    rule: str
    skipped: bool = False

    def __str__(self) -> str:
        done = "skipped and recorded on the hub" if self.skipped else "not shipped"
        return (
            f"{self.tenant}/{self.project}: edge event {self.event_id[:128]!r} at "
            f"{self.versionstamp} refused: {self.rule} ({done})"
        )


@dataclass(frozen=True, slots=True)
class BlobNeed:
    """A blob an event references: which role it plays, and whether it must exist."""

    sha256: bytes
    what: str
    required: bool
    size: int | None = None  # a StateChange's new_size, checked against the blob


def check_event(
    tenant: str, project: str, event: pb.SwarmEvent, now_us: int
) -> tuple[pb.SwarmEvent, list[BlobNeed]]:
    """The event as the hub will hold it and the blobs it needs; ``Refused`` naming the rule."""
    try:
        ledger.check_replicated_event(tenant, project, event)
    except ledger.InvalidEvent as exc:
        raise Refused(exc.reason) from None
    if event.time_us > now_us + MAX_AHEAD_US:
        raise Refused(
            f"time_us {event.time_us} is more than {MAX_AHEAD_US // 3_600_000_000} h "
            "ahead of the hub's clock"
        )
    needs: list[BlobNeed] = []
    kind = event.WhichOneof("payload")
    if kind == "state_change" and event.state_change.new_sha256:
        change = event.state_change
        needs.append(BlobNeed(change.new_sha256, CONTENT, True, change.new_size))
    elif kind == "decision" and len(event.decision.detail.sha256) == 32:
        # The ledger does not require a Decision's detail to be stored; ship it if it is.
        needs.append(BlobNeed(event.decision.detail.sha256, DETAIL, False))
    elif kind == "signal":
        event = _strip_host_facts(event)
        manifest = event.signal.attributes.get("manifest")
        if event.signal.kind == pb.SIGNAL_KIND_MISSION_STARTED or manifest is not None:
            try:
                sha = ledger.check_sha256_hex("manifest", manifest or "")
            except ledger.InvalidId as exc:
                raise Refused(str(exc)) from None
            needs.append(BlobNeed(bytes.fromhex(sha), MANIFEST, True))
    return event, needs


def _strip_host_facts(event: pb.SwarmEvent) -> pb.SwarmEvent:
    attrs = event.signal.attributes
    if not any(key in attrs for key in HOST_ATTRIBUTES):
        return event
    copy = pb.SwarmEvent()
    copy.CopyFrom(event)
    for key in HOST_ATTRIBUTES:
        copy.signal.attributes.pop(key, None)
    return copy


def check_blob(need: BlobNeed, data: bytes) -> None:
    """A blob read from the edge (its hash already checked) that fits its role."""
    if need.size is not None and need.size != len(data):
        raise Refused(f"new_size {need.size} but its content blob holds {len(data)} bytes")
    if need.what == MANIFEST:
        check_manifest(data)


def check_manifest(data: bytes) -> None:
    """A mission manifest: replay's manifest format (the one missions store), or the JSON
    object of workspace paths to sha256 hex digests that older missions stored."""
    if data[:4] in (_MANIFEST_MAGIC, _MANIFEST_MODES):
        _check_binary_manifest(data)
        return
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(f"its mission manifest is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise Refused("its mission manifest is not a JSON object of path -> sha256")
    for path, digest in doc.items():
        try:
            ledger.check_workspace_path(path)
            ledger.check_sha256_hex(f"manifest entry {path[:80]!r}", digest)
        except ledger.InvalidArgument as exc:
            raise Refused(f"its mission manifest has a bad entry: {exc}") from None


# replay.encode_manifest's layout (sync may not import replay): a magic, then per file
# its path's length, sha256 and size, then the path, then (SWM2 only) a flags byte.
_MANIFEST_MAGIC = b"SWM1"
_MANIFEST_MODES = b"SWM2"
_ENTRY = struct.Struct(">H32sQ")


def _check_binary_manifest(data: bytes) -> None:
    flags = 1 if data[:4] == _MANIFEST_MODES else 0
    offset = 4
    while offset < len(data):
        if offset + _ENTRY.size > len(data):
            raise Refused("its mission manifest ends inside an entry")
        length, _sha, _size = _ENTRY.unpack_from(data, offset)
        offset += _ENTRY.size
        raw = data[offset : offset + length]
        offset += length + flags
        if len(raw) != length or offset > len(data):
            raise Refused("its mission manifest ends inside an entry's path")
        if flags and data[offset - 1] & ~1:
            raise Refused(f"its mission manifest has unknown flags {data[offset - 1]:#x}")
        try:
            ledger.check_workspace_path(raw.decode())
        except (UnicodeDecodeError, ledger.InvalidArgument) as exc:
            raise Refused(f"its mission manifest has a bad entry: {exc}") from None


def canonical(event: pb.SwarmEvent) -> bytes:
    """What two copies of one event must agree on: everything but the time and the names
    the envelope may leave implicit (the ledger fills tenant and project in)."""
    copy = pb.SwarmEvent()
    copy.CopyFrom(event)
    copy.time_us = 0
    copy.tenant = ""
    copy.project = ""
    return copy.SerializeToString(deterministic=True)
