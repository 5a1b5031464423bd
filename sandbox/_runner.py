"""The sandbox: one engine and one pre-linked interpreter, many isolated runs."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from . import _host
from ._engine import CompileHook, LoadInfo, Runtime, default_cache_dir, load_module, new_engine
from ._errors import HostError, SandboxInputError
from ._types import Limits, RunResult, Status, TestReport

GUEST_DIR = "/work"  # where the caller's folder appears in the guest ("." maps there too)
REPORT_DIR = "/.sandbox-report"  # the report channel's folder in the guest
REPORT_PATH = REPORT_DIR + "/channel"  # equal to _guest_runner.REPORT_PATH (a test checks)
_TICK = 0.01  # seconds per epoch tick
_DEFAULT_LIMITS = Limits()


class _Ticker:
    """Keeps the engine's epoch equal to elapsed monotonic time in ticks, while runs are in flight.

    Epoch ``e`` is reached only once ``clock() >= origin + e * tick``, and a late
    wake-up catches up every tick it missed at once, so a starved ticker makes
    a run stop late by its wake-up delay, never by an accumulated drift (the
    old fixed-increment ticker turned a 10 s timeout into 12.7 s under load).
    ``clock`` is the seam the tests drive.
    """

    def __init__(
        self,
        engine: wasmtime.Engine,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick: float = _TICK,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.tick = tick
        self._active = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._origin = clock()
        self.epoch = 0  # increments applied to the engine; only this object increments it
        self.worst_lag = 0.0  # the latest any tick was applied, in seconds (for tests and bench)

    def __enter__(self) -> None:
        with self._cond:
            if self._active == 0:
                # Idle time must not be caught up tick by tick: re-anchor the origin.
                self._origin = self._clock() - self.epoch * self.tick
            self._active += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="sandbox-epoch", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def __exit__(self, *_: object) -> None:
        with self._cond:
            self._active -= 1

    def catch_up(self) -> None:
        """Apply every tick that is due by the clock (the watchdog step)."""
        with self._cond:
            elapsed = self._clock() - self._origin
            due = int(elapsed / self.tick)
            if due > self.epoch:
                self.worst_lag = max(self.worst_lag, elapsed - (self.epoch + 1) * self.tick)
            while self.epoch < due:
                self._engine.increment_epoch()
                self.epoch += 1

    def arm(self, store: wasmtime.Store, deadline: float) -> None:
        """Make ``store`` trap at the first epoch check once ``clock()`` passes ``deadline``."""
        with self._cond:
            self.catch_up()
            target = math.ceil((deadline - self._origin) / self.tick)
            # Relative to the engine's epoch, which only moves under this lock.
            store.set_epoch_deadline(max(1, target - self.epoch))

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._active == 0:
                    if not self._cond.wait(timeout=30.0) and self._active == 0:
                        self._thread = None
                        return
                wake = self._origin + (self.epoch + 1) * self.tick
            time.sleep(max(0.0, wake - self._clock()))
            self.catch_up()


class _Natives:
    """One run's native WASI functions, through forwarders built on first use.

    Most runs never touch a file and never build them.
    """

    def __init__(self, linked: _Linked, store: wasmtime.Store) -> None:
        self._linked = linked
        self._store = store
        self.instance: wasmtime.Instance | None = None  # the interpreter, once instantiated
        self._funcs: dict[str, wasmtime.Func] = {}
        self._scratch: dict[str, wasmtime.Func] = {}
        self._scratch_memory: wasmtime.Memory | None = None

    def _forwarder(
        self, module: wasmtime.Module, names: Sequence[str], memory: wasmtime.Memory | None
    ) -> wasmtime.Instance:
        imports: list[wasmtime.Func | wasmtime.Memory] = [] if memory is None else [memory]
        for name in names:
            fn = self._linked.native.get(self._store, _host.WASI, name)
            assert isinstance(fn, wasmtime.Func)
            imports.append(fn)
        return wasmtime.Instance(self._store, module, imports)

    @staticmethod
    def _exports(
        instance: wasmtime.Instance, store: wasmtime.Store, names: Sequence[str]
    ) -> dict[str, wasmtime.Func]:
        out: dict[str, wasmtime.Func] = {}
        for name in names:
            fn = instance.exports(store)[name]
            assert isinstance(fn, wasmtime.Func)
            out[name] = fn
        return out

    def __call__(self, name: str) -> wasmtime.Func:
        if not self._funcs:
            assert self.instance is not None
            memory = self.instance.exports(self._store)["memory"]
            assert isinstance(memory, wasmtime.Memory)
            names = list(_host.DELEGATED)
            forwarder = self._forwarder(self._linked.trampoline, names, memory)
            self._funcs = self._exports(forwarder, self._store, names)
        return self._funcs[name]

    def scratch(self, name: str) -> tuple[wasmtime.Func, wasmtime.Memory]:
        if self._scratch_memory is None:
            names = list(_host.SCRATCH)
            forwarder = self._forwarder(self._linked.scratch, names, None)
            self._scratch = self._exports(forwarder, self._store, names)
            memory = forwarder.exports(self._store)["memory"]
            assert isinstance(memory, wasmtime.Memory)
            self._scratch_memory = memory
        return self._scratch[name], self._scratch_memory


@dataclass(frozen=True, slots=True)
class _Linked:
    """One engine flavour (fuel-metered or not), compiled and linked, ready to instantiate."""

    metered: bool
    engine: wasmtime.Engine
    pre: wasmtime.InstancePre
    trampoline: wasmtime.Module
    scratch: wasmtime.Module
    native: wasmtime.Linker
    ticker: _Ticker
    load_info: LoadInfo


class Sandbox:
    """A compiled CPython-for-WASI, ready to run untrusted code under limits.

    Build one per process and share it: construction compiles the interpreter
    or loads it from ``cache_dir``; each ``run`` then gets its own store,
    instance and WASI context, so runs in parallel threads share no lock.
    Runs that set ``Limits.fuel`` use a second, fuel-metered build of the
    interpreter, compiled (or loaded) on first use. ``on_compile`` is called
    with a one-line message before any compile starts (10-40 s); the same line
    goes to the ``sandbox`` logger at INFO.
    """

    def __init__(
        self,
        *,
        runtime: Runtime | None = None,
        cache_dir: Path | str | None = None,
        on_compile: CompileHook | None = None,
    ) -> None:
        self.runtime = runtime or Runtime.bundled()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._on_compile = on_compile
        self._flavours: dict[bool, _Linked] = {}
        self._flavour_lock = threading.Lock()  # only guards a first build; runs never take it
        self.load_info = self._flavour(False).load_info

    def _flavour(self, metered: bool) -> _Linked:
        linked = self._flavours.get(metered)
        if linked is not None:
            return linked
        with self._flavour_lock:
            if metered not in self._flavours:
                self._flavours[metered] = self._link(metered)
            return self._flavours[metered]

    def _link(self, metered: bool) -> _Linked:
        engine = new_engine(metered)
        module, info = load_module(
            engine, self.runtime, self.cache_dir, metered=metered, on_compile=self._on_compile
        )
        try:
            native = wasmtime.Linker(engine)
            native.define_wasi()
            shimmed = wasmtime.Linker(engine)
            shimmed.define_wasi()
            _host.define_shims(shimmed)
            pre = shimmed.instantiate_pre(module)
            trampoline = wasmtime.Module(engine, _host.trampoline_wat())
            scratch = wasmtime.Module(engine, _host.scratch_wat())
        except wasmtime.WasmtimeError as exc:
            raise HostError("linking the interpreter", str(exc)) from exc
        return _Linked(metered, engine, pre, trampoline, scratch, native, _Ticker(engine), info)

    def _channel_dir(self) -> Path:
        """An empty read-only folder holding the file the report channel opens."""
        folder = self.cache_dir / "report-channel"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "channel").touch(exist_ok=True)
        except OSError as exc:
            raise HostError("preparing the report channel", str(exc)) from exc
        return folder

    @property
    def loaded(self) -> LoadInfo:
        """How this sandbox's compiled module was obtained (cache hit, compile time)."""
        return self.load_info

    def run(
        self,
        code: str | None = None,
        *,
        argv: Sequence[str] | None = None,
        folder: Path | str | None = None,
        writable: bool = False,
        stdin: bytes = b"",
        env: Mapping[str, str] | None = None,
        limits: Limits = _DEFAULT_LIMITS,
        readonly_dirs: Mapping[str, Path | str] | None = None,
        report_channel: _host.ReportChannel | None = None,
    ) -> RunResult:
        """Run ``code`` (as ``python -c``) or ``argv`` (as ``python *argv``) in the sandbox.

        ``folder`` is the only host directory the guest sees, at ``/work`` and as
        its current directory, read-only unless ``writable``. ``readonly_dirs``
        maps further guest paths (absolute, e.g. ``/runners``) to host folders
        the guest may only read. The environment is empty unless ``env`` is
        given. ``report_channel``, when given, appears at ``REPORT_PATH``: the
        first open of it gives the test runner its private way back (see
        ``ReportChannel``). The result's ``status`` says how it ended.
        """
        args = _guest_argv(code, argv)
        host_dir = _check_folder(folder)
        mounts = _check_mounts(readonly_dirs)
        environment = _check_env(env)
        if not isinstance(stdin, bytes | bytearray):
            raise SandboxInputError("stdin", f"must be bytes, got {type(stdin).__name__}")

        linked = self._flavour(limits.fuel is not None)
        store = wasmtime.Store(linked.engine)
        fuel = limits.fuel or 0
        try:
            if linked.metered:
                store.set_fuel(fuel)
            store.set_limits(memory_size=limits.memory)
            wasi = wasmtime.WasiConfig()
            wasi.argv = [self.runtime.name, *args]
            wasi.env = [*self.runtime.env, *environment.items()]
            for guest_path, stdlib in self.runtime.mounts:  # the runtime's own files, read-only
                wasi.preopen_dir(str(stdlib), guest_path, False)
            if host_dir is not None:
                wasi.preopen_dir(str(host_dir), GUEST_DIR, writable)
                wasi.preopen_dir(str(host_dir), ".", writable)
            for guest_path, mount in mounts.items():
                wasi.preopen_dir(str(mount), guest_path, False)
            if report_channel is not None:
                # Preopens are numbered from 3 in the order given (the runtime's mounts
                # first); this one comes last.
                report_channel.dir_fd = (
                    3 + len(self.runtime.mounts) + (2 if host_dir is not None else 0) + len(mounts)
                )
                wasi.preopen_dir(str(self._channel_dir()), REPORT_DIR, False)
            store.set_wasi(wasi)
        except wasmtime.WasmtimeError as exc:
            raise HostError("configuring the run", str(exc)) from exc

        natives = _Natives(linked, store)
        start = time.monotonic()
        state = _host.RunState(
            natives=natives,
            deadline=start + limits.timeout,
            origin_ns=time.monotonic_ns(),
            stdin=bytes(stdin),
            output_cap=limits.output,
            max_files=limits.max_files,
            max_write_bytes=limits.max_write_bytes,
        )
        state.report = report_channel
        exit_code: int | None = None
        trap: wasmtime.Trap | wasmtime.WasmtimeError | None = None
        _host.bind(state)
        try:
            with linked.ticker:
                linked.ticker.arm(store, state.deadline)
                try:
                    instance = linked.pre.instantiate(store)
                    natives.instance = instance
                    start_fn = instance.exports(store)["_start"]
                    assert isinstance(start_fn, wasmtime.Func)
                    start_fn(store)
                    exit_code = 0
                except wasmtime.ExitTrap as exc:
                    exit_code = exc.code
                except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                    trap = exc
        finally:
            _host.bind(None)
        wall = time.monotonic() - start
        used = 0  # an unmetered run counts no fuel
        if linked.metered:
            try:
                used = fuel - store.get_fuel()
            except wasmtime.WasmtimeError:
                used = fuel
        status, detail = _classify(state, exit_code, trap, limits, wall)
        return RunResult(
            status=status,
            exit_code=exit_code,
            stdout=bytes(state.stdout),
            stderr=bytes(state.stderr),
            fuel_used=used,
            wall_time=wall,
            detail=detail,
            files_created=state.files_created,
            bytes_written=state.bytes_written,
        )

    def run_tests(
        self,
        folder: Path | str,
        *,
        framework: str = "auto",
        writable: bool = True,
        limits: Limits | None = None,
    ) -> TestReport:
        """Run a pure-Python project's tests in this sandbox and count the verdicts.

        ``framework`` "auto" uses pytest when the tests need it (the folder carries
        pytest, or has a ``conftest.py``, pytest configuration or a test importing
        pytest; the sandbox's pinned pytest is mounted read-only unless the project
        vendors its own), else a unittest runner that also calls plain ``test_*``
        functions and ``Test*`` classes needing no fixtures. Tests the sandbox cannot
        run (threads, C extensions, missing modules, fixtures) are ``COULD_NOT_RUN``,
        apart from failures and errors. The report's ``runner`` says which ran; it is
        ``complete`` only when the runner's one report arrived intact on its private
        channel and names every test the host found in the files, else ``problem``
        says why (ADR 0009). The folder is writable by default (the caller is
        expected to pass a copy), within the file and byte budgets of ``limits``.
        """
        from ._tests import run_tests_in

        return run_tests_in(self, folder, framework=framework, writable=writable, limits=limits)


def _classify(
    state: _host.RunState,
    exit_code: int | None,
    trap: wasmtime.Trap | wasmtime.WasmtimeError | None,
    limits: Limits,
    wall: float,
) -> tuple[Status, str]:
    if state.stop is not None and state.stop is not Status.DISK_QUOTA:
        return state.stop, state.detail
    if trap is not None:
        code = trap.trap_code if isinstance(trap, wasmtime.Trap) else None
        message = str(trap).splitlines()[0] if str(trap) else type(trap).__name__
        if code is wasmtime.TrapCode.OUT_OF_FUEL:
            return Status.OUT_OF_FUEL, f"used all {limits.fuel} units of fuel"
        if code is wasmtime.TrapCode.INTERRUPT:
            return (
                Status.DEADLINE,
                f"still running after {limits.timeout:g}s (stopped at {wall:.2f}s)",
            )
        if "memory" in message.lower() or _memory_error(state.stderr):
            return Status.MEMORY, f"exceeded the {limits.memory}-byte memory cap ({message})"
        if code is wasmtime.TrapCode.STACK_OVERFLOW:
            return (
                Status.CRASH,
                "wasm stack overflow (recursion too deep for the interpreter's stack)",
            )
        return Status.CRASH, f"the interpreter trapped: {message}"
    if state.stop is Status.DISK_QUOTA:
        return state.stop, state.detail
    if exit_code == 0:
        return Status.OK, ""
    if _memory_error(state.stderr):
        return Status.MEMORY, f"MemoryError under the {limits.memory}-byte memory cap"
    return Status.EXIT, f"exited with code {exit_code}"


def _memory_error(stderr: bytearray) -> bool:
    # The guest's last word: CPython prints the exception type on the final line.
    lines = bytes(stderr).rstrip().splitlines()
    return bool(lines) and (
        lines[-1].startswith(b"MemoryError") or b"Cannot allocate memory" in lines[-1]
    )


def _guest_argv(code: str | None, argv: Sequence[str] | None) -> list[str]:
    if (code is None) == (argv is None):
        raise SandboxInputError("code/argv", "give exactly one of code or argv")
    if code is not None:
        if not isinstance(code, str):
            raise SandboxInputError("code", f"must be a str, got {type(code).__name__}")
        return ["-c", code]
    assert argv is not None
    if isinstance(argv, str) or not all(isinstance(a, str) for a in argv):
        raise SandboxInputError("argv", "must be a sequence of str (the interpreter's arguments)")
    if not argv:
        raise SandboxInputError(
            "argv", "must not be empty (the interactive prompt has no terminal)"
        )
    return list(argv)


def _check_folder(folder: Path | str | None) -> Path | None:
    if folder is None:
        return None
    path = Path(folder)
    if not path.is_dir():
        raise SandboxInputError("folder", f"not a directory: {path}")
    if not os.access(path, os.R_OK | os.X_OK):
        raise SandboxInputError("folder", f"not readable: {path}")
    return path.resolve()


def _check_mounts(readonly_dirs: Mapping[str, Path | str] | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for guest_path, host in (readonly_dirs or {}).items():
        if (
            not isinstance(guest_path, str)
            or not guest_path.startswith("/")
            or guest_path.rstrip("/") in ("", GUEST_DIR, REPORT_DIR)
            or ".." in guest_path.split("/")
            or "\0" in guest_path
        ):
            raise SandboxInputError(
                "readonly_dirs", f"guest path must be absolute and not {GUEST_DIR}: {guest_path!r}"
            )
        checked = _check_folder(host)
        assert checked is not None
        out[guest_path.rstrip("/")] = checked
    return out


def _check_env(env: Mapping[str, str] | None) -> dict[str, str]:
    if env is None:
        return {}
    out: dict[str, str] = {}
    for key, value in env.items():
        if (
            not isinstance(key, str)
            or not isinstance(value, str)
            or not key
            or "=" in key
            or "\0" in key + value
        ):
            raise SandboxInputError("env", f"bad variable {key!r}={value!r}")
        out[key] = value
    return out
