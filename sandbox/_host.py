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
* ``fd_write`` to stdout/stderr: captured in memory up to the output cap; past
  it the run is stopped. Other writes (``fd_write``, ``fd_pwrite``,
  ``fd_allocate``, ``fd_filestat_set_size``) are charged to the write budget.
* ``fd_read`` from stdin: served from the bytes the caller gave.
* ``path_open`` with O_CREAT, ``path_create_directory``, ``path_symlink``,
  ``path_link``: charged to the file budget when they create a new entry.

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

import wasmtime
from wasmtime import _ffi as wasmtime_ffi

from ._types import Status

WASI = "wasi_snapshot_preview1"

# WASI preview 1 errno values.
E_SUCCESS = 0
E_BADF = 8
E_DQUOT = 19
E_FAULT = 21
E_INVAL = 28
E_NOENT = 44
E_NOTSUP = 58

O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC = 1, 2, 4, 8
EVENT_CLOCK, EVENT_FD_READ, EVENT_FD_WRITE = 0, 1, 2
CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
SUBCLOCK_ABSTIME = 1

_SLEEP_SLICE = 0.05  # longest uninterrupted host sleep; bounds deadline overshoot


@dataclass(slots=True)
class RunState:
    """Everything the shims need to know about the run on this thread."""

    natives: Callable[[str], wasmtime.Func]  # the native WASI function of a name, for this store
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
        raw = self.read(ptr, 8 * (count & 0xFFFFFFFF))
        return [struct.unpack_from("<II", raw, 8 * i) for i in range(len(raw) // 8)]


class _Fault(Exception):
    """A guest pointer outside its memory: answered with EFAULT."""


def _guarded(fn: Callable[..., int]) -> Callable[..., int]:
    """Turn any failure inside a shim into an errno; never let Python raise into wasmtime."""

    def shim(caller: wasmtime.Caller, *args: int) -> int:
        try:
            return fn(caller, *args)
        except _Fault:
            return E_FAULT
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
    if nsubs == 0:
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


# -- stdio -----------------------------------------------------------------------


def fd_write(caller: wasmtime.Caller, fd: int, iovs: int, iovs_len: int, nwritten: int) -> int:
    state = _state()
    if fd not in (1, 2):
        return _charged_write(caller, "fd_write", fd, iovs, iovs_len, nwritten)
    mem = _Mem(caller)
    data = b"".join(mem.read(ptr, n) for ptr, n in mem.iovecs(iovs, iovs_len))
    sink = state.stdout if fd == 1 else state.stderr
    room = state.output_cap - len(sink)
    if len(data) > room:
        sink += data[: max(room, 0)]
        stream = "stdout" if fd == 1 else "stderr"
        _mark(state, Status.OUTPUT_CUT, f"{stream} passed the {state.output_cap}-byte output cap")
        _interrupt(caller)
    else:
        sink += data
    mem.write(nwritten, struct.pack("<I", len(data)))
    return E_SUCCESS


def fd_read(caller: wasmtime.Caller, fd: int, iovs: int, iovs_len: int, nread: int) -> int:
    if fd != 0:
        return _native(caller, "fd_read", fd, iovs, iovs_len, nread)
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


# -- the folder's budgets --------------------------------------------------------


def _charge_bytes(caller: wasmtime.Caller, amount: int) -> bool:
    state = _state()
    if state.bytes_written + amount > state.max_write_bytes:
        _mark(
            state,
            Status.DISK_QUOTA,
            f"write budget of {state.max_write_bytes} bytes in the folder exhausted",
        )
        return False
    return True


def _charged_write(
    caller: wasmtime.Caller,
    name: str,
    fd: int,
    iovs: int,
    iovs_len: int,
    nwritten: int,
    *extra: int,
) -> int:
    mem = _Mem(caller)
    wanted = sum(n for _, n in mem.iovecs(iovs, iovs_len))
    if not _charge_bytes(caller, wanted):
        return E_DQUOT
    if extra:  # fd_pwrite(fd, iovs, iovs_len, offset, nwritten)
        errno = _native(caller, name, fd, iovs, iovs_len, extra[0], nwritten)
    else:
        errno = _native(caller, name, fd, iovs, iovs_len, nwritten)
    if errno == E_SUCCESS:
        _state().bytes_written += struct.unpack("<I", _Mem(caller).read(nwritten, 4))[0]
    return errno


def fd_pwrite(
    caller: wasmtime.Caller, fd: int, iovs: int, iovs_len: int, offset: int, nwritten: int
) -> int:
    return _charged_write(caller, "fd_pwrite", fd, iovs, iovs_len, nwritten, offset)


def fd_allocate(caller: wasmtime.Caller, fd: int, offset: int, length: int) -> int:
    # Charged in full: the shim cannot see how much of the range already exists.
    if length > 0 and not _charge_bytes(caller, length):
        return E_DQUOT
    errno = _native(caller, "fd_allocate", fd, offset, length)
    if errno == E_SUCCESS:
        _state().bytes_written += max(length, 0)
    return errno


def fd_filestat_set_size(caller: wasmtime.Caller, fd: int, size: int) -> int:
    # Growing a file by truncate() is charged its new size (a sparse 1 TB file is still refused).
    if size > 0 and not _charge_bytes(caller, size):
        return E_DQUOT
    errno = _native(caller, "fd_filestat_set_size", fd, size)
    if errno == E_SUCCESS:
        _state().bytes_written += max(size, 0)
    return errno


def _charge_entry(caller: wasmtime.Caller) -> bool:
    state = _state()
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
    args = (dirfd, dirflags, path, path_len)
    tail = (rights_base, rights_inheriting, fdflags, out_fd)
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
    if creates and not _charge_entry(caller):
        return E_DQUOT
    errno = _native(caller, "path_open", *args, oflags, *tail)
    if errno == E_SUCCESS and creates and probe != E_SUCCESS:
        _state().files_created += 1
    return errno


def path_create_directory(caller: wasmtime.Caller, fd: int, path: int, path_len: int) -> int:
    if not _charge_entry(caller):
        return E_DQUOT
    errno = _native(caller, "path_create_directory", fd, path, path_len)
    if errno == E_SUCCESS:
        _state().files_created += 1
    return errno


def path_symlink(
    caller: wasmtime.Caller, old: int, old_len: int, fd: int, new: int, new_len: int
) -> int:
    if not _charge_entry(caller):
        return E_DQUOT
    errno = _native(caller, "path_symlink", old, old_len, fd, new, new_len)
    if errno == E_SUCCESS:
        _state().files_created += 1
    return errno


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
    if not _charge_entry(caller):
        return E_DQUOT
    errno = _native(caller, "path_link", old_fd, old_flags, old, old_len, new_fd, new, new_len)
    if errno == E_SUCCESS:
        _state().files_created += 1
    return errno


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
}

# Natives the shims delegate to (fd_close is used by the path_open probe).
DELEGATED: dict[str, list[wasmtime.ValType]] = {
    **{
        name: params
        for name, (_, params) in SHIMS.items()
        if name not in ("clock_time_get", "poll_oneoff")
    },
    "fd_close": [_I32],
}


def _wat_type(t: wasmtime.ValType) -> str:
    return "i64" if t == _I64 else "i32"


def trampoline_wat() -> str:
    """A tiny module that calls the native WASI functions on behalf of the shims.

    Wasmtime's WASI functions find the guest's memory through the *calling*
    instance's "memory" export, so a host function cannot call them directly.
    This module imports the interpreter's memory, re-exports it, and forwards
    each call, which makes the native function see the right memory.
    """
    lines = ["(module", '  (import "env" "memory" (memory 0))']
    for name, params in DELEGATED.items():
        sig = " ".join(_wat_type(t) for t in params)
        lines.append(f'  (import "{WASI}" "{name}" (func ${name} (param {sig}) (result i32)))')
    lines.append('  (export "memory" (memory 0))')
    for name, params in DELEGATED.items():
        sig = " ".join(_wat_type(t) for t in params)
        body = " ".join(f"local.get {i}" for i in range(len(params)))
        lines.append(f'  (func (export "{name}") (param {sig}) (result i32) {body} call ${name})')
    lines.append(")")
    return "\n".join(lines)


def define_shims(linker: wasmtime.Linker) -> None:
    """Shadow the WASI imports in ``SHIMS`` on a linker that already has ``define_wasi``."""
    linker.allow_shadowing = True
    for name, (fn, params) in SHIMS.items():
        linker.define_func(
            WASI, name, wasmtime.FuncType(params, [_I32]), _guarded(fn), access_caller=True
        )
