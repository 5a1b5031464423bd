"""The path guard: every file the system reads or writes beneath a root goes through it.

A :class:`GuardedTree` is a trusted folder (a daemon's workspace, a replay's
output, a sandbox copy). Every read and write beneath it walks the path one
component at a time from a directory descriptor, opening each with
``O_NOFOLLOW``, so a symlink anywhere on the way (planted before, or swapped
in while the walk runs) is refused instead of followed; nothing leaves the
root through ``..``, an absolute path, or a link. Writes are atomic: a
temporary file in the root's scratch folder (``.swarm/tmp``, never in the
user's tree), renamed over the target through the descriptors. Each temporary
file is held under an exclusive ``flock`` while it exists, so the first write
to a root in a process removes the ones a crashed writer left (their locks died
with it) and never one another writer is still using. Paths are checked
before any I/O: relative POSIX, no NUL, no empty, ``.`` or ``..`` part, parts of at most 255 bytes.

Version-control and tool metadata (``.git``, ``.hg``, ``.svn``, ``.swarm``
and the like, at any depth) are refused for writes unless the caller is the
system writing its own files (``metadata_ok=True``, the scout cache): a
change there is a change to how the next ``git status`` behaves, not to the
project.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from ledger import METADATA_DIRS
from replay._errors import UnsafePath

#: Folders (or, for ``.git``, a file pointing at one) whose contents steer tools: the
#: one list sync's validators use too, compared case-folded without trailing dots/spaces.
METADATA_NAMES = METADATA_DIRS
PART_LIMIT = 255  # bytes: NAME_MAX on Linux and macOS
PATH_LIMIT = 4096  # bytes: PATH_MAX on Linux

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
#: Where a tree's writes stage their temporary files (relative to its root).
SCRATCH = ".swarm/tmp"
_TMP_PREFIX, _TMP_SUFFIX = ".swarm-", ".tmp"
_swept: set[str] = set()  # roots whose scratch folder this process has cleaned


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a file beneath a root, or None when it can."""
    if not isinstance(path, str) or not path:
        return "a path must be a non-empty string"
    if "\x00" in path:
        return "a path must not contain a NUL byte"
    if path.startswith("/") or (len(path) > 2 and path[1] == ":" and path[2] in "/\\"):
        return "a path must be relative, not absolute"
    if "\\" in path:
        return "use '/' as the separator"
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        return "a path must be valid UTF-8"
    if size > PATH_LIMIT:
        return f"a path must be at most {PATH_LIMIT} bytes"
    for part in path.split("/"):
        if part == "..":
            return "'..' would leave the root"
        if part in ("", "."):
            return "empty or '.' component"
        if len(part.encode("utf-8")) > PART_LIMIT:
            return f"a path component must be at most {PART_LIMIT} bytes"
    return None


def metadata_problem(path: str) -> str | None:
    """Why a mission may not write ``path`` (VCS or tool metadata), or None."""
    for part in path.split("/"):
        if part.rstrip(". ").casefold() in METADATA_NAMES:
            return (
                f"{part!r} is version-control or tool metadata, which a mission never writes "
                "(it would change what the next tool run in this folder executes)"
            )
    return None


class GuardedTree:
    """Read and write files beneath ``root`` without ever leaving it.

    ``root`` itself is trusted (the operator chose it) but must not be a
    symlink; everything beneath is not. ``scratch`` is the folder beneath the
    root where writes stage their temporary files (None: beside each target,
    for a tree that is itself a private temporary folder).
    """

    def __init__(self, root: Path, *, scratch: str | None = SCRATCH) -> None:
        self.root = Path(root).absolute()
        self.scratch = scratch

    # -- checks -----------------------------------------------------------

    def parts(self, path: str, *, metadata_ok: bool = True) -> list[str]:
        """The components of ``path``; :class:`UnsafePath` names the broken rule."""
        problem = path_problem(path) or (None if metadata_ok else metadata_problem(path))
        if problem is not None:
            raise UnsafePath(str(path), str(self.root), problem)
        return path.split("/")

    def check(self, path: str, *, metadata_ok: bool = False) -> None:
        """Refuse ``path`` now if a write to it would be refused (nothing is created)."""
        parts = self.parts(path, metadata_ok=metadata_ok)
        with self._walk(parts, create=False, missing_ok=True) as fd:
            if fd is not None:
                self._lstat_final(fd, parts, path)

    # -- reading ----------------------------------------------------------

    def read(self, path: str) -> bytes | None:
        """The bytes of regular file ``path``; None when it or a folder on the way is absent."""
        parts = self.parts(path)
        with self._walk(parts, create=False, missing_ok=True) as dfd:
            if dfd is None:
                return None
            try:
                fd = os.open(parts[-1], _READ, dir_fd=dfd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise self._refusal(dfd, parts, len(parts) - 1, path, exc) from None
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise UnsafePath(path, str(self.root), "not a regular file")
                chunks = []
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                os.close(fd)

    def is_file(self, path: str) -> bool:
        parts = self.parts(path)
        with self._walk(parts, create=False, missing_ok=True) as dfd:
            if dfd is None:
                return False
            st = self._lstat_final(dfd, parts, path)
            return st is not None and stat.S_ISREG(st.st_mode)

    # -- writing ----------------------------------------------------------

    def executable(self, path: str) -> bool | None:
        """Whether regular file ``path`` has an executable bit (None when it is absent)."""
        parts = self.parts(path)
        with self._walk(parts, create=False, missing_ok=True) as dfd:
            st = None if dfd is None else self._lstat_final(dfd, parts, path)
            return None if st is None else bool(st.st_mode & 0o111)

    def write(
        self,
        path: str,
        data: bytes,
        *,
        metadata_ok: bool = False,
        executable: bool | None = None,
    ) -> None:
        """Replace or create ``path`` with ``data`` atomically.

        With ``executable`` None an old file keeps its mode (a new one gets
        0o666 less the umask); True or False sets or clears its executable bits
        (where it is readable, as git checks out 100755).
        """
        parts = self.parts(path, metadata_ok=metadata_ok)
        with self._walk(parts, create=True) as dfd:
            assert dfd is not None
            old = self._lstat_final(dfd, parts, path)
            mode = stat.S_IMODE(old.st_mode) if old is not None else None
            with self._scratch_fd(dfd) as sfd:
                try:
                    self._put(sfd, dfd, parts[-1], data, mode, executable)
                except FileNotFoundError:
                    # Another process's first write swept our file in the instant before
                    # we locked it: stage it again, once.
                    self._put(sfd, dfd, parts[-1], data, mode, executable)
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    # The target is on another mount than the scratch folder: stage beside.
                    self._put(dfd, dfd, parts[-1], data, mode, executable)

    def _put(
        self, sfd: int, dfd: int, name: str, data: bytes, mode: int | None, exe: bool | None
    ) -> None:
        """Write ``data`` to a locked temporary file in ``sfd``, then rename it to ``name``."""
        tmp = f"{_TMP_PREFIX}{secrets.token_hex(8)}{_TMP_SUFFIX}"
        fd = os.open(tmp, _NEW, 0o666, dir_fd=sfd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # ours until renamed: not an orphan
                fh.write(data)
                fh.flush()
                if exe is not None:
                    base = mode if mode is not None else stat.S_IMODE(os.fstat(fd).st_mode)
                    mode = (base | (base & 0o444) >> 2) if exe else base & ~0o111
                if mode is not None:
                    os.fchmod(fh.fileno(), mode)
                os.replace(tmp, name, src_dir_fd=sfd, dst_dir_fd=dfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=sfd)
            raise

    @contextlib.contextmanager
    def _scratch_fd(self, dfd: int) -> Iterator[int]:
        """The folder temporary files go in: the scratch folder (swept of orphans on the
        first write to this root in this process), or ``dfd`` when there is none."""
        if self.scratch is None:
            yield dfd
            return
        with self._walk([*self.scratch.split("/"), "x"], create=True) as sfd:
            assert sfd is not None
            if str(self.root) not in _swept:
                _swept.add(str(self.root))
                _sweep(sfd)
            yield sfd

    def sweep_scratch(self) -> int:
        """Remove the temporary files crashed writers left in the scratch folder; how many."""
        if self.scratch is None:
            return 0
        with self._walk([*self.scratch.split("/"), "x"], create=False, missing_ok=True) as sfd:
            return 0 if sfd is None else _sweep(sfd)

    def remove(self, path: str, *, metadata_ok: bool = False) -> bool:
        """Delete regular file ``path``; False when it was not there."""
        parts = self.parts(path, metadata_ok=metadata_ok)
        with self._walk(parts, create=False, missing_ok=True) as dfd:
            if dfd is None or self._lstat_final(dfd, parts, path) is None:
                return False
            os.unlink(parts[-1], dir_fd=dfd)
            return True

    def make_dirs(self, path: str, *, metadata_ok: bool = False) -> None:
        """Create folder ``path`` and its parents beneath the root (no symlink on the way)."""
        parts = self.parts(path, metadata_ok=metadata_ok)
        with self._walk([*parts, "x"], create=True):
            pass

    # -- the walk ---------------------------------------------------------

    def _open_root(self) -> int:
        try:
            return os.open(self.root, _DIR)
        except OSError as exc:
            # O_NOFOLLOW | O_DIRECTORY on a link gives ELOOP or ENOTDIR: ask what it is.
            if self.root.is_symlink():
                rule = "the root is a symlink"
            else:
                rule = f"the root cannot be opened ({exc.strerror})"
            raise UnsafePath(".", str(self.root), rule) from None

    @contextlib.contextmanager
    def _walk(
        self, parts: list[str], *, create: bool, missing_ok: bool = False
    ) -> Iterator[int | None]:
        """The descriptor of the folder holding ``parts[-1]`` (None: absent and ``missing_ok``)."""
        fd = self._open_root()
        try:
            for i, part in enumerate(parts[:-1]):
                try:
                    nxt = os.open(part, _DIR, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        if missing_ok:
                            yield None
                            return
                        raise
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o777, dir_fd=fd)
                    try:
                        nxt = os.open(part, _DIR, dir_fd=fd)
                    except OSError as exc:
                        raise self._refusal(fd, parts, i, "/".join(parts), exc) from None
                except OSError as exc:
                    raise self._refusal(fd, parts, i, "/".join(parts), exc) from None
                os.close(fd)
                fd = nxt
            yield fd
        finally:
            os.close(fd)

    def _lstat_final(self, dfd: int, parts: list[str], path: str) -> os.stat_result | None:
        """The final component's own stat; refuses a symlink or a folder there."""
        try:
            st = os.stat(parts[-1], dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(path, str(self.root), f"{'/'.join(parts)} is a symlink")
        if stat.S_ISDIR(st.st_mode):
            raise UnsafePath(path, str(self.root), f"{'/'.join(parts)} is a folder, not a file")
        return st

    def _refusal(self, dfd: int, parts: list[str], i: int, path: str, exc: OSError) -> UnsafePath:
        """The refusal for component ``i`` that could not be opened as it should."""
        where = "/".join(parts[: i + 1])
        try:
            st = os.stat(parts[i], dir_fd=dfd, follow_symlinks=False)
        except OSError:
            st = None
        if st is not None and stat.S_ISLNK(st.st_mode):
            return UnsafePath(
                path, str(self.root), f"{where} is a symlink; the guard never follows one"
            )
        if exc.errno == errno.ENOTDIR or (st is not None and not stat.S_ISDIR(st.st_mode)):
            return UnsafePath(path, str(self.root), f"{where} is not a folder")
        return UnsafePath(path, str(self.root), f"{where}: {exc.strerror}")


def _sweep(sfd: int) -> int:
    """Unlink every temporary file in folder ``sfd`` that no live writer holds locked."""
    removed = 0
    for name in os.listdir(sfd):
        if not (name.startswith(_TMP_PREFIX) and name.endswith(_TMP_SUFFIX)):
            continue
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=sfd)
        except OSError:
            continue  # renamed or removed meanwhile
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live writer's
        try:
            os.unlink(name, dir_fd=sfd)
            removed += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed
