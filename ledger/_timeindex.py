"""The wall-clock index: which event a moment in time names (``--at TIME``).

Each append writes one sparse key ``('at', time_us, vs)`` for its first event.
Event times only grow within a project, so the last sparse key at or before a
time names the transaction that holds the answer, and a short scan of the log
from there finds it.
"""

from __future__ import annotations

from ledger import _codec as codec
from ledger._keys import vs_from_key
from ledger._port import Engine, Transaction
from ledger._scope import ProjectScope
from ledger._types import Versionstamp

_SCAN = 256


def versionstamp_at(engine: Engine, scope: ProjectScope, time_us: int) -> Versionstamp | None:
    """The last event at or before ``time_us``; None if the project had none yet."""
    pk = scope.keys

    def fn(tr: Transaction) -> Versionstamp | None:
        scope.require(tr)
        start = tr.get_range(pk.at, pk.at_prefix(time_us + 1), limit=1, reverse=True)
        if not start:
            return None
        # Times only grow, so the answer is in the transaction the sparse index found.
        found = vs_from_key(start[0][0])
        cursor = pk.event(found)
        end = pk.event_span()[1]
        while True:
            rows = tr.get_range(cursor, end, limit=_SCAN)
            for key, value in rows:
                if codec.decode_record(vs_from_key(key), value).time_us > time_us:
                    return found
                found = vs_from_key(key)
            if len(rows) < _SCAN:
                return found
            cursor = rows[-1][0] + b"\x00"

    return engine.read(fn)
