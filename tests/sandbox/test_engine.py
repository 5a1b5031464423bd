"""The interpreter's integrity check and the compiled-module cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sandbox import (
    Runtime,
    RuntimeIntegrityError,
    Sandbox,
    SandboxInputError,
    parse_duration,
    parse_size,
)


def test_wrong_hash_is_refused_before_anything_runs(tmp_path: Path) -> None:
    runtime = Runtime(path=Runtime.bundled().path, sha256="0" * 64)
    with pytest.raises(RuntimeIntegrityError) as caught:
        Sandbox(runtime=runtime, cache_dir=tmp_path)
    assert caught.value.expected == "0" * 64 and caught.value.actual == Runtime.bundled().sha256


def test_missing_interpreter_is_named(tmp_path: Path) -> None:
    with pytest.raises(RuntimeIntegrityError, match="cannot read"):
        Sandbox(runtime=Runtime(path=tmp_path / "nope.wasm", sha256="0" * 64), cache_dir=tmp_path)


def test_cached_entry_is_loaded_and_tampered_entry_rebuilt(box: Sandbox, tmp_path: Path) -> None:
    # Start from the session's entry so that only the rebuild pays for a compile.
    shutil.copy(box.load_info.cache_path, tmp_path / box.load_info.cache_path.name)
    sidecar = box.load_info.cache_path.with_suffix(".json")
    shutil.copy(sidecar, tmp_path / sidecar.name)

    warm = Sandbox(cache_dir=tmp_path)
    assert warm.load_info.from_cache
    assert warm.run("print(1)").stdout == b"1\n"

    artefact = tmp_path / box.load_info.cache_path.name
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artefact.write_bytes(bytes(data))
    rebuilt = Sandbox(cache_dir=tmp_path)
    assert not rebuilt.load_info.from_cache
    assert "SHA-256" in rebuilt.load_info.rebuilt_reason
    assert rebuilt.run("print(2)").stdout == b"2\n"
    assert Sandbox(cache_dir=tmp_path).load_info.from_cache


def test_foreign_sidecar_key_is_not_trusted(box: Sandbox, tmp_path: Path) -> None:
    shutil.copy(box.load_info.cache_path, tmp_path / box.load_info.cache_path.name)
    sidecar = tmp_path / box.load_info.cache_path.with_suffix(".json").name
    meta = json.loads(box.load_info.cache_path.with_suffix(".json").read_text())
    meta["key"] = meta["key"].replace("wasmtime=", "wasmtime=0.0.0-")
    sidecar.write_text(json.dumps(meta))
    rebuilt = Sandbox(cache_dir=tmp_path)
    assert not rebuilt.load_info.from_cache and "another key" in rebuilt.load_info.rebuilt_reason


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
