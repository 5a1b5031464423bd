"""Where a command works: its ledger, tenant, project and repository, found once for all.

Every command that reads or writes a ledger declares its options with
``add_context_options`` and gets one ``Context`` from ``resolve``; the CLI's
``main`` resolves it before the command runs (``apply``). The rules, like git's:

- the repository is ``--repo DIR``, else the nearest folder holding ``.swarm/``
  from the working directory upward (not above ``$SWARM_CEILING_DIRECTORIES``),
  else the working directory itself;
- the ledger is ``--ledger URL``, else ``$SWARM_LEDGER``, else
  ``sqlite://<repository>/.swarm/ledger.sqlite``;
- the tenant is ``--tenant``, else ``local`` (through a daemon, ``--server``:
  the token's own tenant);
- the project is ``--project``, else the repository folder's name, made an id
  (lower case, runs of other characters as ``-``).

A read-only command (``read_only=True``: it needs a ledger that exists, such
as ``audit``, ``replay`` or ``mission show``) opens it with ``create=False``
and says ``no ledger at PATH`` (exit 2) instead of creating one. A command
that may create the ledger makes ``.swarm/`` through the path guard (a
``.swarm`` that is a symlink never takes the ledger elsewhere) and writes
``.swarm/.gitignore`` holding ``*``, so the folder never shows in the user's
``git status`` and nothing is written into ``.git/``.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ledger

DEFAULT_TENANT = "local"
LEDGER_ENV = "SWARM_LEDGER"
CEILING_ENV = "SWARM_CEILING_DIRECTORIES"
SWARM_DIR = ".swarm"
LEDGER_FILE = "ledger.sqlite"
GITIGNORE = b"# written by swarm: keep the ledger and its workspaces out of git\n*\n"


class ContextError(Exception):
    """The command's context cannot be found or made (a --repo that is no folder, say)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What one command works on, resolved once at the edge."""

    ledger_url: str  # "" through a daemon (--server): the daemon's ledger
    tenant: str  # "" through a daemon with no --tenant: the token's own tenant
    project: str
    repo: Path  # absolute: --repo, the folder holding .swarm/, or the working directory
    read_only: bool  # the ledger must exist; it is never created
    found: bool = False  # repo came from --repo or a .swarm/ found upward, not the fallback

    def open(self) -> ledger.Ledger:
        """The ledger, opened; ``ledger.NoLedger`` when read-only and it does not exist.

        A command that may create the default ledger makes ``.swarm/`` here, when it
        opens it, so a command refused before that writes nothing.
        """
        if not self.read_only and self.ledger_url == default_ledger_url(self.repo):
            make_swarm_dir(self.repo)
        return ledger.open_ledger(self.ledger_url, create=not self.read_only)


@dataclass(frozen=True, slots=True)
class _Spec:
    read_only: bool
    repo: bool
    tenant: bool
    project: bool
    repo_required: bool


def add_context_options(
    parser: argparse.ArgumentParser,
    *,
    read_only: bool,
    repo: bool = True,
    tenant: bool = True,
    project: bool = True,
    json: bool = True,
    repo_required: bool = False,
    inherited: bool = False,
) -> None:
    """--repo, --ledger, --tenant, --project and --json, each saying its default.

    ``read_only``: the command needs a ledger that exists and never creates one
    (it may still append, as ``fork`` does). ``repo_required``: with no --repo
    and no ``.swarm/`` found upward, refuse rather than take the working
    directory (a mission must not index whatever folder it was started in).
    ``inherited``: the parent parser has these options too (``replay`` and
    ``replay diff``): left out here, they keep what was given before the action
    (argparse would otherwise reset ``replay --repo X diff``'s X to the default).
    """
    keep: dict[str, Any] = {"default": argparse.SUPPRESS} if inherited else {}
    if repo:
        parser.add_argument(
            "--repo",
            type=Path,
            metavar="DIR",
            help="the repository (default: the nearest folder holding .swarm/ from here up)",
            **keep,
        )
    parser.add_argument(
        "--ledger",
        metavar="URL",
        help=f"ledger URL: sqlite:///abs/path, sqlite:rel/path, memory:, fdb:///cluster-file "
        f"(default: ${LEDGER_ENV}, else <repo>/{SWARM_DIR}/{LEDGER_FILE})",
        **keep,
    )
    if tenant:
        parser.add_argument(
            "--tenant",
            help=f"tenant id (default: {DEFAULT_TENANT}; with --server, the token's tenant)",
            **keep,
        )
    if project:
        parser.add_argument(
            "--project", help="project id (default: the repository folder's name)", **keep
        )
    if json:
        parser.add_argument("--json", action="store_true", help="print JSON for scripts", **keep)
    parser.set_defaults(context_spec=_Spec(read_only, repo, tenant, project, repo_required))


def find_root(start: Path) -> Path | None:
    """The nearest folder from ``start`` upward that holds a ``.swarm/`` folder.

    As git's GIT_CEILING_DIRECTORIES, ``$SWARM_CEILING_DIRECTORIES`` (folders
    separated by ``os.pathsep``) stops the walk: their parents are not searched.
    """
    here = start.resolve()
    ceilings = {Path(p).resolve() for p in os.environ.get(CEILING_ENV, "").split(os.pathsep) if p}
    for folder in (here, *here.parents):
        if (folder / SWARM_DIR).is_dir():
            return folder
        if folder in ceilings:
            break
    return None


def project_name(repo: Path) -> str:
    """A project id from a folder's name: lower case, other characters as ``-``."""
    name = re.sub(r"[^a-z0-9_-]+", "-", repo.name.lower()).strip("-_")
    return (name or "repo")[:63]


def resolve(args: argparse.Namespace, cwd: Path | None = None) -> Context:
    """The context the parsed options and the environment name (see the module's rules)."""
    spec: _Spec = args.context_spec
    server = getattr(args, "server", None)
    given = getattr(args, "repo", None) if spec.repo else None
    if given is not None and not server:
        if not Path(given).is_dir():  # never create a repository by creating its ledger
            raise ContextError(f"repository {given} is not a directory")
        repo, found = Path(given).resolve(), True
    else:
        root = find_root(cwd or Path.cwd())
        repo, found = (root, True) if root else ((cwd or Path.cwd()).resolve(), False)
    if spec.repo_required and not found and not server:
        raise ContextError(
            f"--repo PATH is required (or --server HOST:PORT to go through a daemon): "
            f"no {SWARM_DIR}/ in {repo} or a folder above it"
        )
    typed_tenant = getattr(args, "tenant", None) if spec.tenant else None
    project = getattr(args, "project", None) if spec.project else None
    if server:  # the daemon's projects are not this machine's folders: no name from one
        project = project or getattr(args, "workspace", None) or ""
    return Context(
        ledger_url="" if server else ledger_url_for(getattr(args, "ledger", None), repo),
        tenant=typed_tenant or ("" if server else DEFAULT_TENANT),
        project=project if project is not None else project_name(repo),
        repo=repo,
        read_only=spec.read_only,
        found=found,
    )


def ledger_url_for(explicit: str | None, repo: Path) -> str:
    """The ledger URL from ``explicit`` (an option), else $SWARM_LEDGER, else the repo's own."""
    return explicit or os.environ.get(LEDGER_ENV) or default_ledger_url(repo)


def default_ledger_url(repo: Path) -> str:
    """``sqlite://<repo>/.swarm/ledger.sqlite`` (``repo`` is absolute: three slashes)."""
    return f"sqlite://{repo / SWARM_DIR / LEDGER_FILE}"


def make_swarm_dir(repo: Path) -> None:
    """``<repo>/.swarm/`` and its ``.gitignore``, through the path guard."""
    import replay  # the path guard; here so read-only commands need not load it

    tree = replay.GuardedTree(repo)
    try:
        tree.make_dirs(SWARM_DIR, metadata_ok=True)
        ignore = f"{SWARM_DIR}/.gitignore"
        if tree.read(ignore) is None:
            tree.write(ignore, GITIGNORE, metadata_ok=True)
    except replay.UnsafePath as exc:
        raise ContextError(f"{exc} (or pass --ledger URL)") from None


def apply(args: argparse.Namespace) -> Context | None:
    """Resolve the context of a command that declared one and put it on ``args``.

    ``args.context`` holds it; ``args.ledger``, ``args.tenant``, ``args.project``
    (and ``args.repo``, unless a command that may create a ledger found none) hold
    its values, so a command reads them as before. Through a daemon an untyped
    ``--tenant`` stays None (the token's tenant) and ``--repo`` is left as typed.
    """
    spec: _Spec | None = getattr(args, "context_spec", None)
    if spec is None:
        return None
    ctx = resolve(args)
    args.context = ctx
    if getattr(args, "server", None):
        if spec.project and ctx.project:
            args.project = ctx.project
        return ctx
    args.ledger = ctx.ledger_url
    if spec.tenant:
        args.tenant = ctx.tenant
    if spec.project:
        args.project = ctx.project
    if spec.repo and (ctx.found or spec.read_only):  # a read-only one then says "no ledger"
        args.repo = ctx.repo
    return ctx
