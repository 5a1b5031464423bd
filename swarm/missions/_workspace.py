"""The workspace: the repository folder on disk, kept equal to the ledger's file heads.

Before a mission the repository's files are imported into the ledger (a
StateChange for each file whose head differs), so every file's chain starts
from what is on disk. On resume the ledger is the truth: any file whose bytes
differ from its head is rewritten from the head's blob.

Every read and write goes through ``replay.GuardedTree`` (the one path
guard): component by component, never through a symlink, never into VCS or
tool metadata; its refusals become :class:`RefusedPath`.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath

import ledger
import replay
from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.missions._errors import InvalidMission, RefusedPath, TooManyFiles
from swarm.missions._view import envelope, path_key

# Never imported, never copied into the sandbox: VCS data, the embedded ledger, caches.
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "venv", "env", "site-packages"})
SCOUT_CACHE = ".swarm/scout-cache"


def walk_repo(root: Path, limit: int | None = None) -> Iterator[str]:
    """Repo-relative POSIX paths of the regular files a mission tracks, sorted.

    Hidden files and folders (``.git``, ``.swarm``), caches and virtual
    environments are left out; symlinks are never followed. With ``limit``,
    :class:`TooManyFiles` is raised as the walk meets file ``limit + 1``.
    """
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in _SKIP_DIRS
            and d not in replay.METADATA_NAMES  # CVS, _darcs: never a mission's to touch
            and not os.path.islink(os.path.join(dirpath, d))
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        rel = Path(dirpath).relative_to(root)
        for name in sorted(filenames):
            full = Path(dirpath, name)
            if name.startswith(".") or full.is_symlink() or not full.is_file():
                continue
            if name.endswith((".pyc", ".pyo")):
                continue
            seen += 1
            if limit is not None and seen > limit:
                raise TooManyFiles(str(root), limit)
            yield PurePosixPath(*rel.parts, name).as_posix()


def guarded(root: Path) -> replay.GuardedTree:
    """The path guard over ``root``: every read and write of a mission goes through it."""
    return replay.GuardedTree(root)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """Turn the guard's refusal into the missions package's own error."""
    try:
        yield
    except replay.UnsafePath as exc:
        raise RefusedPath(exc.path, exc.root, exc.rule) from None


def resolve(root: Path, path: str) -> Path:
    """The absolute path of repo-relative ``path`` after the guard's checks for a write:
    :class:`RefusedPath` for ``..``, an absolute path, a symlink on the way, or VCS
    and tool metadata (``.git/``, ``.swarm/``, ... at any depth)."""
    with _refusals():
        guarded(root).check(path, metadata_ok=False)
    return Path(root, *path.split("/"))


def read_file(root: Path, path: str) -> bytes | None:
    """The bytes of workspace file ``path`` (None if absent), read through the guard."""
    with _refusals():
        return guarded(root).read(path)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def write_file(root: Path, path: str, data: bytes | None) -> None:
    """Write (or, for None, delete) one workspace file atomically, through the guard.

    A mission never writes VCS or tool metadata, nor through a symlink:
    :class:`RefusedPath` names the rule.
    """
    with _refusals():
        tree = guarded(root)
        if data is None:
            tree.remove(path)
        else:
            tree.write(path, data)


def unified_diff(path: str, old: bytes | None, new: bytes | None, limit: int = 60_000) -> str:
    """A unified diff for people (empty for binary content or when over ``limit`` chars)."""
    try:
        a = old.decode() if old is not None else ""
        b = new.decode() if new is not None else ""
    except UnicodeDecodeError:
        return ""
    text = "".join(
        difflib.unified_diff(
            a.splitlines(keepends=True),
            b.splitlines(keepends=True),
            fromfile=f"a/{path}" if old is not None else "/dev/null",
            tofile=f"b/{path}" if new is not None else "/dev/null",
        )
    )
    return text if len(text) <= limit else ""


def change_event(
    mission_id: str,
    event_id: str,
    agent_id: str,
    path: str,
    previous: bytes,
    new_blob: ledger.BlobRef | None,
    diff: str,
    token: bytes,
    reverts: str = "",
    executable: bool | None = None,
) -> pb.SwarmEvent:
    """A StateChange of ``path`` from hash ``previous`` to ``new_blob`` (None deletes);
    ``executable`` None leaves the file's mode as it was."""
    sc = pb.StateChange(
        path=path,
        previous_sha256=previous,
        unified_diff=diff,
        fencing_token=token,
        reversible=True,
        reverts_event_id=reverts,
    )
    if new_blob is None:
        sc.kind = pb.CHANGE_KIND_DELETE
    else:
        sc.new_sha256 = new_blob.sha256
        sc.new_size = new_blob.size
        sc.content.CopyFrom(pb.BlobRef(sha256=new_blob.sha256, size=new_blob.size))
        sc.kind = pb.CHANGE_KIND_MODIFY if previous else pb.CHANGE_KIND_CREATE
        if executable is not None:
            sc.executable = executable
    return envelope(mission_id, event_id, agent_id, state_change=sc)


# Files per import append: their blobs go in first (a few transactions), then the events.
_IMPORT_BATCH = 200


def _import_events(
    led: Ledger, tenant: str, mission_id: str, pending: list[tuple[str, bytes, bytes, bool]]
) -> list[pb.SwarmEvent]:
    """The import StateChanges of ``pending`` (path, head, bytes, executable), blobs first
    in as few transactions as the ledger's limits allow."""
    refs = led.put_blobs(tenant, [data for _, _, data, _ in pending])
    return [
        change_event(
            mission_id,
            f"{mission_id}.import.{path_key(path)}",
            "orchestrator-1",
            path,
            head,
            blob,
            unified_diff(path, led.get_blob(tenant, head) if head else None, data),
            b"",
            executable=exe,
        )
        for (path, head, data, exe), blob in zip(pending, refs, strict=True)
    ]


def import_workspace(
    led: Ledger,
    tenant: str,
    project: str,
    root: Path,
    mission_id: str,
    progress: Callable[[int, int], None] | None = None,
    max_files: int | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Bring the ledger's heads up to the files on disk; return the manifest and skipped paths.

    The manifest maps every tracked path to its content sha256 (hex) as the
    mission starts. Files a live lock protects (a person editing them) are
    not imported and are listed as skipped; such a file the ledger never held
    is :class:`InvalidMission`, since the mission could not see it at all.
    More than ``max_files`` tracked files is :class:`TooManyFiles`. Both are raised
    before anything is written.
    """
    on_disk = list(walk_repo(root, max_files))
    tree = guarded(root)
    with _refusals():  # every name first, so a refusal lands no part of the import
        for path in on_disk:
            tree.parts(path)
    heads = {f.path: f.sha256 for f in led.files(tenant, project)}
    holders = {lk.path: lk.holder for lk in led.locks(tenant, project)}
    locked = set(holders)
    unseen = sorted(p for p in on_disk if p in locked and p not in heads)
    if unseen:
        # A locked file the ledger never held would be invisible to the scout, and a
        # rename would silently miss it: refuse before anything lands.
        raise InvalidMission(
            f"{unseen[0]} is locked by {holders[unseen[0]]} and was never imported, so the "
            "mission could not see it"
            + (f" ({len(unseen) - 1} more such file(s))" if len(unseen) > 1 else "")
            + "; start the mission once the lock is released"
        )
    manifest: dict[str, str] = {}
    skipped: list[str] = []
    batch: list[pb.SwarmEvent] = []
    pending: list[tuple[str, bytes, bytes, bool]] = []  # (path, head, bytes, executable)
    for i, path in enumerate(on_disk):
        data = read_file(root, path)
        if data is None:
            continue  # removed since the walk: not part of the repository as it starts
        digest = sha256(data)
        manifest[path] = digest.hex()
        head = heads.get(path, b"")
        if head == digest:
            continue
        if path in locked:
            skipped.append(path)
            manifest[path] = head.hex()
            continue
        pending.append((path, head, data, bool(tree.executable(path))))
        if len(pending) >= _IMPORT_BATCH:
            led.append(tenant, project, _import_events(led, tenant, mission_id, pending))
            pending = []
        if progress is not None:
            progress(i + 1, len(on_disk))
    batch = _import_events(led, tenant, mission_id, pending) if pending else []
    for path, head in heads.items():
        if path not in manifest and path not in locked:
            batch.append(
                change_event(
                    mission_id,
                    f"{mission_id}.import.{path_key(path)}",
                    "orchestrator-1",
                    path,
                    head,
                    None,
                    "",
                    b"",
                )
            )
    omitted = replay.left_out(root, on_disk)  # recorded, so a replay can say what it lacks
    if omitted.paths:
        eid = f"{mission_id}.import-omitted"
        batch.append(replay.omission_event(eid, mission_id, omitted))
    if batch:
        led.append(tenant, project, batch)
    return manifest, skipped


def reconcile(
    led: Ledger, tenant: str, project: str, root: Path, paths: Mapping[str, str]
) -> list[str]:
    """Rewrite every workspace file among ``paths`` whose bytes differ from its ledger head.

    Returns the paths rewritten. A file with no head (deleted in the ledger) is removed.
    """
    fixed: list[str] = []
    heads = {f.path: f.sha256 for f in led.files(tenant, project)}
    for path in sorted(set(paths) | set(heads)):
        if path not in paths:
            continue
        resolve(root, path)
        on_disk = read_file(root, path)
        disk = sha256(on_disk) if on_disk is not None else b""
        head = heads.get(path, b"")
        if disk == head:
            continue
        write_file(root, path, led.get_blob(tenant, head) if head else None)
        fixed.append(path)
    return fixed


def materialise(led: Ledger, tenant: str, manifest: Mapping[str, str], dest: Path) -> None:
    """Write the files of ``manifest`` (path -> sha256 hex) from their blobs under ``dest``.

    The manifest comes from the ledger (and so perhaps from another host): every
    path is checked by the guard before a byte is written (:class:`RefusedPath`).
    """
    tree = guarded(dest)
    with _refusals():
        for path in manifest:
            tree.parts(path, metadata_ok=False)
        present = [(path, bytes.fromhex(digest)) for path, digest in manifest.items() if digest]
        for i in range(0, len(present), _IMPORT_BATCH):
            part = present[i : i + _IMPORT_BATCH]  # a few reads, not one per file
            for (path, _), data in zip(
                part, led.get_blobs(tenant, [s for _, s in part]), strict=True
            ):
                tree.write(path, data)


def copy_workspace(root: Path, dest: Path, keep_tests: set[str] | None = None) -> None:
    """Copy the tracked files to ``dest`` for a sandbox run.

    With ``keep_tests``, test files other than those are left out, so the run
    covers only the tests the import graph ties to a change.
    """
    from swarm.scout import is_test_file

    source, target = guarded(root), guarded(dest)
    with _refusals():
        for path in walk_repo(root):
            if keep_tests is not None and is_test_file(path) and path not in keep_tests:
                continue
            data = source.read(path)
            if data is not None:
                target.write(path, data)


def scout_cache(root: Path) -> tuple[Path, Path]:
    """The scout's parse cache of a workspace: ``(root, cache folder)``, made through the
    guard, so a ``.swarm`` that is a symlink (say, to another tenant's folder) is refused
    with :class:`RefusedPath` instead of followed. Pass both to ``RepoIndex``."""
    with _refusals():
        guarded(root).make_dirs(SCOUT_CACHE, metadata_ok=True)
    return root, Path(root, *SCOUT_CACHE.split("/"))


def manifest_blob(led: Ledger, tenant: str, manifest: Mapping[str, str]) -> ledger.BlobRef:
    return led.put_blob(tenant, json.dumps(dict(manifest), sort_keys=True).encode())


def check_repo(root: Path) -> Path:
    """The resolved repository folder, or :class:`InvalidMission` naming the problem."""
    resolved = Path(root).resolve()
    if not resolved.is_dir():
        raise InvalidMission(f"repository {root} is not a directory")
    return resolved
