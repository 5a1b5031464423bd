"""Writing a state to a folder, and the unified diff between two states."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import ledger
from ledger import Ledger, get_blobs
from replay._errors import ChainBroken, OutputNotEmpty, UnsafePath
from replay._guard import GuardedTree
from replay._state import Entry, Progress, State


@dataclass(frozen=True, slots=True)
class Materialised:
    """What ``materialise`` wrote."""

    out: Path
    files: int
    bytes: int
    state: State


def read_contents(led: Ledger, tenant: str, state: State) -> dict[str, bytes]:
    """Every file's content in ``state``, each checked against the hash its chain names."""
    try:
        blobs = get_blobs(led, tenant, [e.sha256 for e in state.files.values()])
    except (ledger.UnknownBlob, ledger.CorruptStore) as exc:
        text = str(exc)
        path = next((p for p, e in state.files.items() if e.sha256.hex() in text), "?")
        detail = (
            "its content is missing"
            if isinstance(exc, ledger.UnknownBlob)
            else ("its stored content does not match the hash its StateChange names")
        )
        raise ChainBroken(path, str(state.versionstamp), detail) from exc
    out: dict[str, bytes] = {}
    for path, entry in state.files.items():
        data = blobs[entry.sha256]
        if len(data) != entry.size:
            raise ChainBroken(
                path,
                str(state.versionstamp),
                f"content is {len(data)} bytes but its StateChange says {entry.size}",
            )
        out[path] = data
    return out


def materialise(
    led: Ledger,
    tenant: str,
    state: State,
    out: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Materialised:
    """Write ``state``'s files into ``out``, all or nothing.

    The tree is built in a sibling temporary folder and renamed into place
    only once every file is written and verified, so a refusal or a crash
    leaves ``out`` as it was. An existing non-empty ``out`` is replaced only
    with ``force``.
    """
    out = out.absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise OutputNotEmpty(str(out))
    contents = read_contents(led, tenant, state)
    executable = {p for p, e in state.files.items() if e.executable}
    total = write_tree(
        out,
        contents,
        str(state.versionstamp),
        force=force,
        progress=progress,
        executable=executable,
    )
    return Materialised(out, len(contents), total, state)


def write_tree(
    out: Path,
    contents: dict[str, bytes],
    where: str,
    *,
    force: bool = False,
    progress: Progress | None = None,
    executable: Collection[str] = (),
) -> int:
    """Write ``contents`` (path -> bytes) into ``out``, all or nothing; the bytes written.

    The paths in ``executable`` get their executable bits.

    The tree is built in a sibling temporary folder and renamed into place once
    every file is written, so a refusal or a crash leaves ``out`` as it was. An
    existing non-empty ``out`` is replaced only with ``force``. Every path goes
    through :class:`GuardedTree` (``UnsafePath`` for one that would leave the
    folder or names VCS metadata; an ``out`` that is a symlink is refused);
    ``where`` names the point in history in that refusal.
    """
    out = out.absolute()
    if out.is_symlink():
        raise UnsafePath(
            ".", str(out), "the output folder is a symlink; name the real folder it points to"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise OutputNotEmpty(str(out))
    # Every path is checked before a byte is written, so a refusal leaves nothing behind.
    for path in contents:
        try:
            GuardedTree(out).parts(path, metadata_ok=False)
        except UnsafePath as exc:
            raise UnsafePath(
                path, str(out), f"{exc.rule} (in the state at event {where})"
            ) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.replay-", dir=out.parent))
    tree = GuardedTree(tmp, scratch=None)  # the folder is private until renamed: stage beside
    try:
        total = 0
        for i, (path, data) in enumerate(sorted(contents.items()), 1):
            tree.write(path, data, executable=path in executable)
            total += len(data)
            if progress is not None and i % 200 == 0:
                progress("write", i, len(contents))
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, trash / "old")
            os.rename(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return total


def _mode_lines(path: str, old: Entry | None, new: Entry | None) -> str:
    """git's header for a file whose executable bit changed (nothing otherwise)."""
    if old is None or new is None or old.executable == new.executable:
        return ""
    modes = ("100755" if e.executable else "100644" for e in (old, new))
    return "diff --git a/{0} b/{0}\nold mode {1}\nnew mode {2}\n".format(path, *modes)


def unified_diff(led: Ledger, tenant: str, before: State, after: State) -> str:
    """The unified diff (``a/``, ``b/`` prefixes, as git prints) from ``before`` to ``after``."""
    changed = sorted(
        p for p in set(before.files) | set(after.files) if before.files.get(p) != after.files.get(p)
    )
    old_state = State(
        before.versionstamp,
        before.time_us,
        {p: before.files[p] for p in changed if p in before.files},
        None,
        0,
    )
    new_state = State(
        after.versionstamp,
        after.time_us,
        {p: after.files[p] for p in changed if p in after.files},
        None,
        0,
    )
    old = read_contents(led, tenant, old_state)
    new = read_contents(led, tenant, new_state)
    chunks: list[str] = []
    for path in changed:
        a, b = old.get(path), new.get(path)
        chunks.append(_mode_lines(path, before.files.get(path), after.files.get(path)))
        try:
            a_text = a.decode() if a is not None else ""
            b_text = b.decode() if b is not None else ""
        except UnicodeDecodeError:
            chunks.append(f"Binary files a/{path} and b/{path} differ\n")
            continue
        lines = difflib.unified_diff(
            a_text.splitlines(keepends=True),
            b_text.splitlines(keepends=True),
            fromfile=f"a/{path}" if a is not None else "/dev/null",
            tofile=f"b/{path}" if b is not None else "/dev/null",
        )
        for line in lines:
            chunks.append(
                line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            )
    return "".join(chunks)
