"""The interpreter's integrity check and the compiled-module cache."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import shutil
from pathlib import Path

import pytest

from sandbox import (
    Limits,
    Runtime,
    RuntimeIntegrityError,
    Sandbox,
    SandboxInputError,
    Status,
    parse_duration,
    parse_size,
)
from sandbox._engine import cache_key


def test_wrong_hash_is_refused_before_anything_runs(tmp_path: Path) -> None:
    runtime = Runtime(path=Runtime.bundled().path, sha256="0" * 64)
    with pytest.raises(RuntimeIntegrityError) as caught:
        Sandbox(runtime=runtime, cache_dir=tmp_path)
    assert caught.value.expected == "0" * 64 and caught.value.actual == Runtime.bundled().sha256


def test_missing_interpreter_is_named(tmp_path: Path) -> None:
    with pytest.raises(RuntimeIntegrityError, match="cannot read"):
        Sandbox(runtime=Runtime(path=tmp_path / "nope.wasm", sha256="0" * 64), cache_dir=tmp_path)


def test_cached_entry_is_loaded_and_tampered_entry_rebuilt(
    box: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Start from the session's entry so that only the rebuild pays for a compile.
    shutil.copy(box.load_info.cache_path, tmp_path / box.load_info.cache_path.name)
    sidecar = box.load_info.cache_path.with_suffix(".json")
    shutil.copy(sidecar, tmp_path / sidecar.name)

    warm = Sandbox(
        runtime=box.runtime, cache_dir=tmp_path, on_compile=pytest.fail
    )  # a cache hit announces nothing
    assert warm.load_info.from_cache
    assert warm.run("print(1)").stdout == b"1\n"

    artefact = tmp_path / box.load_info.cache_path.name
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artefact.write_bytes(bytes(data))
    notices: list[str] = []
    with caplog.at_level(logging.INFO, logger="sandbox"):
        rebuilt = Sandbox(runtime=box.runtime, cache_dir=tmp_path, on_compile=notices.append)
    assert not rebuilt.load_info.from_cache
    assert "SHA-256" in rebuilt.load_info.rebuilt_reason
    # The compile was announced before it started, with why the entry was not used.
    assert len(notices) == 1 and f"compiling the {box.runtime.name} interpreter" in notices[0]
    assert "cache entry not used: artefact does not match" in notices[0]
    assert notices[0] in caplog.messages
    assert any(m.startswith("sandbox: compiled in") for m in caplog.messages)
    assert rebuilt.run("print(2)").stdout == b"2\n"
    assert Sandbox(runtime=box.runtime, cache_dir=tmp_path).load_info.from_cache


def test_foreign_sidecar_key_is_not_trusted(box: Sandbox, tmp_path: Path) -> None:
    shutil.copy(box.load_info.cache_path, tmp_path / box.load_info.cache_path.name)
    sidecar = tmp_path / box.load_info.cache_path.with_suffix(".json").name
    meta = json.loads(box.load_info.cache_path.with_suffix(".json").read_text())
    meta["key"] = meta["key"].replace("wasmtime=", "wasmtime=0.0.0-")
    sidecar.write_text(json.dumps(meta))
    rebuilt = Sandbox(runtime=box.runtime, cache_dir=tmp_path)
    assert not rebuilt.load_info.from_cache and "another key" in rebuilt.load_info.rebuilt_reason


def test_fuel_metering_is_its_own_cache_entry() -> None:
    # consume_fuel changes the generated code, so the two flavours never share an artefact.
    sha = Runtime.bundled().sha256
    assert cache_key(sha, metered=True) != cache_key(sha, metered=False)
    assert "consume_fuel=1" in cache_key(sha, metered=True)
    assert "consume_fuel=0" in cache_key(sha, metered=False)
    assert f"wasmtime={importlib.metadata.version('wasmtime')}" in cache_key(sha)


def test_only_runs_that_set_fuel_are_metered(box: Sandbox) -> None:
    plain = box.run("x = sum(range(10_000))")
    metered = box.run("x = sum(range(10_000))", limits=Limits(fuel=10**10))
    assert plain.ok and metered.ok
    assert plain.fuel_used == 0 and 0 < metered.fuel_used < 10**10
    # The metered flavour was loaded or compiled into its own entry beside the default one.
    metered_entry = box._flavour(True).load_info.cache_path
    assert metered_entry != box.load_info.cache_path and metered_entry.is_file()


@pytest.mark.parametrize(
    ("text", "size"), [("4096", 4096), ("64M", 64 << 20), ("1GiB", 1 << 30), ("2k", 2048)]
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "seconds"), [("5s", 5.0), ("500ms", 0.5), ("2m", 120.0), ("1.5", 1.5)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "12Q", "-1M", "lots"])
def test_bad_size_is_named(text: str) -> None:
    with pytest.raises(SandboxInputError, match="--memory"):
        parse_size(text, setting="--memory")


def test_a_runtime_brings_its_own_read_only_folders_and_env(box: Sandbox, tmp_path: Path) -> None:
    # A build whose stdlib is not embedded needs it mounted; same module, so a cache hit.
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "extra_mod.py").write_text("VALUE = 42\n")
    bundled = Runtime.bundled()
    runtime = Runtime(
        path=bundled.path,
        sha256=bundled.sha256,
        name=bundled.name,
        mounts=(("/opt/extra", lib),),
        env=(("PYTHONPATH", "/opt/extra"),),
    )
    other = Sandbox(runtime=runtime, cache_dir=box.cache_dir, on_compile=pytest.fail)
    result = other.run(
        "import extra_mod, os\n"
        "print(extra_mod.VALUE, os.environ['PYTHONPATH'])\n"
        "open('/opt/extra/new.py', 'w')\n"
    )
    assert result.stdout == b"42 /opt/extra\n"
    assert result.status is Status.EXIT and b"Error" in result.stderr  # read-only mount
    assert sorted(p.name for p in lib.iterdir()) == ["extra_mod.py"]
