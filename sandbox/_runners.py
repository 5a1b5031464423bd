"""Pinned pure-Python test runners (pytest and its dependencies) for the guest, read-only.

The critic works on repositories that use pytest without vendoring it, so the
sandbox brings its own: pytest and the packages it imports at run time are
ordinary dependencies of this project, pinned in ``pyproject.toml``. At first
use their installed files (as the distributions' RECORDs list them) are copied
into one folder under the compiled-module cache, which a test run mounts
read-only at ``RUNNERS_DIR``. Nothing is downloaded at run time; a version on
the host that differs from the pin is refused, so every run sees the same runner.

The copy is byte-compiled once *inside the sandbox*, by the guest's own
interpreter (the bundled guest is CPython 3.12, the optimised build 3.11, the
host may be either): importing pytest from source took ~4.6 s per run, from
its ``.pyc`` files a fraction of that. A ``.pyc`` is only valid for the
version that wrote it, so each guest interpreter gets its own copy.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ._errors import RunnerError

RUNNERS_DIR = "/runners"  # where the guest sees them; the guest runner appends it to sys.path
# Keep in step with pyproject.toml's dependencies (a test checks the two agree).
PINNED: dict[str, str] = {
    "pytest": "9.0.3",
    "pluggy": "1.6.0",
    "iniconfig": "2.3.0",
    "packaging": "26.2",
    "pygments": "2.20.0",
}


def pinned_runners(cache_dir: Path, compile_dir: Callable[[Path], None], guest: str = "") -> Path:
    """The folder holding the pinned runners' importable files, built once under ``cache_dir``.

    ``compile_dir`` byte-compiles a staged copy for the guest's interpreter;
    ``guest`` names that interpreter (its SHA-256), so each one has its own copy.
    """
    pins = ";".join(f"{name}=={version}" for name, version in sorted(PINNED.items()))
    key = f"{pins};guest={guest}" if guest else pins
    target = cache_dir / "runners" / hashlib.sha256(key.encode()).hexdigest()[:16]
    if (target / ".complete").is_file():
        return target
    files = {name: _importable_files(name, version) for name, version in PINNED.items()}
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
        try:
            for sources in files.values():
                for source, relative in sources:
                    dest = staging / relative
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, dest)
            compile_dir(staging)
            (staging / ".complete").write_text(key + "\n")
            try:
                os.replace(staging, target)
            except OSError:
                if not (target / ".complete").is_file():  # not a concurrent builder's win
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise RunnerError("pytest", f"cannot build {target}: {exc.strerror or exc}") from exc
    return target


def _importable_files(name: str, version: str) -> list[tuple[Path, Path]]:
    """(installed file, path relative to site-packages) for a distribution's modules."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise RunnerError(name, f"not installed (pinned {name}=={version})") from exc
    if dist.version != version:
        raise RunnerError(name, f"installed {dist.version}, but the sandbox pins {version}")
    out: list[tuple[Path, Path]] = []
    for entry in dist.files or ():
        relative = Path(str(entry))
        parts = relative.parts
        if (
            not parts
            or parts[0] == ".."
            or parts[0].endswith((".dist-info", ".egg-info"))
            or "__pycache__" in parts
            or relative.suffix == ".pth"
        ):
            continue
        source = Path(str(dist.locate_file(entry)))
        if source.is_file():
            out.append((source, relative))
    if not out:
        raise RunnerError(name, "its installed files are not listed (no RECORD)")
    return out
