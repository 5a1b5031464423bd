"""The daemon's memory: an indexer thread off the write path, and the ``SearchMemory`` answer.

The thread follows every tenant's projects (``swarm.memory.Indexer.follow``,
woken by the ledger's watches); appends never wait for it. A search first
catches the asked projects up (one pass under the indexer's lock, usually
nothing to do), so an answer reflects the log as the call found it. The
``Memory`` is attached (``swarm.memory.attach``) so a model-backed coder's
``context_for`` reads it.
"""

from __future__ import annotations

import threading

import ledger
import swarm.memory as memory
from proto.swarm.v1 import memory_pb2 as mpb
from swarm.client._memory import DEFAULT_LIMIT, hit_to_pb
from swarm.daemon._logging import get_logger


class DaemonMemory:
    """One daemon's memory at ``location`` (a folder, or a Qdrant server URL)."""

    def __init__(self, led: ledger.Ledger, location: str) -> None:
        self.memory = memory.Memory(led, location)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="swarm-memory", daemon=True)
        self._log = get_logger()

    def start(self) -> None:
        memory.attach(self.memory)
        self._thread.start()

    def _follow(self) -> None:
        try:
            self.memory.indexer.follow(self._stop)
        except memory.MemoryFailure as exc:  # the extra went missing: searches will say so
            self._log.error("memory indexer stopped", error=str(exc))

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the indexer (it ends within its current batch) and close the store."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if memory.attached() is self.memory:
            memory.attach(None)
        self.memory.close()

    def search(self, tenant: str, request: mpb.SearchMemoryRequest) -> mpb.SearchMemoryResponse:
        hits = self.memory.search(
            tenant,
            request.query,
            kind=request.kind or None,
            project=request.project or None,
            limit=request.limit or DEFAULT_LIMIT,
            catch_up=True,
        )
        return mpb.SearchMemoryResponse(hits=[hit_to_pb(h) for h in hits])
