"""Build the optimised interpreter: CPython 3.11 for WASI at ``-O3``, from Debian packages only.

``python -m sandbox.build_runtime [--out DIR]`` downloads Debian bookworm's
``python3.11`` source (the upstream tarball, checked against a pinned SHA-256),
builds it for wasm32-wasi with Debian's clang 14, lld and wasi-libc, and
installs into ``DIR`` (default: the sandbox cache's ``runtimes/cpython-3.11-o3``):

    python.wasm                   the interpreter
    lib/python3.11/               its stdlib, precompiled (.pyc, unchecked-hash)
    lib/python3.11/lib-dynload/   the build's sysconfigdata
    manifest.json                 hashes, compiler versions, flags, guest mounts

``Runtime.from_build(DIR)`` loads it. The run is idempotent (an intact build is
left alone; ``--force`` rebuilds) and takes ~8-15 min on 2 cores. A missing
tool is refused before anything is downloaded, naming the Debian package.
This module uses the standard library only; it needs root for ``apt-get``
only if the source tarball is not already in the work folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._build_layout import BUILD_NAME, MANIFEST_FORMAT, MANIFEST_NAME

PYTHON_VERSION = "3.11.2"
DEBIAN_SOURCE = "python3.11"
ORIG_TARBALL = "python3.11_3.11.2.orig.tar.gz"
# The upstream Python-3.11.2.tgz as Debian bookworm ships it; apt also checks
# it against the signed .dsc, this pins it across Debian revisions.
ORIG_SHA256 = "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849"
# Where the build's debug info says the sources were, and the build stamp
# sys.version shows (3.11.2's release day): with both fixed, the same tarball
# and toolchain give the same python.wasm in any folder on any day (clang 14
# ignores SOURCE_DATE_EPOCH, so getbuildinfo.c's DATE and TIME are set here).
SOURCE_PREFIX = "/usr/src/python3.11"
BUILD_DATE, BUILD_TIME = "Feb  8 2023", "00:00:00"
# python.wasm as built from ORIG_SHA256 with bookworm's clang/lld 1:14.0-55.7~deb12u1
# and wasi-libc 0.0~git20220510.9886d3d-2: reproduced in two folders at two times.
# Another toolchain gives another module; the build says whether it reproduced this one.
KNOWN_WASM_SHA256 = "0c5f09293cc3b1cf995bbded38be186568d5e9724f2f0580d81f880c5a3dff69"
GUEST_STDLIB = "/lib/python3.11"
STDLIB_DIR = "lib/python3.11"
# Parts of Lib/ a test run never imports: CPython's own tests (lib2to3's test
# data is not even valid Python 3), GUI toolkits, and ensurepip's wheels.
_STDLIB_OMIT = ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3/tests")
_DEB_SRC = "/etc/apt/sources.list.d/swarm-build-runtime-src.sources"
_DEB_SRC_TEXT = (
    "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n"
    "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
)


class BuildError(Exception):
    """The build cannot start or did not finish; ``stage`` says where, the message what."""

    def __init__(self, stage: str, problem: str) -> None:
        super().__init__(f"build_runtime: {stage}: {problem}")
        self.stage = stage
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Toolchain:
    """The host tools the build uses, found on this machine."""

    clang: str
    wasm_ld: str
    ar: str
    ranlib: str
    make: str
    build_python: str  # a host CPython 3.11: configure's build Python and compileall


def default_out_dir() -> Path:
    """``$SWARM_CACHE_DIR`` (or the user's sandbox cache) ``/runtimes/cpython-3.11-o3``."""
    configured = os.environ.get("SWARM_CACHE_DIR")
    if configured:
        return Path(configured) / "runtimes" / BUILD_NAME
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swarm" / "sandbox" / "runtimes" / BUILD_NAME


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def progress(message: str) -> None:
    """One progress line on stderr, timestamped, flushed at once."""
    print(f"[build_runtime {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def find_toolchain() -> Toolchain:
    """The tools, or a BuildError listing every missing one with its Debian package."""
    missing: list[str] = []

    def tool(names: Sequence[str], package: str) -> str:
        for name in names:
            found = shutil.which(name)
            if found:
                return found
        missing.append(f"{names[0]} (apt-get install {package})")
        return ""

    tools = Toolchain(
        clang=tool(("clang", "clang-14"), "clang"),
        wasm_ld=tool(("wasm-ld", "wasm-ld-14"), "lld"),
        ar=tool(("llvm-ar", "llvm-ar-14"), "llvm"),
        ranlib=tool(("llvm-ranlib", "llvm-ranlib-14"), "llvm"),
        make=tool(("make",), "make"),
        build_python=_find_python311(missing),
    )
    if not Path("/usr/lib/wasm32-wasi/libc.a").is_file():
        missing.append("wasi-libc's /usr/lib/wasm32-wasi/libc.a (apt-get install wasi-libc)")
    if tools.clang and not _wasm_builtins(tools.clang):
        missing.append("clang's wasm32 builtins (apt-get install libclang-rt-dev-wasm32)")
    if missing:
        raise BuildError("tools", "missing: " + "; ".join(missing))
    return tools


def _find_python311(missing: list[str]) -> str:
    candidates = [sys.executable] if sys.version_info[:2] == (3, 11) else []
    candidates += [p for p in (shutil.which("python3.11"),) if p]
    for candidate in candidates:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == "True":
            return candidate
    missing.append("a host python3.11 (apt-get install python3.11)")
    return ""


def _wasm_builtins(clang: str) -> bool:
    printed = subprocess.run(
        [clang, "--target=wasm32-wasi", "-print-libgcc-file-name"],
        capture_output=True,
        text=True,
        check=False,
    )
    return printed.returncode == 0 and Path(printed.stdout.strip()).is_file()


def fetch_source(work: Path) -> Path:
    """The orig tarball in ``work``, downloaded with ``apt-get source`` if absent; hash-checked."""
    tarball = work / ORIG_TARBALL
    if not tarball.is_file():
        progress(f"downloading Debian's {DEBIAN_SOURCE} source (apt-get source --download-only)")
        _apt_source(work)
    actual = sha256_file(tarball)
    if actual != ORIG_SHA256:
        raise BuildError("source", f"{tarball} has SHA-256 {actual}, expected {ORIG_SHA256}")
    return tarball


def _apt_source(work: Path) -> None:
    if not shutil.which("apt-get"):
        raise BuildError("source", f"apt-get not found; put {ORIG_TARBALL} in {work}")
    added = not _has_deb_src()
    try:
        if added:
            progress(f"no deb-src entry for bookworm: adding {_DEB_SRC} for this download")
            Path(_DEB_SRC).write_text(_DEB_SRC_TEXT)
            _run(["apt-get", "update", "-q"], "apt-get update", work)
        _run(["apt-get", "source", "--download-only", DEBIAN_SOURCE], "apt-get source", work)
    except OSError as exc:
        raise BuildError("source", f"cannot add {_DEB_SRC}: {exc} (run as root)") from exc
    finally:
        if added:
            Path(_DEB_SRC).unlink(missing_ok=True)
            progress(f"removed {_DEB_SRC}")
    if not (work / ORIG_TARBALL).is_file():
        raise BuildError("source", f"apt-get source did not produce {ORIG_TARBALL}")


def _has_deb_src() -> bool:
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    pattern = re.compile(r"^\s*(deb-src\s|Types:.*\bdeb-src\b)", re.MULTILINE)
    for source in sources:
        if source.suffix not in (".list", ".sources") or not source.is_file():
            continue
        text = source.read_text(errors="replace")
        if pattern.search(text) and "bookworm" in text:
            return True
    return False


def _run(argv: Sequence[str], what: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise BuildError(what, f"exit {done.returncode}:\n" + "\n".join(tail))
    return done.stdout


def build_env(tools: Toolchain) -> dict[str, str]:
    """The environment configure and make run in (the cross-compile settings)."""
    env = dict(os.environ)
    env.update(
        CONFIG_SITE="../../Tools/wasm/config.site-wasm32-wasi",
        CC=f"{tools.clang} --target=wasm32-wasi",
        CPP=f"{tools.clang} --target=wasm32-wasi -E",
        AR=tools.ar,
        RANLIB=tools.ranlib,
        # configure would run test programs through this; the guest cannot run here.
        HOSTRUNNER="true",
        # No host libraries may leak into a wasm build.
        PKG_CONFIG_PATH="",
        PKG_CONFIG_LIBDIR="/nonexistent",
    )
    return env


def compile_source(tarball: Path, work: Path, tools: Toolchain, jobs: int) -> Path:
    """Unpack, configure and make; the build folder (``builddir/wasi``) on success."""
    source = work / f"Python-{PYTHON_VERSION}"
    if source.exists():
        shutil.rmtree(source)  # a half-finished earlier build is not resumed
    progress(f"unpacking {tarball.name}")
    with tarfile.open(tarball) as archive:
        archive.extractall(work, filter="data")
    (source / "Modules" / "Setup.local").touch()
    build = source / "builddir" / "wasi"
    build.mkdir(parents=True)
    env = build_env(tools)
    triple = _run([str(source / "config.guess")], "config.guess", build).strip()
    progress("configuring (about 1 min)")
    _run(
        [
            "../../configure",
            "-C",
            "--host=wasm32-unknown-wasi",
            f"--build={triple}",
            f"--with-build-python={tools.build_python}",
        ],
        "configure",
        build,
        env,
    )
    opt = make_var(build / "Makefile", "OPT")
    if "-O3" not in opt.split():
        raise BuildError("configure", f"OPT is {opt!r}, expected it to contain -O3")
    _make(build, tools, jobs, env)
    return build


def make_var(makefile: Path, name: str) -> str:
    """The value of ``NAME=`` as configure wrote it into a Makefile ('' if absent)."""
    match = re.search(rf"^{name}=[ \t]*(.*)$", makefile.read_text(), re.MULTILINE)
    return match.group(1).strip() if match else ""


def reproducible_cflags(source: Path) -> str:
    """Make's ``CFLAGS_NODIST``: source paths and the build stamp fixed (see SOURCE_PREFIX).

    Make pastes it into each recipe's shell line, whose quote removal leaves
    ``-DDATE="Feb  8 2023"``; configure never sees it.
    """
    return (
        f"-ffile-prefix-map={source.resolve()}={SOURCE_PREFIX} "
        f'-DDATE="\\"{BUILD_DATE}\\"" -DTIME="\\"{BUILD_TIME}\\""'
    )


def _make(build: Path, tools: Toolchain, jobs: int, env: dict[str, str]) -> None:
    progress(f"make -j{jobs} (the long part: 3-15 min on 2 cores); log: {build / 'make.log'}")
    started = time.monotonic()
    last = started
    steps = 0
    with (
        (build / "make.log").open("w") as log,
        subprocess.Popen(
            [tools.make, f"-j{jobs}", f"CFLAGS_NODIST={reproducible_cflags(build.parent.parent)}"],
            cwd=build,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as child,
    ):
        assert child.stdout is not None
        for line in child.stdout:
            log.write(line)
            steps += 1
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                progress(f"make: {steps} lines, {last - started:.0f} s")
        code = child.wait()
    if code != 0 or not (build / "python.wasm").is_file():
        tail = (build / "make.log").read_text().splitlines()[-15:]
        raise BuildError("make", f"exit {code}:\n" + "\n".join(tail))
    progress(f"make: done in {time.monotonic() - started:.0f} s")


def install(build: Path, staging: Path, tools: Toolchain, jobs: int) -> None:
    """Copy python.wasm, the stdlib and lib-dynload into ``staging``; precompile the stdlib."""
    source = build.parent.parent
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    shutil.copy2(build / "python.wasm", staging / "python.wasm")
    stdlib = staging / STDLIB_DIR
    progress(f"copying the stdlib to {stdlib}")
    shutil.copytree(source / "Lib", stdlib, ignore=_stdlib_ignore(source / "Lib"))
    dynload = list((build / "build").glob("lib.wasi-wasm32-*"))
    if len(dynload) != 1:
        raise BuildError("install", f"expected one build/lib.wasi-wasm32-* folder, found {dynload}")
    shutil.copytree(dynload[0], stdlib / "lib-dynload")
    progress(f"precompiling the stdlib with {tools.build_python} -m compileall")
    # The guest's folder is read-only, so it could never write a .pyc; unchecked-hash
    # .pyc do not depend on the copy's mtimes.
    _run(
        [
            tools.build_python,
            "-m",
            "compileall",
            "-q",
            f"-j{jobs}",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(stdlib),
            "-p",
            GUEST_STDLIB,
            str(stdlib),
        ],
        "compileall",
        staging,
    )


def _stdlib_ignore(lib: Path) -> Callable[[str, list[str]], set[str]]:
    omitted = {(lib / part).resolve() for part in _STDLIB_OMIT}

    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder).resolve()
        return {n for n in names if n == "__pycache__" or (here / n) in omitted}

    return ignore


def write_manifest(
    out: Path, build: Path, tarball: Path, tools: Toolchain, seconds: float
) -> dict[str, object]:
    """The manifest of an installed build, written to ``out/manifest.json`` and returned."""
    makefile = build / "Makefile"
    wasm_sha = sha256_file(out / "python.wasm")
    manifest: dict[str, object] = {
        "format": MANIFEST_FORMAT,
        "name": BUILD_NAME,
        "python_version": PYTHON_VERSION,
        "wasm": "python.wasm",
        "wasm_sha256": wasm_sha,
        "reproduces_known_build": wasm_sha == KNOWN_WASM_SHA256,
        "source": {"file": tarball.name, "sha256": sha256_file(tarball), "debian": DEBIAN_SOURCE},
        "mounts": [[GUEST_STDLIB, STDLIB_DIR]],
        "env": [],
        "compilers": _compiler_versions(tools),
        "flags": {
            name: make_var(makefile, name)
            for name in ("CONFIG_ARGS", "OPT", "BASECFLAGS", "CONFIGURE_CFLAGS_NODIST")
        }
        | {"CFLAGS_NODIST (make)": reproducible_cflags(build.parent.parent)},
        "stdlib_omitted": list(_STDLIB_OMIT),
        "build_seconds": round(seconds),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _compiler_versions(tools: Toolchain) -> dict[str, str]:
    def first_line(argv: Sequence[str]) -> str:
        done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else ""

    versions = {
        "clang": first_line([tools.clang, "--version"]),
        "wasm-ld": first_line([tools.wasm_ld, "--version"]),
        "build_python": first_line([tools.build_python, "--version"]),
    }
    if shutil.which("dpkg-query"):
        for package in ("clang", "lld", "wasi-libc", "libclang-rt-dev-wasm32"):
            versions[f"deb:{package}"] = first_line(
                ["dpkg-query", "-W", "-f=${Version}\n", package]
            )
    return versions


def check_build(out: Path) -> str:
    """Why ``out`` is not an intact build ('' when it is): manifest, wasm hash, stdlib."""
    manifest_path = out / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        return f"no readable {manifest_path}: {exc}"
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return f"{manifest_path} is not a {MANIFEST_FORMAT} manifest"
    wasm = out / str(manifest.get("wasm", ""))
    if not wasm.is_file():
        return f"{wasm} is missing"
    if sha256_file(wasm) != manifest.get("wasm_sha256"):
        return f"{wasm} does not hash to the manifest's wasm_sha256"
    if not (out / STDLIB_DIR / "os.py").is_file():
        return f"{out / STDLIB_DIR} has no os.py"
    return ""


def build(out: Path, *, force: bool = False, jobs: int = 2, keep_work: bool = False) -> Path:
    """Build and install into ``out`` unless an intact build is there (``force`` rebuilds)."""
    out = out.resolve()
    if not force and not check_build(out):
        progress(f"{out} is an intact build already (manifest checked); --force rebuilds")
        return out
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        # The install replaces ``out`` as a whole: never a folder this did not make.
        raise BuildError("out", f"{out} exists and is not a build (no {MANIFEST_NAME}); refusing")
    started = time.monotonic()
    tools = find_toolchain()
    work = out.parent / f".work-{out.name}"
    work.mkdir(parents=True, exist_ok=True)
    tarball = fetch_source(work)
    build_dir = compile_source(tarball, work, tools, jobs)
    staging = out.parent / f".staging-{out.name}"
    install(build_dir, staging, tools, jobs)
    seconds = time.monotonic() - started
    manifest = write_manifest(staging, build_dir, tarball, tools, seconds)
    if manifest["reproduces_known_build"]:
        progress(f"python.wasm is the known build (SHA-256 {KNOWN_WASM_SHA256})")
    else:
        progress(
            f"python.wasm has SHA-256 {manifest['wasm_sha256']}, not the known build's "
            f"{KNOWN_WASM_SHA256} (another toolchain version?); the manifest pins this one"
        )
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    if not keep_work:
        shutil.rmtree(work / f"Python-{PYTHON_VERSION}")  # the tarball stays for a rebuild
    progress(f"built {out} in {seconds:.0f} s; load it with Runtime.from_build({str(out)!r})")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: build, print the output folder, exit 0; or print why not, exit 2."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.build_runtime", description=__doc__)
    parser.add_argument("--out", type=Path, default=None, help="install folder")
    parser.add_argument("--force", action="store_true", help="rebuild even if intact")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="make -j")
    parser.add_argument("--keep-work", action="store_true", help="keep the source tree")
    args = parser.parse_args(argv)
    try:
        out = build(
            args.out or default_out_dir(),
            force=args.force,
            jobs=args.jobs,
            keep_work=args.keep_work,
        )
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
