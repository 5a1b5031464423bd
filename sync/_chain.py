"""The edge's hash chain, re-walked over what sync is about to ship.

Every stored record carries ``chain = sha256(previous chain + event bytes)``
from 32 zero bytes. Sync reads the raw records, checks each link from the
chain stored at its cursor, and parses only bytes that passed, so what the
hub appends is exactly what the edge's chain covers. The link is the ledger's
own (``ledger.link``); unlike ``ledger.follow``, a walk here keeps the records
before a break, so what the chain still covers ships and the break is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError

import ledger
from ledger import RecordedEvent, Versionstamp
from proto.swarm.v1 import events_pb2 as pb

GENESIS = ledger.GENESIS


@dataclass(frozen=True, slots=True)
class Break:
    """Where the chain stops holding, and why."""

    versionstamp: Versionstamp
    detail: str


def walk_chain(
    anchor: bytes, raw: list[tuple[Versionstamp, bytes, bytes]]
) -> tuple[list[RecordedEvent], Break | None]:
    """The records of ``raw`` that follow the chain from ``anchor``, parsed, and the first break.

    Records after a break are not returned: nothing the chain does not
    cover is shipped.
    """
    out: list[RecordedEvent] = []
    prev = anchor
    for vs, chain, data in raw:
        if ledger.link(prev, data) != chain:
            return out, Break(vs, "its bytes do not hash to its chain entry")
        try:
            event = pb.SwarmEvent.FromString(data)
        except DecodeError:
            return out, Break(vs, "its bytes are not a SwarmEvent")
        out.append(RecordedEvent(vs, event, chain))
        prev = chain
    return out, None
