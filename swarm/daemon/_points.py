"""Points in a project's log a request names, and the files at them.

A cursor or versionstamp is 24 hex digits and must name an event of the
project (NOT_FOUND otherwise); ``At`` is head, a time (µs since the epoch) or
a versionstamp. Every refusal is an ``Abort`` naming the field.
"""

from __future__ import annotations

import grpc

import ledger
import replay
from ledger import Versionstamp
from proto.swarm.v1 import service_pb2 as api
from swarm.daemon._call import Abort

MAX_TIME_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z, datetime's last instant


def parse_versionstamp(text: str, name: str) -> Versionstamp | None:
    """``text`` as a versionstamp (None if empty); INVALID_ARGUMENT naming ``name`` if not one."""
    if not text:
        return None
    try:
        return Versionstamp.parse(text)
    except ledger.InvalidArgument as exc:
        raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"{name}: {exc}") from None


def cursor(
    led: ledger.Ledger, t: str, p: str, text: str, name: str = "cursor"
) -> Versionstamp | None:
    """The versionstamp of an event of project ``p`` (None if ``text`` is empty)."""
    vs = parse_versionstamp(text, name)
    if vs is None:
        return None
    try:
        led.get_event(t, p, vs)
    except ledger.UnknownEvent:
        raise Abort(
            grpc.StatusCode.NOT_FOUND, f"unknown {name} {text}: no event of {p!r} sits there"
        ) from None
    return vs


def point(led: ledger.Ledger, t: str, p: str, at: api.At) -> Versionstamp | None:
    """The versionstamp ``at`` names; None means head."""
    which = at.WhichOneof("point")
    if which is None or which == "head":
        return None
    if which == "versionstamp":
        return cursor(led, t, p, at.versionstamp, "versionstamp")
    if not 0 <= at.time_us <= MAX_TIME_US:
        raise Abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"time_us {at.time_us} is not a time from 1970 to 9999 (µs since the epoch)",
        )
    vs = led.versionstamp_at(t, p, at.time_us)
    if vs is None:
        when = replay.format_time(at.time_us)
        raise Abort(
            grpc.StatusCode.NOT_FOUND,
            f"project {p!r} had no events yet at {when} (a time before it existed)",
        )
    return vs


def files_at(
    led: ledger.Ledger, t: str, p: str, vs: Versionstamp | None
) -> tuple[list[api.FileInfo], str]:
    """The project's files at ``vs`` (None: head) and the versionstamp they stand at."""
    if vs is None:
        head = led.head(t, p)
        files = [
            api.FileInfo(
                path=f.path, sha256=f.sha256, size=f.size, versionstamp=str(f.versionstamp)
            )
            for f in led.files(t, p)
        ]
        return files, str(head) if head else ""
    state = replay.Replayer(led, t, p).state_at(vs)
    files = [
        api.FileInfo(path=path, sha256=entry.sha256, size=entry.size)
        for path, entry in sorted(state.files.items())
    ]
    return files, str(vs)


def file_at(led: ledger.Ledger, t: str, p: str, path: str, at: api.At) -> tuple[api.FileInfo, str]:
    """One file at ``at`` and the versionstamp it stands at; NOT_FOUND if it is not there."""
    vs = point(led, t, p, at)
    if vs is not None:
        files, stamp = files_at(led, t, p, vs)
        match = [f for f in files if f.path == path]
        if not match:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"no file {path!r} in {p!r} at {stamp}")
        return match[0], stamp
    head = led.file_state(t, p, path)
    if head is None:
        raise Abort(grpc.StatusCode.NOT_FOUND, f"no file {path!r} at head of {p!r}")
    found = api.FileInfo(
        path=head.path, sha256=head.sha256, size=head.size, versionstamp=str(head.versionstamp)
    )
    return found, str(led.head(t, p) or "")
