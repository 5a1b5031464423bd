"""The sandbox: one engine and one pre-linked interpreter, many isolated runs."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from . import _host
from ._engine import CompileHook, LoadInfo, Runtime, default_cache_dir, load_module, new_engine
from ._errors import HostError, SandboxInputError
from ._types import Limits, RunResult, Status, TestReport

GUEST_DIR = "/work"  # where the caller's folder appears in the guest ("." maps there too)
_TICK = 0.01  # seconds per epoch tick
_DEFAULT_LIMITS = Limits()


class _Ticker:
    """Advances the engine's epoch while runs are in flight, and sleeps otherwise."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._engine = engine
        self._active = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> None:
        with self._cond:
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

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._active == 0:
                    if not self._cond.wait(timeout=30.0) and self._active == 0:
                        self._thread = None
                        return
            time.sleep(_TICK)
            self._engine.increment_epoch()


@dataclass(frozen=True, slots=True)
class _Linked:
    """One engine flavour (fuel-metered or not), compiled and linked, ready to instantiate."""

    metered: bool
    engine: wasmtime.Engine
    pre: wasmtime.InstancePre
    trampoline: wasmtime.Module
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
        except wasmtime.WasmtimeError as exc:
            raise HostError("linking the interpreter", str(exc)) from exc
        return _Linked(metered, engine, pre, trampoline, native, _Ticker(engine), info)

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
    ) -> RunResult:
        """Run ``code`` (as ``python -c``) or ``argv`` (as ``python *argv``) in the sandbox.

        ``folder`` is the only host directory the guest sees, at ``/work`` and as
        its current directory, read-only unless ``writable``. The environment is
        empty unless ``env`` is given. The result's ``status`` says how it ended.
        """
        args = _guest_argv(code, argv)
        host_dir = _check_folder(folder)
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
            store.set_wasi(wasi)
        except wasmtime.WasmtimeError as exc:
            raise HostError("configuring the run", str(exc)) from exc

        natives: dict[str, wasmtime.Func] = {}
        instance: wasmtime.Instance | None = None

        def native(name: str) -> wasmtime.Func:
            # Built on first use: most runs never touch a file and skip this.
            if not natives:
                assert instance is not None
                memory = instance.exports(store)["memory"]
                imports: list[wasmtime.Func | wasmtime.Memory] = []
                for wasi_name in _host.DELEGATED:
                    fn = linked.native.get(store, _host.WASI, wasi_name)
                    assert isinstance(fn, wasmtime.Func)
                    imports.append(fn)
                assert isinstance(memory, wasmtime.Memory)
                forwarder = wasmtime.Instance(store, linked.trampoline, [memory, *imports])
                for wasi_name in _host.DELEGATED:
                    fn = forwarder.exports(store)[wasi_name]
                    assert isinstance(fn, wasmtime.Func)
                    natives[wasi_name] = fn
            return natives[name]

        start = time.monotonic()
        state = _host.RunState(
            natives=native,
            deadline=start + limits.timeout,
            origin_ns=time.monotonic_ns(),
            stdin=bytes(stdin),
            output_cap=limits.output,
            max_files=limits.max_files,
            max_write_bytes=limits.max_write_bytes,
        )
        # Epoch ticks past the deadline; the +1 absorbs the partial tick we start in.
        store.set_epoch_deadline(math.ceil(limits.timeout / _TICK) + 1)
        exit_code: int | None = None
        trap: wasmtime.Trap | wasmtime.WasmtimeError | None = None
        _host.bind(state)
        try:
            with linked.ticker:
                try:
                    instance = linked.pre.instantiate(store)
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

        ``framework`` "auto" uses pytest when the folder carries it (importable from
        the folder) and a unittest runner otherwise, which also calls plain
        ``test_*`` functions and ``Test*`` classes that need no fixtures. Tests the
        sandbox cannot run (threads, C extensions, missing modules, fixtures) are
        reported as ``COULD_NOT_RUN``, apart from failures and errors. The folder
        is writable by default (the caller is expected to pass a copy), within the
        file and byte budgets of ``limits``.
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
