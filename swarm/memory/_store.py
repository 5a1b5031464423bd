"""Memory's points in Qdrant: one collection per kind, every tenant in it, a tenant index.

Qdrant's recommended layout for many tenants is payload partitioning: each
point carries ``tenant`` (a keyword index with ``is_tenant=True``, so a server
keeps each tenant's points together) and every read filters on it. The same
code runs on local mode (a folder: ``QdrantClient(path=...)``, where payload
indexes are accepted and have no effect) and on a server (``url``).

Each point has a named dense vector (``dense``, 384 dimensions, cosine) and a
sparse one (``sparse``: BM25 term weights, Qdrant's IDF modifier). A search is
both, fused by distribution-based score fusion (``mode="hybrid"``: each half's scores
normalised, then summed), by reciprocal rank (``"rrf"``), or either alone
(``"dense"``, ``"sparse"``). bench/memory.py measures all four; DBSF ranked best.

Local mode is not thread-safe and lets one process open a folder: every call
holds the store's lock, and a folder another process holds is ``MemoryBusy``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from swarm.memory._chunks import Chunk
from swarm.memory._embed import DIMENSIONS
from swarm.memory._errors import BadMemoryLocation, MemoryBusy, MemoryUnavailable
from swarm.memory._ids import cursor_id, point_id
from swarm.memory._lessons import LessonDoc
from swarm.memory._sparse import document_vector, query_vector
from swarm.memory._types import CodeChunk, Hit, Lesson

COLLECTIONS = {"code": "swarm_memory_code", "lesson": "swarm_memory_lesson"}
CURSORS = "swarm_memory_cursor"
MODES = ("hybrid", "rrf", "dense", "sparse")
_PAGE = 256
#: How deep each half of a hybrid search reaches before the fusion.
PREFETCH = 50
Embed = Callable[[Sequence[str]], list[list[float]]]


def _qdrant() -> Any:
    try:
        import qdrant_client
    except ImportError as exc:
        raise MemoryUnavailable("qdrant-client") from exc
    return qdrant_client


class MemoryStore:
    """The points of every tenant's memory at one location (a folder or a server URL)."""

    def __init__(self, location: str) -> None:
        qc = _qdrant()
        self.location = location
        self._m: Any = qc.models
        self._lock = threading.RLock()
        if location.startswith(("http://", "https://")):
            self.local = False
            self._client: Any = qc.QdrantClient(url=location, timeout=30)
        elif location and "://" not in location:
            self.local = True
            try:
                self._client = qc.QdrantClient(path=location, force_disable_check_same_thread=True)
            except RuntimeError as exc:
                if "already accessed" in str(exc):
                    raise MemoryBusy(location) from None
                raise
        else:
            raise BadMemoryLocation(location, "give a folder or an http(s):// Qdrant URL")
        self._ensure()

    def close(self) -> None:
        with self._lock:
            self._client.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # layout -----------------------------------------------------------------------------
    def _ensure(self) -> None:
        m = self._m
        with self._lock, warnings.catch_warnings():
            # Local mode says payload indexes do nothing there; a server uses them.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            for name in COLLECTIONS.values():
                if self._client.collection_exists(name):
                    continue
                self._client.create_collection(
                    name,
                    vectors_config={
                        "dense": m.VectorParams(size=DIMENSIONS, distance=m.Distance.COSINE)
                    },
                    sparse_vectors_config={"sparse": m.SparseVectorParams(modifier=m.Modifier.IDF)},
                )
                tenant = m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True)
                self._client.create_payload_index(name, "tenant", tenant)
                for field in ("project", "path", "mission_id"):
                    self._client.create_payload_index(name, field, m.PayloadSchemaType.KEYWORD)
            if not self._client.collection_exists(CURSORS):
                self._client.create_collection(CURSORS, vectors_config={})

    def drop(self) -> None:
        """Delete every collection (a rebuild from the ledger gives the same points back)."""
        with self._lock:
            for name in (*COLLECTIONS.values(), CURSORS):
                self._client.delete_collection(name)
            self._ensure()

    def _filter(self, tenant: str, **fields: str | None) -> Any:
        m = self._m
        must = [m.FieldCondition(key="tenant", match=m.MatchValue(value=tenant))]
        for key, value in fields.items():
            if value is not None:
                must.append(m.FieldCondition(key=key, match=m.MatchValue(value=value)))
        return m.Filter(must=must)

    # cursors ----------------------------------------------------------------------------
    def get_cursor(self, tenant: str, project: str) -> str | None:
        """The versionstamp (hex) of the last event indexed for the project, or None."""
        with self._lock:
            found = self._client.retrieve(CURSORS, [cursor_id(tenant, project)])
        return str(found[0].payload["versionstamp"]) if found else None

    def set_cursor(self, tenant: str, project: str, versionstamp: str) -> None:
        payload = {"tenant": tenant, "project": project, "versionstamp": versionstamp}
        point = self._m.PointStruct(id=cursor_id(tenant, project), vector={}, payload=payload)
        with self._lock:
            self._client.upsert(CURSORS, [point], wait=True)

    # writing ----------------------------------------------------------------------------
    def replace_code(
        self,
        tenant: str,
        project: str,
        path: str,
        chunks: Sequence[Chunk],
        versionstamp: str,
        embed: Embed,
    ) -> tuple[int, int]:
        """Make the file's points exactly ``chunks`` (none: the file is gone or not code).

        Returns (points written, points removed). A chunk whose text is unchanged
        keeps its id and vectors; only its payload (lines, versionstamp) is rewritten.
        """
        rows: dict[str, tuple[str, dict[str, Any]]] = {}
        for c in chunks:
            pid = point_id(tenant, project, "code", path, c.symbol, c.text)
            payload = {
                "tenant": tenant,
                "project": project,
                "path": path,
                "symbol": c.symbol,
                "chunk_kind": c.chunk_kind,
                "start_line": c.start_line,
                "end_line": c.end_line,
                "versionstamp": versionstamp,
                "text": c.text,
            }
            rows.setdefault(pid, (c.embed_text(path), payload))
        return self._replace("code", self._filter(tenant, project=project, path=path), rows, embed)

    def put_lesson(self, tenant: str, project: str, doc: LessonDoc, embed: Embed) -> None:
        """Make the mission's lesson point ``doc`` (replacing an earlier text of it)."""
        pid = point_id(tenant, project, "lesson", doc.mission_id, "", doc.text)
        payload = {
            "tenant": tenant,
            "project": project,
            "mission_id": doc.mission_id,
            "outcome": doc.outcome,
            "verdict": doc.verdict,
            "versionstamp": doc.versionstamp,
            "text": doc.text,
        }
        where = self._filter(tenant, project=project, mission_id=doc.mission_id)
        self._replace("lesson", where, {pid: (doc.text, payload)}, embed)

    def _replace(
        self, kind: str, where: Any, rows: dict[str, tuple[str, dict[str, Any]]], embed: Embed
    ) -> tuple[int, int]:
        m, name = self._m, COLLECTIONS[kind]
        old = {str(r.id): r for r in self._scroll(name, where, vectors=True)}
        fresh = [pid for pid in rows if pid not in old]
        vectors = dict(zip(fresh, embed([rows[p][0] for p in fresh]), strict=True))
        points = []
        for pid, (text, payload) in rows.items():
            if pid in old:
                vector = old[pid].vector
            else:
                idx, val = document_vector(text)
                vector = {"dense": vectors[pid], "sparse": m.SparseVector(indices=idx, values=val)}
            points.append(m.PointStruct(id=pid, vector=vector, payload=payload))
        gone = [pid for pid in old if pid not in rows]
        with self._lock:
            if points:
                self._client.upsert(name, points, wait=True)
            if gone:
                self._client.delete(name, points_selector=m.PointIdsList(points=gone), wait=True)
        return len(points), len(gone)

    def forget(self, tenant: str, project: str | None = None) -> int:
        """Delete a tenant's points (or one project's), cursors included; returns how many."""
        m = self._m
        where = self._filter(tenant, project=project)
        removed = 0
        with self._lock:
            for name in (*COLLECTIONS.values(), CURSORS):
                removed += self._client.count(name, count_filter=where, exact=True).count
                self._client.delete(name, points_selector=m.FilterSelector(filter=where), wait=True)
        return removed

    # reading ----------------------------------------------------------------------------
    def _scroll(self, name: str, where: Any, *, vectors: bool = False) -> list[Any]:
        out: list[Any] = []
        offset = None
        while True:
            with self._lock:
                page, offset = self._client.scroll(
                    name,
                    scroll_filter=where,
                    limit=_PAGE,
                    offset=offset,
                    with_payload=True,
                    with_vectors=vectors,
                )
            out.extend(page)
            if offset is None:
                return out

    def points(
        self, tenant: str, kind: str, project: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Every point of the tenant (and project) of ``kind``: id -> payload (tests, audits)."""
        rows = self._scroll(COLLECTIONS[kind], self._filter(tenant, project=project))
        return {str(r.id): dict(r.payload) for r in rows}

    def projects(self) -> set[tuple[str, str]]:
        """Every (tenant, project) that has a cursor here."""
        rows = self._scroll(CURSORS, None)
        return {(str(r.payload["tenant"]), str(r.payload["project"])) for r in rows}

    def search(
        self,
        tenant: str,
        query: str,
        query_vector_dense: list[float],
        *,
        kind: str,
        project: str | None,
        limit: int,
        mode: str = "hybrid",
    ) -> list[Hit]:
        """The tenant's best ``limit`` points of ``kind`` for ``query``, best first."""
        m = self._m
        where = self._filter(tenant, project=project)
        idx, val = query_vector(query)
        sparse = m.SparseVector(indices=idx, values=val)
        name = COLLECTIONS[kind]
        with self._lock:
            if mode == "dense" or (mode == "hybrid" and not idx):
                res = self._client.query_points(
                    name, query=query_vector_dense, using="dense", query_filter=where, limit=limit
                )
            elif mode == "sparse":
                res = self._client.query_points(
                    name, query=sparse, using="sparse", query_filter=where, limit=limit
                )
            else:
                reach = max(PREFETCH, limit)
                dense = m.Prefetch(
                    query=query_vector_dense, using="dense", filter=where, limit=reach
                )
                keyword = m.Prefetch(query=sparse, using="sparse", filter=where, limit=reach)
                res = self._client.query_points(
                    name,
                    prefetch=[dense, keyword],
                    query=m.FusionQuery(fusion=m.Fusion.RRF if mode == "rrf" else m.Fusion.DBSF),
                    query_filter=where,
                    limit=limit,
                )
        return [_hit(kind, p.payload, float(p.score)) for p in res.points]


def _hit(kind: str, payload: dict[str, Any], score: float) -> Hit:
    if kind == "code":
        return CodeChunk(
            project=payload["project"],
            path=payload["path"],
            symbol=payload["symbol"],
            chunk_kind=payload["chunk_kind"],
            start_line=int(payload["start_line"]),
            end_line=int(payload["end_line"]),
            versionstamp=payload["versionstamp"],
            text=payload["text"],
            score=score,
        )
    return Lesson(
        project=payload["project"],
        mission_id=payload["mission_id"],
        outcome=payload["outcome"],
        verdict=payload["verdict"],
        versionstamp=payload["versionstamp"],
        text=payload["text"],
        score=score,
    )
