"""The daemon's workspaces: folder names checked at the API edge, ownership kept in the ledger.

A workspace is one folder directly under the daemon's ``--workspaces`` root.
It belongs to exactly one tenant's project: registered when the project is
created with ``workspace`` (or, for a project created without one, by its
first mission), in the ledger's workspace registry, in the same transaction
that makes the project. Nothing else decides where a mission runs: not the
request once the project owns a folder, never an event's attributes. A name
is refused as INVALID_ARGUMENT before anything touches the disk; another
tenant's or project's folder is PERMISSION_DENIED without saying whose it is.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import ledger
import replay
from swarm.brain import BrainError
from swarm.missions import TooManyFiles, walk_repo

#: The most tracked files a mission imports from one workspace (``--max-workspace-files``).
DEFAULT_MAX_FILES = 10_000
_NAME_MAX = 255  # bytes: one folder name


class WorkspaceRefused(Exception):
    """A workspace request the daemon will not act on; ``code`` is the gRPC status name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for an error message, cut to ``limit`` characters (never echo 5,000)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a workspace folder name, or None."""
    if not name:
        return "workspace is required"
    if "\x00" in name:
        return "a workspace name must not contain a NUL byte"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "a workspace name must not contain control characters"
    if "/" in name or "\\" in name:
        return "a workspace is one folder name directly under --workspaces: no '/' or '\\'"
    if name in (".", "..") or name.startswith("."):
        return "a workspace name must not start with '.'"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "a workspace name must be valid UTF-8"
    if size > _NAME_MAX:
        return f"a workspace name must be at most {_NAME_MAX} bytes, got {size}"
    return None


def check_path(path: str, what: str = "path") -> str:
    """A repo path from a request, or INVALID_ARGUMENT naming the broken rule."""
    problem = replay.path_problem(path)
    if problem is not None:
        raise WorkspaceRefused("INVALID_ARGUMENT", f"{what} {shown(path)}: {problem}")
    return path


def check_patch_paths(kind: str, params: dict[str, str]) -> None:
    """Refuse a patch whose files a mission may never write, before the mission starts."""
    if kind != "patch" or "diff" not in params:
        return
    from swarm.brain._diff import parse_unified_diff

    try:
        patches = parse_unified_diff(params["diff"])
    except BrainError:
        return  # the request's own validation names a malformed diff
    for patch in patches:
        for path in {patch.old_path, patch.new_path} - {None}:
            assert path is not None
            problem = replay.path_problem(path) or replay.metadata_problem(path)
            if problem is not None:
                raise WorkspaceRefused(
                    "INVALID_ARGUMENT", f"the patch writes {shown(path)}: {problem}"
                )


class Workspaces:
    """Folders under one ``--workspaces`` root and who owns them (the ledger's registry)."""

    def __init__(
        self, led: ledger.Ledger, root: Path | None, max_files: int = DEFAULT_MAX_FILES
    ) -> None:
        self._led = led
        self.root = root.resolve() if root is not None else None
        self.max_files = max_files

    def _root(self) -> Path:
        if self.root is None:
            raise WorkspaceRefused(
                "FAILED_PRECONDITION", "this daemon was started without --workspaces"
            )
        return self.root

    def folder(self, name: str) -> Path:
        """The folder ``name`` names: a real directory (not a symlink) right under the root."""
        root = self._root()
        problem = name_problem(name)
        if problem is not None:
            raise WorkspaceRefused("INVALID_ARGUMENT", f"workspace {shown(name)}: {problem}")
        try:
            st = os.lstat(root / name)
        except FileNotFoundError:
            raise WorkspaceRefused(
                "NOT_FOUND", f"no workspace {shown(name)} under --workspaces"
            ) from None
        if stat.S_ISLNK(st.st_mode):
            raise WorkspaceRefused(
                "PERMISSION_DENIED",
                f"workspace {shown(name)} is a symlink; a workspace must be a real folder",
            )
        if not stat.S_ISDIR(st.st_mode):
            raise WorkspaceRefused("NOT_FOUND", f"workspace {shown(name)} is not a folder")
        return root / name

    def register(self, tenant: str, project: str, name: str, *, exist_ok: bool) -> Path:
        """Create ``project`` (or, with ``exist_ok``, take the existing one) owning ``name``."""
        folder = self.folder(name)
        try:
            self._led.create_project(
                tenant, project, exist_ok=exist_ok, workspace=(str(self._root()), name)
            )
        except ledger.WorkspaceTaken as exc:
            raise _denied(exc) from None
        return folder

    def for_mission(self, tenant: str, project: str, name: str) -> tuple[str, Path]:
        """The (name, folder) a mission of ``project`` runs on; ``name`` may be empty once the
        project owns a folder. A project without one takes ``name`` now, as at creation."""
        root = self._root()
        claim = self._led.workspace_of(tenant, project)
        if claim is None:
            return name, self.register(tenant, project, name, exist_ok=True)
        if claim.root != str(root):
            raise WorkspaceRefused(
                "FAILED_PRECONDITION",
                f"project {project!r} owns a workspace under another --workspaces root; "
                "this daemon does not hold it",
            )
        if name and name != claim.name:
            raise WorkspaceRefused(
                "PERMISSION_DENIED",
                f"project {project!r} owns workspace {shown(claim.name)}, not {shown(name)}; "
                "a project runs missions on its own workspace only",
            )
        return claim.name, self.folder(claim.name)

    def registered(self, tenant: str, project: str) -> Path | None:
        """The project's own folder on this daemon, or None (no claim here, or it is gone)."""
        if self.root is None:
            return None
        claim = self._led.workspace_of(tenant, project)
        if claim is None or claim.root != str(self.root):
            return None
        try:
            return self.folder(claim.name)
        except WorkspaceRefused:
            return None

    def count_files(self, folder: Path) -> None:
        """Refuse a folder over the files cap, walking at most ``max_files + 1`` files."""
        try:
            for _ in walk_repo(folder, self.max_files):
                pass
        except TooManyFiles as exc:
            raise WorkspaceRefused(
                "RESOURCE_EXHAUSTED",
                f"workspace {shown(folder.name)} holds more than {exc.limit} files, the most "
                "this daemon imports for a mission (--max-workspace-files)",
            ) from None

    def check_cache(self, folder: Path) -> None:
        """Refuse a workspace whose scout cache folder would lead out (a ``.swarm`` symlink)."""
        from swarm.missions import RefusedPath
        from swarm.missions._workspace import scout_cache

        try:
            scout_cache(folder)
        except RefusedPath as exc:
            raise WorkspaceRefused(
                "FAILED_PRECONDITION", f"workspace {shown(folder.name)}: {exc.rule}"
            ) from None


def _denied(exc: ledger.WorkspaceTaken) -> WorkspaceRefused:
    if exc.holder_tenant != exc.tenant:
        return WorkspaceRefused(
            "PERMISSION_DENIED",
            f"workspace {shown(exc.name)} belongs to another tenant; "
            f"tenant {exc.tenant!r} may not use it",
        )
    if exc.holder_project != exc.project:
        return WorkspaceRefused(
            "PERMISSION_DENIED",
            f"workspace {shown(exc.name)} belongs to project {exc.holder_project!r}; "
            f"one folder serves one project, so {exc.project!r} may not use it",
        )
    return WorkspaceRefused(
        "PERMISSION_DENIED",
        f"project {exc.project!r} owns workspace {shown(exc.holder_name)}; "
        f"a project has one workspace, so it may not take {shown(exc.name)}",
    )
