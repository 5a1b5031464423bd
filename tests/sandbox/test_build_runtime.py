"""The optimised runtime: its build's manifest, the loader's checks, and (if built) the build.

Most tests build a small folder in the manifest's layout by hand, so they run
without the 10-minute compile; the last ones load a real build made by
``python -m sandbox.build_runtime`` and are skipped, saying so, when none exists.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from sandbox import Runtime, Sandbox, SandboxInputError, build_runtime
from sandbox._build_layout import BUILD_NAME, MANIFEST_FORMAT, MANIFEST_NAME
from sandbox._errors import RuntimeIntegrityError
from swarm.cli import main

WASM = b"\0asm\1\0\0\0 not a real interpreter, only bytes to hash"


def fake_build(root: Path, **overrides: object) -> Path:
    """A folder laid out as build_runtime installs one, with ``overrides`` in its manifest."""
    stdlib = root / build_runtime.STDLIB_DIR
    stdlib.mkdir(parents=True)
    (stdlib / "os.py").write_text("# the landmark\n")
    (root / "python.wasm").write_bytes(WASM)
    manifest: dict[str, object] = {
        "format": MANIFEST_FORMAT,
        "name": BUILD_NAME,
        "wasm": "python.wasm",
        "wasm_sha256": hashlib.sha256(WASM).hexdigest(),
        "mounts": [[build_runtime.GUEST_STDLIB, build_runtime.STDLIB_DIR]],
        "env": [],
    }
    manifest.update(overrides)
    (root / MANIFEST_NAME).write_text(json.dumps(manifest))
    return root


def test_from_build_reads_the_manifest_and_verifies_the_module(tmp_path: Path) -> None:
    runtime = Runtime.from_build(fake_build(tmp_path / "b"))
    root = (tmp_path / "b").resolve()
    assert runtime.path == root / "python.wasm"
    assert runtime.name == BUILD_NAME
    assert runtime.mounts == ((build_runtime.GUEST_STDLIB, root / build_runtime.STDLIB_DIR),)
    assert runtime.read_verified() == WASM


def test_a_changed_module_is_refused_at_load(tmp_path: Path) -> None:
    runtime = Runtime.from_build(fake_build(tmp_path / "b"))
    (tmp_path / "b" / "python.wasm").write_bytes(WASM + b"!")
    with pytest.raises(RuntimeIntegrityError, match="does not match") as caught:
        runtime.read_verified()
    assert caught.value.expected == hashlib.sha256(WASM).hexdigest()
    assert caught.value.actual == hashlib.sha256(WASM + b"!").hexdigest()


def test_a_pinned_hash_must_match_the_manifest(tmp_path: Path) -> None:
    folder = fake_build(tmp_path / "b")
    assert Runtime.from_build(folder, sha256=hashlib.sha256(WASM).hexdigest().upper())
    with pytest.raises(RuntimeIntegrityError, match="another module than the pinned one"):
        Runtime.from_build(folder, sha256="0" * 64)


def test_a_folder_without_a_build_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(RuntimeIntegrityError, match=r"python -m sandbox\.build_runtime"):
        Runtime.from_build(tmp_path)
    with pytest.raises(RuntimeIntegrityError, match="no manifest"):
        Runtime.optimised(tmp_path)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"format": "something-else/1"}, "is not a swarm-sandbox-runtime/1 manifest"),
        ({"wasm": "../python.wasm"}, "'wasm' must be a file name"),
        ({"wasm": "/etc/passwd"}, "'wasm' must be a file name"),
        ({"wasm_sha256": "abc"}, "is not a SHA-256"),
        ({"name": "../escape"}, "'name' must be a plain name"),
        ({"mounts": [["/lib/python3.11", ".."]]}, "folder inside the build"),
        ({"mounts": [["/lib/python3.11", "/etc"]]}, "folder inside the build"),
        ({"mounts": [["lib", "lib/python3.11"]]}, "absolute guest path"),
        ({"mounts": [["/x/../y", "lib/python3.11"]]}, "absolute guest path"),
        ({"mounts": "lib"}, "'mounts' must be"),
        ({"env": [["A"]]}, "'env' must be a list of"),
    ],
)
def test_a_manifest_that_reaches_outside_its_build_is_refused(
    tmp_path: Path, overrides: dict[str, object], problem: str
) -> None:
    with pytest.raises(RuntimeIntegrityError, match=problem.replace("(", r"\(")):
        Runtime.from_build(fake_build(tmp_path / "b", **overrides))


def test_a_mount_symlinked_out_of_the_build_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = fake_build(tmp_path / "b", mounts=[["/lib/python3.11", "lib/link"]])
    os.symlink(outside, folder / "lib" / "link")
    with pytest.raises(RuntimeIntegrityError, match="folder inside the build"):
        Runtime.from_build(folder)


def test_the_setting_names_bundled_optimised_or_a_folder(tmp_path: Path) -> None:
    assert Runtime.from_setting("bundled") == Runtime.bundled()
    assert Runtime.from_setting("") == Runtime.bundled()
    folder = fake_build(tmp_path / "runtimes" / BUILD_NAME)
    assert Runtime.from_setting("optimised", tmp_path) == Runtime.from_build(folder)
    assert Runtime.from_setting(str(folder)) == Runtime.from_build(folder)
    with pytest.raises(SandboxInputError, match="auto, bundled, optimised or a build folder"):
        Runtime.from_setting("fastest")


def test_auto_is_the_optimised_build_where_built_else_the_bundled_one(tmp_path: Path) -> None:
    assert Runtime.auto(tmp_path) == Runtime.bundled()  # nothing built here
    assert Runtime.from_setting("auto", tmp_path) == Runtime.bundled()
    folder = fake_build(tmp_path / "runtimes" / BUILD_NAME)
    assert Runtime.auto(tmp_path) == Runtime.from_build(folder)
    assert Runtime.from_setting("auto", tmp_path) == Runtime.from_build(folder)


def test_auto_refuses_a_damaged_build_rather_than_falling_back(tmp_path: Path) -> None:
    folder = fake_build(tmp_path / "runtimes" / BUILD_NAME, wasm_sha256="not a hash")
    with pytest.raises(RuntimeIntegrityError, match="is not a SHA-256"):
        Runtime.auto(tmp_path)
    fake_build(tmp_path / "other" / "runtimes" / BUILD_NAME)
    runtime = Runtime.auto(tmp_path / "other")
    (tmp_path / "other" / "runtimes" / BUILD_NAME / "python.wasm").write_bytes(WASM + b"!")
    with pytest.raises(RuntimeIntegrityError, match="does not match"):
        Sandbox(runtime=runtime, cache_dir=tmp_path / "cache")
    assert folder.is_dir()


def test_the_cli_refuses_an_unknown_or_missing_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "x.py"
    script.write_text("print('ran')\n")
    assert main(["sandbox", "run", str(script), "--runtime", "fastest"]) == 2
    assert "bundled, optimised or a build folder's path, got 'fastest'" in capsys.readouterr().err
    # The setting also comes from the environment; an empty cache has no optimised build.
    monkeypatch.setenv("SWARM_SANDBOX_RUNTIME", "optimised")
    assert main(["sandbox", "run", str(script), "--cache-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "no manifest" in err and "python -m sandbox.build_runtime" in err


def test_check_build_accepts_an_intact_build_and_names_what_is_off(tmp_path: Path) -> None:
    folder = fake_build(tmp_path / "b")
    assert build_runtime.check_build(folder) == ""
    (folder / "python.wasm").write_bytes(b"changed")
    assert "does not hash to the manifest" in build_runtime.check_build(folder)
    (folder / MANIFEST_NAME).unlink()
    assert "no readable" in build_runtime.check_build(folder)


def test_an_intact_build_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = fake_build(tmp_path / "b")
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert build_runtime.main(["--out", str(folder)]) == 0
    assert "an intact build already" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_missing_tools_are_refused_before_anything_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "out"
    assert build_runtime.main(["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "tools: missing: clang (apt-get install clang)" in err
    assert "wasm-ld (apt-get install lld)" in err and "make (apt-get install make)" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [empty]


def test_a_folder_that_is_not_a_build_is_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert build_runtime.main(["--out", str(mine)]) == 2
    assert "exists and is not a build (no manifest.json); refusing" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_make_var_reads_configure_output(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text("OPT=\t\t-DNDEBUG -g -fwrapv -O3 -Wall\nOPTX=no\n")
    assert build_runtime.make_var(makefile, "OPT") == "-DNDEBUG -g -fwrapv -O3 -Wall"
    assert build_runtime.make_var(makefile, "CFLAGS") == ""


# --- a real build, if one was made on this machine ------------------------------------------


@pytest.fixture(scope="module")
def optimised(cache_dir: Path) -> Sandbox:
    folder = cache_dir / "runtimes" / BUILD_NAME
    why = build_runtime.check_build(folder)
    if why:
        pytest.skip(f"no optimised build ({why}); make one with python -m sandbox.build_runtime")
    return Sandbox(runtime=Runtime.optimised(cache_dir), cache_dir=cache_dir)


def test_the_real_build_is_an_optimised_3_11(optimised: Sandbox) -> None:
    code = (
        "import sys, sysconfig\n"
        "print(sys.version_info[:2], sysconfig.get_config_var('OPT'))\n"
        "import json; print(json.__cached__)\n"
    )
    result = optimised.run(code)
    assert result.ok, result.detail
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("(3, 11)") and "-O3" in lines[0].split()
    assert lines[1] == "/lib/python3.11/json/__pycache__/__init__.cpython-311.pyc"


def test_the_cli_runs_on_the_real_build(
    optimised: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "x.py"
    script.write_text("import sys; print(sys.version_info[:2])\n")
    cache = ["--cache-dir", str(optimised.cache_dir)]
    assert main(["sandbox", "run", str(script), "--runtime", "optimised", *cache]) == 0
    assert capsys.readouterr().out == "(3, 11)\n"


def test_the_real_build_reproduces_the_known_module(optimised: Sandbox) -> None:
    manifest = json.loads((optimised.runtime.path.parent / MANIFEST_NAME).read_text())
    # Same tarball, same Debian toolchain: the same bytes (a mismatch names another toolchain).
    assert manifest["wasm_sha256"] == build_runtime.KNOWN_WASM_SHA256, manifest["compilers"]
    assert manifest["source"]["sha256"] == build_runtime.ORIG_SHA256
    assert "-O3" in manifest["flags"]["OPT"].split()


def test_the_real_build_cannot_write_its_stdlib(optimised: Sandbox) -> None:
    result = optimised.run("open('/lib/python3.11/os.py', 'a').write('x')")
    assert not result.ok
    assert "PermissionError" in result.stderr.decode() or "OSError" in result.stderr.decode()
