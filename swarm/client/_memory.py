"""Memory through the client: the one codec of a hit, and the local search.

``search_memory`` on both clients returns ``swarm.memory``'s own value types
(``CodeChunk`` | ``Lesson``); the daemon encodes them with ``hit_to_pb`` and
``GrpcClient`` decodes them with ``hit_from_pb``, so both give equal values.
"""

from __future__ import annotations

from proto.swarm.v1 import memory_pb2 as mpb
from swarm.memory import CodeChunk, Hit, Lesson

DEFAULT_LIMIT = 10


def hit_to_pb(hit: Hit) -> mpb.MemoryHit:
    if isinstance(hit, CodeChunk):
        return mpb.MemoryHit(
            kind="code",
            project=hit.project,
            score=hit.score,
            text=hit.text,
            versionstamp=hit.versionstamp,
            path=hit.path,
            symbol=hit.symbol,
            chunk_kind=hit.chunk_kind,
            start_line=hit.start_line,
            end_line=hit.end_line,
        )
    return mpb.MemoryHit(
        kind="lesson",
        project=hit.project,
        score=hit.score,
        text=hit.text,
        versionstamp=hit.versionstamp,
        mission_id=hit.mission_id,
        outcome=hit.outcome,
        verdict=hit.verdict,
    )


def hit_from_pb(m: mpb.MemoryHit) -> Hit:
    # float32 on the wire: the score is rounded the same way on both clients (hit_to_pb's
    # caller re-reads it through the message), so equal ledgers give equal values.
    if m.kind == "code":
        return CodeChunk(
            project=m.project,
            path=m.path,
            symbol=m.symbol,
            chunk_kind=m.chunk_kind,
            start_line=m.start_line,
            end_line=m.end_line,
            versionstamp=m.versionstamp,
            text=m.text,
            score=m.score,
        )
    return Lesson(
        project=m.project,
        mission_id=m.mission_id,
        outcome=m.outcome,
        verdict=m.verdict,
        versionstamp=m.versionstamp,
        text=m.text,
        score=m.score,
    )


def as_wire(hits: list[Hit]) -> list[Hit]:
    """``hits`` as a daemon's answer decodes (scores through float32): what both clients return."""
    return [hit_from_pb(hit_to_pb(h)) for h in hits]
