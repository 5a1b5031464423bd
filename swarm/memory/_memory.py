"""``Memory``: search and context over one store, kept in step with one ledger.

``search`` is what ``swarm memory search`` and the ``SearchMemory`` RPC run;
``context_for`` is what a model-backed coder asks for its task. Both only
ever read the asking tenant's points (every query filters on ``tenant``).
The module-level ``context_for`` answers from the ``Memory`` a process
``attach``-ed (the daemon's, or a local run's), and with none attached returns
nothing: memory is optional, a mission runs the same without it.
"""

from __future__ import annotations

from pathlib import Path

import ledger
from swarm.memory._errors import InvalidMemoryQuery
from swarm.memory._indexer import Indexer, IndexStats, Progress
from swarm.memory._store import MODES, Embed, MemoryStore
from swarm.memory._types import KINDS, CodeChunk, Hit, Lesson

MAX_QUERY_CHARS = 2000
MAX_LIMIT = 100
MEMORY_FOLDER = "memory"


def default_location(ledger_url: str) -> str | None:
    """``<the sqlite ledger's folder>/memory`` (``.swarm/memory/`` by default); None for
    other engines, whose memory must be named (``--memory-url``)."""
    if not ledger_url.startswith("sqlite:"):
        return None
    path = ledger_url.removeprefix("sqlite:")
    path = path[2:] if path.startswith("//") else path
    return str(Path(path).parent / MEMORY_FOLDER)


class Memory:
    """One ledger's memory at ``location`` (a folder: Qdrant local mode; or a server URL)."""

    def __init__(self, led: ledger.Ledger, location: str, *, embed: Embed | None = None) -> None:
        self.led = led
        self.store = MemoryStore(location)
        self.indexer = Indexer(led, self.store, embed)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def index(
        self, tenant: str, project: str | None = None, *, progress: Progress | None = None
    ) -> IndexStats:
        """Bring the tenant's projects (or one) up to their heads."""
        projects = [project] if project else self.led.projects(tenant)
        total = IndexStats()
        for p in projects:
            total += self.indexer.catch_up(tenant, p, progress=progress)
        return total

    def search(
        self,
        tenant: str,
        query: str,
        *,
        kind: str | None = None,
        project: str | None = None,
        limit: int = 10,
        mode: str = "hybrid",
        catch_up: bool = False,
    ) -> list[Hit]:
        """The tenant's best ``limit`` points for ``query`` (of ``kind``, or both kinds);
        ``catch_up`` indexes the log up to its head first (once the query is checked).

        Raises InvalidMemoryQuery for an empty or oversized query, an unknown kind
        or mode, a limit outside 1..100; the ledger's UnknownProject for a project
        the tenant does not have.
        """
        text = query.strip()
        if not text:
            raise InvalidMemoryQuery("the query is empty")
        if len(text) > MAX_QUERY_CHARS:
            raise InvalidMemoryQuery(f"the query is over {MAX_QUERY_CHARS} characters")
        if kind is not None and kind not in KINDS:
            raise InvalidMemoryQuery(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if mode not in MODES:
            raise InvalidMemoryQuery(f"mode {mode!r} is not one of {', '.join(MODES)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidMemoryQuery(f"limit {limit} is outside 1..{MAX_LIMIT}")
        if project:
            self.led.project_info(tenant, project)  # UnknownTenant / UnknownProject
        if catch_up:
            self.index(tenant, project)
        dense = self.indexer.embed([text])[0]
        hits: list[Hit] = []
        for k in (kind,) if kind else KINDS:
            hits += self.store.search(
                tenant, text, dense, kind=k, project=project or None, limit=limit, mode=mode
            )
        hits.sort(key=lambda h: -h.score)
        return hits[:limit]

    def context_for(self, tenant: str, project: str, task_text: str, k: int = 6) -> list[Hit]:
        """The lessons and code chunks a coder should read for ``task_text``: up to ``k``,
        lessons first (at most half), after indexing what the project's log holds now.

        Only finished missions teach: an unfinished one (the asking coder's own, most
        often) would echo the task back.
        """
        if not task_text.strip() or k < 1:
            return []
        self.index(tenant, project)
        text = task_text[:MAX_QUERY_CHARS]
        found = self.search(tenant, text, kind="lesson", project=project, limit=min(k + 4, 100))
        lessons = [h for h in found if isinstance(h, Lesson) and h.outcome != "unfinished"]
        code = self.search(tenant, text, kind="code", project=project, limit=k)
        return [*lessons[: max(1, k // 2)], *code][:k]

    def candidate_files(self, tenant: str, project: str, request: str, k: int = 5) -> list[str]:
        """The files most likely to hold what a free-form ``request`` is about, best first
        (the scout's starting points when a request names no symbol)."""
        hits = self.search(tenant, request[:MAX_QUERY_CHARS], kind="code", project=project,
                           limit=min(MAX_LIMIT, 4 * k), catch_up=True)  # fmt: skip
        paths: list[str] = []
        for hit in hits:
            if isinstance(hit, CodeChunk) and hit.path not in paths:
                paths.append(hit.path)
        return paths[:k]

    def forget(self, tenant: str, project: str | None = None) -> int:
        """Delete the tenant's (or the project's) points: what deleting a project calls."""
        return self.store.forget(tenant, project)


_attached: Memory | None = None


def attach(memory: Memory | None) -> None:
    """Make ``memory`` the one ``context_for`` answers from (None: memory off)."""
    global _attached
    _attached = memory


def attached() -> Memory | None:
    return _attached


def context_for(tenant: str, project: str, task_text: str, k: int = 6) -> list[Hit]:
    """Up to ``k`` lessons and code chunks of the tenant's project for a coder's task, from
    the attached ``Memory``; [] when none is attached (memory is off or not installed)."""
    memory = _attached
    if memory is None:
        return []
    return memory.context_for(tenant, project, task_text, k)


def candidate_files(tenant: str, project: str, request: str, k: int = 5) -> list[str]:
    """``Memory.candidate_files`` of the attached memory; [] when none is attached."""
    memory = _attached
    return [] if memory is None else memory.candidate_files(tenant, project, request, k)
