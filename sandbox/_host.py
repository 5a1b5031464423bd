"""Host functions that stand in front of WASI calls to make the limits hold.

Wasmtime's own WASI implementation does the real work; a few imports are
shadowed by Python functions that check a limit and then delegate to the
native function of the same name:

* ``poll_oneoff`` (``time.sleep``, ``select``): sleeps on the host in short
  slices and gives up at the run's deadline, because an epoch interrupt only
  fires inside wasm code, never inside a blocking host call. fd subscriptions
  report ready at once: the guest has no sockets or pipes that could block.
* ``clock_time_get``: the guest's clocks come from the host, monotonic time
  counted from the start of the run, so absolute sleeps can be computed here.
* ``fd_write`` to stdout/stderr: captured in memory up to the output cap, and
  only what fits is ever copied; past it the run is stopped. A write to the
  report channel (a ``ReportChannel``: the one fd opened in its read-only
  folder) is kept in memory, never written to disk. Writes to files
  (``fd_write``, ``fd_pwrite``, ``fd_allocate``, ``fd_filestat_set_size``)
  are charged the growth of the file's apparent size (its end offset), so a
  seek far out and a 1-byte write is charged in full.
* ``fd_read``: stdin is served from the bytes the caller gave; file reads go
  to the native function one iovec at a time, at most ``IO_CHUNK`` bytes.
* ``path_*``: path names longer than ``PATH_MAX`` are refused before wasmtime
  copies them. The report channel's folder may be opened once; a second
  open is refused and recorded. ``path_open`` with O_CREAT, ``path_create_directory`` and
  ``path_link`` are charged to the file budget when they create a new entry.
  ``path_symlink`` is refused: a symlink the guest leaves behind could be
  followed out of the folder by whoever reads it later (ADR 0009).

What the host holds on the guest's behalf is bounded by the limits, whatever
the call: captured output by ``output`` per stream, the report channel by
``REPORT_CAP``, one file read or write by ``IO_CHUNK``, a path by
``PATH_MAX``, an iovec list by ``IOV_MAX`` entries and a poll by
``MAX_SUBSCRIPTIONS``. Each shim call is therefore short, which bounds how
far past its deadline a run can go (ADR 0002).

A limit that stops the run sets the store's epoch deadline to "now" through
the caller's context, so the guest traps at its next epoch check; the shims
never raise (wasmtime-py keeps a raised exception in a process-wide slot,
which parallel runs would trip over).
"""

from __future__ import annotations

import ctypes
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import wasmtime
from wasmtime import _ffi as wasmtime_ffi

from ._types import Status

WASI = "wasi_snapshot_preview1"

# WASI preview 1 errno values.
E_SUCCESS = 0
E_ACCES = 2
E_BADF = 8
E_DQUOT = 19
E_FAULT = 21
E_INVAL = 28
E_NAMETOOLONG = 37
E_NOENT = 44
E_NOTSUP = 58

FDFLAGS_APPEND = 1
_U64 = 2**64 - 1

O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC = 1, 2, 4, 8
EVENT_CLOCK, EVENT_FD_READ, EVENT_FD_WRITE = 0, 1, 2
CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
SUBCLOCK_ABSTIME = 1

_SLEEP_SLICE = 0.05  # longest uninterrupted host sleep; bounds deadline overshoot

# Bounds on what one call may make the host hold or do on the guest's behalf.
IOV_MAX = 1024  # iovecs per read/write, as POSIX's IOV_MAX on Linux
IO_CHUNK = 1 << 20  # bytes one file read or write hands to wasmtime (which copies them)
PATH_MAX = 4096  # bytes in a path name, as Linux's PATH_MAX
MAX_SUBSCRIPTIONS = 4096  # events one poll_oneoff may wait on
REPORT_CAP = 64 << 20  # bytes the report channel keeps; more marks it overflowed


@dataclass(slots=True)
class ReportChannel:
    """The test runner's private way back to the host, apart from stdout.

    The guest opens the one file in the channel's read-only folder, once;
    what it writes to that fd lands in ``data``. ``opens`` counts every open
    in that folder (the runner makes one), ``overflow`` says ``data`` was cut.
    """

    dir_fd: int = -1  # the folder's preopened fd number on the host side, set by the runner
    fd: int | None = None  # the channel's fd once opened
    opens: int = 0
    overflow: bool = False
    data: bytearray = field(default_factory=bytearray)


class Natives(Protocol):
    """The native WASI functions of one run's store, reached through forwarders."""

    def __call__(self, name: str) -> wasmtime.Func:
        """The native ``name``, seeing the guest's memory."""

    def scratch(self, name: str) -> tuple[wasmtime.Func, wasmtime.Memory]:
        """The native ``name``, seeing a scratch memory only the host reads."""


@dataclass(slots=True)
class RunState:
    """Everything the shims need to know about the run on this thread."""

    natives: Natives  # the native WASI functions of this store
    deadline: float  # time.monotonic() at which the run must end
    origin_ns: int  # host monotonic ns at the start; the guest's monotonic zero
    stdin: bytes
    output_cap: int
    max_files: int
    max_write_bytes: int
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    stdin_pos: int = 0
    files_created: int = 0
    bytes_written: int = 0
    stop: Status | None = None  # the first host-imposed limit that ended or marked the run
    detail: str = ""
    report: ReportChannel | None = None  # the test runner's report channel, if any


_local = threading.local()


def bind(state: RunState | None) -> None:
    """Make ``state`` the run the shims on this thread serve (None to unbind)."""
    _local.state = state


def _state() -> RunState:
    state: RunState = _local.state
    return state


def _mark(state: RunState, status: Status, detail: str) -> None:
    if state.stop is None:
        state.stop = status
        state.detail = detail


def _interrupt(caller: wasmtime.Caller) -> None:
    # The caller's context is the store's, borrowed for this host call; a zero
    # delta puts the deadline at the current epoch, so the next check traps.
    wasmtime_ffi.wasmtime_context_set_epoch_deadline(caller._context(), 0)


class _Mem:
    """Bounds-checked access to the guest's linear memory during one host call."""

    __slots__ = ("base", "size")

    def __init__(self, caller: wasmtime.Caller) -> None:
        memory = caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            raise _Fault
        self.size = memory.data_len(caller)
        self.base = ctypes.addressof(memory.data_ptr(caller).contents)

    def read(self, ptr: int, n: int) -> bytes:
        ptr &= 0xFFFFFFFF
        if n < 0 or ptr + n > self.size:
            raise _Fault
        return ctypes.string_at(self.base + ptr, n)

    def write(self, ptr: int, data: bytes) -> None:
        ptr &= 0xFFFFFFFF
        if ptr + len(data) > self.size:
            raise _Fault
        ctypes.memmove(self.base + ptr, data, len(data))

    def iovecs(self, ptr: int, count: int) -> list[tuple[int, int]]:
        """The (pointer, length) pairs of an iovec list, each checked to lie in memory."""
        count &= 0xFFFFFFFF
        if count > IOV_MAX:
            raise _Errno(E_INVAL)
        raw = self.read(ptr, 8 * count)
        vecs = [struct.unpack_from("<II", raw, 8 * i) for i in range(count)]
        for base, n in vecs:
            if base + n > self.size:
                raise _Fault
        if sum(n for _, n in vecs) > 0xFFFFFFFF:
            raise _Errno(E_INVAL)  # the count would not fit the guest's 32-bit result
        return vecs


class _Fault(Exception):
    """A guest pointer outside its memory: answered with EFAULT."""


class _Errno(Exception):
    """A request the shim refuses before wasmtime sees it, answered with ``errno``."""

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno


def _guarded(fn: Callable[..., int]) -> Callable[..., int]:
    """Turn any failure inside a shim into an errno; never let Python raise into wasmtime."""

    def shim(caller: wasmtime.Caller, *args: int) -> int:
        try:
            return fn(caller, *args)
        except _Fault:
            return E_FAULT
        except _Errno as refused:
            return refused.errno
        except Exception as exc:  # a bug here must not unwind through wasmtime
            state = getattr(_local, "state", None)
            if state is not None:
                _mark(state, Status.CRASH, f"sandbox shim {fn.__name__} failed: {exc!r}")
            _interrupt(caller)
            return E_INVAL

    shim.__name__ = fn.__name__
    return shim


def _native(caller: wasmtime.Caller, name: str, *args: int) -> int:
    result = _state().natives(name)(caller, *args)
    return int(result)


# -- clocks and blocking ---------------------------------------------------------


def clock_time_get(caller: wasmtime.Caller, clock_id: int, precision: int, out: int) -> int:
    state = _state()
    # Monotonic and the CPU-time clocks: elapsed time in this run, so no host
    # process clock leaks into the guest.
    monotonic = time.monotonic_ns() - state.origin_ns
    now = time.time_ns() if clock_id == CLOCK_REALTIME else monotonic
    _Mem(caller).write(out, struct.pack("<Q", now))
    return E_SUCCESS


def poll_oneoff(
    caller: wasmtime.Caller, subs_ptr: int, events_ptr: int, nsubs: int, nevents_ptr: int
) -> int:
    state = _state()
    mem = _Mem(caller)
    nsubs &= 0xFFFFFFFF
    if nsubs == 0 or nsubs > MAX_SUBSCRIPTIONS:
        return E_INVAL
    raw = mem.read(subs_ptr, 48 * nsubs)
    ready: list[bytes] = []
    wake_ns: int | None = None
    clocks: list[tuple[int, int]] = []  # (wake time on the guest monotonic clock, userdata)
    now_ns = time.monotonic_ns() - state.origin_ns
    for i in range(nsubs):
        userdata, tag = struct.unpack_from("<QB", raw, 48 * i)
        if tag == EVENT_CLOCK:
            clock_id, timeout, _precision, flags = struct.unpack_from("<IxxxxQQH", raw, 48 * i + 16)
            if flags & SUBCLOCK_ABSTIME:
                base = time.time_ns() if clock_id == CLOCK_REALTIME else now_ns
                at = now_ns + max(0, timeout - base)
            else:
                at = now_ns + timeout
            clocks.append((at, userdata))
            wake_ns = at if wake_ns is None else min(wake_ns, at)
        elif tag in (EVENT_FD_READ, EVENT_FD_WRITE):
            # Files are always ready; the guest has nothing that could block.
            ready.append(struct.pack("<QHBxxxxxQH6x", userdata, E_SUCCESS, tag, 0, 0))
        else:
            return E_INVAL
    if not ready and wake_ns is not None:
        while True:
            now_ns = time.monotonic_ns() - state.origin_ns
            left = min((wake_ns - now_ns) / 1e9, state.deadline - time.monotonic())
            if left <= 0:
                break
            time.sleep(min(left, _SLEEP_SLICE))
        if time.monotonic() >= state.deadline:
            _mark(
                state, Status.DEADLINE, "deadline passed while the guest was blocked in sleep/poll"
            )
            _interrupt(caller)
    if not ready:
        now_ns = time.monotonic_ns() - state.origin_ns
        for at, userdata in clocks:
            if at <= now_ns:
                ready.append(struct.pack("<QHBxxxxxQH6x", userdata, E_SUCCESS, EVENT_CLOCK, 0, 0))
        if not ready:  # stopped early at the deadline: report the earliest clock anyway
            ready.append(struct.pack("<QHBxxxxxQH6x", clocks[0][1], E_SUCCESS, EVENT_CLOCK, 0, 0))
    mem.write(events_ptr, b"".join(ready))
    mem.write(nevents_ptr, struct.pack("<I", len(ready)))
    return E_SUCCESS


# -- stdio and the report channel ------------------------------------------------


def fd_write(caller: wasmtime.Caller, fd: int, iovs: int, iovs_len: int, nwritten: int) -> int:
    state = _state()
    if state.report is not None and fd == state.report.fd:
        return _report_write(caller, state.report, iovs, iovs_len, nwritten)
    if fd not in (1, 2):
        return _file_io(caller, "fd_write", fd, iovs, iovs_len, nwritten, None)
    mem = _Mem(caller)
    vecs = mem.iovecs(iovs, iovs_len)
    total = sum(n for _, n in vecs)
    sink = state.stdout if fd == 1 else state.stderr
    room = max(state.output_cap - len(sink), 0)
    _copy_into(mem, vecs, sink, room)
    if total > room:
        stream = "stdout" if fd == 1 else "stderr"
        _mark(state, Status.OUTPUT_CUT, f"{stream} passed the {state.output_cap}-byte output cap")
        _interrupt(caller)
    mem.write(nwritten, struct.pack("<I", total))
    return E_SUCCESS


def _copy_into(mem: _Mem, vecs: list[tuple[int, int]], sink: bytearray, room: int) -> None:
    # Copy only what is kept: a 2 GiB writev of one repeated buffer costs no more than the cap.
    for ptr, n in vecs:
        if room <= 0:
            return
        take = min(n, room)
        sink += mem.read(ptr, take)
        room -= take


def _report_write(
    caller: wasmtime.Caller, channel: ReportChannel, iovs: int, iovs_len: int, nwritten: int
) -> int:
    mem = _Mem(caller)
    vecs = mem.iovecs(iovs, iovs_len)
    total = sum(n for _, n in vecs)
    room = max(REPORT_CAP - len(channel.data), 0)
    _copy_into(mem, vecs, channel.data, room)
    if total > room:
        channel.overflow = True  # the host then judges the report incomplete
    mem.write(nwritten, struct.pack("<I", total))
    return E_SUCCESS


def fd_read(caller: wasmtime.Caller, fd: int, iovs: int, iovs_len: int, nread: int) -> int:
    if fd != 0:
        return _file_io(caller, "fd_read", fd, iovs, iovs_len, nread, None)
    state = _state()
    mem = _Mem(caller)
    total = 0
    for ptr, n in mem.iovecs(iovs, iovs_len):
        chunk = state.stdin[state.stdin_pos : state.stdin_pos + n]
        mem.write(ptr, chunk)
        state.stdin_pos += len(chunk)
        total += len(chunk)
        if len(chunk) < n:
            break
    mem.write(nread, struct.pack("<I", total))
    return E_SUCCESS


# -- files: bounded copies, budgets on apparent size -----------------------------


def _forward_one(
    caller: wasmtime.Caller,
    name: str,
    fd: int,
    iovec_at: int,
    length: int,
    done_ptr: int,
    offset: int | None,
) -> int:
    """Call native ``name`` on the single iovec at ``iovec_at``, at most ``IO_CHUNK`` bytes.

    Wasmtime copies the whole buffer of a file read or write on the host, so a
    longer iovec is shortened in place for the call (the guest is blocked in
    it and has no threads) and restored after: a short read or write, which
    every caller of read/write must already handle.
    """
    mem = _Mem(caller)
    cut = length > IO_CHUNK
    if cut:
        mem.write(iovec_at + 4, struct.pack("<I", IO_CHUNK))
    try:
        if offset is None:
            return _native(caller, name, fd, iovec_at, 1, done_ptr)
        return _native(caller, name, fd, iovec_at, 1, offset, done_ptr)
    finally:
        if cut:
            _Mem(caller).write(iovec_at + 4, struct.pack("<I", length))


def _file_io(
    caller: wasmtime.Caller,
    name: str,
    fd: int,
    iovs: int,
    iovs_len: int,
    done_ptr: int,
    offset: int | None,
) -> int:
    """A read or write on a file: one iovec at a time; a write charged its growth."""
    vecs = _Mem(caller).iovecs(iovs, iovs_len)
    index = next((i for i, (_, n) in enumerate(vecs) if n), None)
    if index is None:  # nothing to move: let wasmtime answer (0 bytes, or EBADF)
        args = (fd, iovs, iovs_len, *(() if offset is None else (offset,)), done_ptr)
        return _native(caller, name, *args)
    length = vecs[index][1]
    at = iovs + 8 * index
    if not name.endswith("write"):
        return _forward_one(caller, name, fd, at, length, done_ptr, offset)
    state = _state()
    extent = _extent(caller, fd, offset)
    if not _charge_bytes(state, _growth(extent, min(length, IO_CHUNK))):
        return E_DQUOT
    errno = _forward_one(caller, name, fd, at, length, done_ptr, offset)
    if errno == E_SUCCESS:
        done = struct.unpack("<I", _Mem(caller).read(done_ptr, 4))[0]
        state.bytes_written += _growth(extent, done)
    return errno


def _extent(caller: wasmtime.Caller, fd: int, offset: int | None) -> tuple[int, int] | None:
    """(size now, offset the next write lands at) of a file, or None when it has none."""
    stat, scratch = _state().natives.scratch("fd_filestat_get")
    if int(stat(caller, fd, 0)) != E_SUCCESS:
        return None
    size = struct.unpack("<Q", scratch.read(caller, 32, 40))[0]
    fdstat, _ = _state().natives.scratch("fd_fdstat_get")
    if int(fdstat(caller, fd, 64)) == E_SUCCESS:
        (flags,) = struct.unpack("<H", scratch.read(caller, 66, 68))
        if flags & FDFLAGS_APPEND:
            return size, size
    if offset is not None:
        return size, offset & _U64
    tell, _ = _state().natives.scratch("fd_tell")
    if int(tell(caller, fd, 96)) != E_SUCCESS:
        return None
    return size, struct.unpack("<Q", scratch.read(caller, 96, 104))[0]


def _growth(extent: tuple[int, int] | None, length: int) -> int:
    """How far writing ``length`` bytes at the extent's offset moves the file's end."""
    if extent is None:
        return length  # no size to compare with: charge every byte
    size, at = extent
    return max(0, at + length - size)


def _charge_bytes(state: RunState, amount: int) -> bool:
    if state.bytes_written + amount > state.max_write_bytes:
        _mark(
            state,
            Status.DISK_QUOTA,
            f"write budget of {state.max_write_bytes} bytes in the folder exhausted",
        )
        return False
    return True


def fd_pwrite(
    caller: wasmtime.Caller, fd: int, iovs: int, iovs_len: int, offset: int, nwritten: int
) -> int:
    return _file_io(caller, "fd_pwrite", fd, iovs, iovs_len, nwritten, offset)


def fd_allocate(caller: wasmtime.Caller, fd: int, offset: int, length: int) -> int:
    state = _state()
    extent = _extent(caller, fd, None)
    end = (offset & _U64) + (length & _U64)
    growth = end if extent is None else max(0, end - extent[0])
    if not _charge_bytes(state, growth):
        return E_DQUOT
    errno = _native(caller, "fd_allocate", fd, offset, length)
    if errno == E_SUCCESS:
        state.bytes_written += growth
    return errno


def fd_filestat_set_size(caller: wasmtime.Caller, fd: int, size: int) -> int:
    # Growing a file by truncate() is charged the growth (a sparse 1 TB file is still refused).
    state = _state()
    extent = _extent(caller, fd, None)
    size &= _U64
    growth = size if extent is None else max(0, size - extent[0])
    if not _charge_bytes(state, growth):
        return E_DQUOT
    errno = _native(caller, "fd_filestat_set_size", fd, size)
    if errno == E_SUCCESS:
        state.bytes_written += growth
    return errno


# -- paths and the file budget ---------------------------------------------------


def _check_path(length: int) -> None:
    # Refused before wasmtime copies (and validates) a path of up to the guest's whole memory.
    if length & 0xFFFFFFFF > PATH_MAX:
        raise _Errno(E_NAMETOOLONG)


def _charge_entry(state: RunState) -> bool:
    if state.files_created >= state.max_files:
        _mark(
            state,
            Status.DISK_QUOTA,
            f"file budget of {state.max_files} new entries in the folder exhausted",
        )
        return False
    return True


def path_open(
    caller: wasmtime.Caller,
    dirfd: int,
    dirflags: int,
    path: int,
    path_len: int,
    oflags: int,
    rights_base: int,
    rights_inheriting: int,
    fdflags: int,
    out_fd: int,
) -> int:
    _check_path(path_len)
    args = (dirfd, dirflags, path, path_len)
    tail = (rights_base, rights_inheriting, fdflags, out_fd)
    channel = _state().report
    if channel is not None and dirfd == channel.dir_fd:
        return _open_channel(caller, channel, (*args, oflags, *tail), out_fd)
    if not oflags & O_CREAT:
        return _native(caller, "path_open", *args, oflags, *tail)
    # Probe without O_CREAT to learn whether this open would create a new entry.
    probe = _native(caller, "path_open", *args, oflags & O_DIRECTORY, *tail)
    if probe == E_SUCCESS:
        fd = struct.unpack("<I", _Mem(caller).read(out_fd, 4))[0]
        _native(caller, "fd_close", fd)
        creates = False
    else:
        creates = True  # ENOENT, or unknown: count it, erring on the side of the cap
    state = _state()
    if creates and not _charge_entry(state):
        return E_DQUOT
    errno = _native(caller, "path_open", *args, oflags, *tail)
    if errno == E_SUCCESS and creates:
        state.files_created += 1
    return errno


def _open_channel(
    caller: wasmtime.Caller, channel: ReportChannel, args: tuple[int, ...], out_fd: int
) -> int:
    # One open, the runner's, made before any test code runs; any later one is
    # code under test reaching for the channel: refused, and counted for the host.
    channel.opens += 1
    if channel.fd is not None:
        return E_ACCES
    errno = _native(caller, "path_open", *args)
    if errno == E_SUCCESS:
        channel.fd = struct.unpack("<I", _Mem(caller).read(out_fd, 4))[0]
    return errno


def path_create_directory(caller: wasmtime.Caller, fd: int, path: int, path_len: int) -> int:
    _check_path(path_len)
    state = _state()
    if not _charge_entry(state):
        return E_DQUOT
    errno = _native(caller, "path_create_directory", fd, path, path_len)
    if errno == E_SUCCESS:
        state.files_created += 1
    return errno


def path_symlink(
    caller: wasmtime.Caller, old: int, old_len: int, fd: int, new: int, new_len: int
) -> int:
    # Refused whatever the target: a relative target's meaning changes when the
    # link or a parent is renamed, so "points inside" cannot be checked once at
    # creation; and the host (the critic copying a folder back) may follow it later.
    return E_NOTSUP


def path_link(
    caller: wasmtime.Caller,
    old_fd: int,
    old_flags: int,
    old: int,
    old_len: int,
    new_fd: int,
    new: int,
    new_len: int,
) -> int:
    _check_path(old_len)
    _check_path(new_len)
    state = _state()
    if not _charge_entry(state):
        return E_DQUOT
    # Never follow a symlink to find the link's source (flags 0): a hard link to a
    # host-made link that points out would only copy that link, never its target.
    errno = _native(caller, "path_link", old_fd, 0, old, old_len, new_fd, new, new_len)
    if errno == E_SUCCESS:
        state.files_created += 1
    return errno


def _path_guard(name: str, *lengths: int) -> Callable[..., int]:
    """A shim for native ``name`` that refuses a path longer than PATH_MAX first.

    ``lengths`` are the argument positions that hold a path's length.
    """

    def shim(caller: wasmtime.Caller, *args: int) -> int:
        for i in lengths:
            _check_path(args[i])
        return _native(caller, name, *args)

    shim.__name__ = name
    return shim


_I32 = wasmtime.ValType.i32()
_I64 = wasmtime.ValType.i64()

# name -> (function, parameter types); every WASI function returns an i32 errno.
SHIMS: dict[str, tuple[Callable[..., int], list[wasmtime.ValType]]] = {
    "clock_time_get": (clock_time_get, [_I32, _I64, _I32]),
    "poll_oneoff": (poll_oneoff, [_I32, _I32, _I32, _I32]),
    "fd_write": (fd_write, [_I32, _I32, _I32, _I32]),
    "fd_read": (fd_read, [_I32, _I32, _I32, _I32]),
    "fd_pwrite": (fd_pwrite, [_I32, _I32, _I32, _I64, _I32]),
    "fd_allocate": (fd_allocate, [_I32, _I64, _I64]),
    "fd_filestat_set_size": (fd_filestat_set_size, [_I32, _I64]),
    "path_open": (path_open, [_I32, _I32, _I32, _I32, _I32, _I64, _I64, _I32, _I32]),
    "path_create_directory": (path_create_directory, [_I32, _I32, _I32]),
    "path_symlink": (path_symlink, [_I32, _I32, _I32, _I32, _I32]),
    "path_link": (path_link, [_I32, _I32, _I32, _I32, _I32, _I32, _I32]),
    # Only the path length is checked; the argument positions of the lengths follow.
    "path_filestat_get": (_path_guard("path_filestat_get", 3), [_I32, _I32, _I32, _I32, _I32]),
    "path_filestat_set_times": (
        _path_guard("path_filestat_set_times", 3),
        [_I32, _I32, _I32, _I32, _I64, _I64, _I32],
    ),
    "path_readlink": (_path_guard("path_readlink", 2), [_I32, _I32, _I32, _I32, _I32, _I32]),
    "path_remove_directory": (_path_guard("path_remove_directory", 2), [_I32, _I32, _I32]),
    "path_unlink_file": (_path_guard("path_unlink_file", 2), [_I32, _I32, _I32]),
    "path_rename": (_path_guard("path_rename", 2, 5), [_I32, _I32, _I32, _I32, _I32, _I32]),
}

# Natives the shims delegate to (fd_close is used by the path_open probe).
DELEGATED: dict[str, list[wasmtime.ValType]] = {
    **{
        name: params
        for name, (_, params) in SHIMS.items()
        if name not in ("clock_time_get", "poll_oneoff", "path_symlink")
    },
    "fd_close": [_I32],
}

# Natives called on a private scratch memory: results only the host reads.
SCRATCH: dict[str, list[wasmtime.ValType]] = {
    "fd_filestat_get": [_I32, _I32],
    "fd_fdstat_get": [_I32, _I32],
    "fd_tell": [_I32, _I32],
}


def _wat_type(t: wasmtime.ValType) -> str:
    return "i64" if t == _I64 else "i32"


def _forwarder_wat(natives: dict[str, list[wasmtime.ValType]], memory: str) -> str:
    lines = ["(module", memory]
    for name, params in natives.items():
        sig = " ".join(_wat_type(t) for t in params)
        lines.append(f'  (import "{WASI}" "{name}" (func ${name} (param {sig}) (result i32)))')
    lines.append('  (export "memory" (memory 0))')
    for name, params in natives.items():
        sig = " ".join(_wat_type(t) for t in params)
        body = " ".join(f"local.get {i}" for i in range(len(params)))
        lines.append(f'  (func (export "{name}") (param {sig}) (result i32) {body} call ${name})')
    lines.append(")")
    return "\n".join(lines)


def trampoline_wat() -> str:
    """A tiny module that calls the native WASI functions on behalf of the shims.

    Wasmtime's WASI functions find the guest's memory through the *calling*
    instance's "memory" export, so a host function cannot call them directly.
    This module imports the interpreter's memory, re-exports it, and forwards
    each call, which makes the native function see the right memory.
    """
    return _forwarder_wat(DELEGATED, '  (import "env" "memory" (memory 0))')


def scratch_wat() -> str:
    """Like ``trampoline_wat``, but with a one-page memory of its own.

    Natives called through it write their results (a file's size, its flags,
    its offset) where only the host reads them, never into the guest's memory.
    """
    lines = _forwarder_wat(SCRATCH, "  (memory 1)").splitlines()
    # In a module, imports must come before the memory definition.
    memory = lines.pop(1)
    lines.insert(1 + len(SCRATCH), memory)
    return "\n".join(lines)


def define_shims(linker: wasmtime.Linker) -> None:
    """Shadow the WASI imports in ``SHIMS`` on a linker that already has ``define_wasi``."""
    linker.allow_shadowing = True
    for name, (fn, params) in SHIMS.items():
        linker.define_func(
            WASI, name, wasmtime.FuncType(params, [_I32]), _guarded(fn), access_caller=True
        )
