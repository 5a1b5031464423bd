"""A memory indexer process that SIGKILLs itself at a named point of its writes.

Run as a script (``python tests/memory/_index_child.py LEDGER_URL FOLDER TENANT PROJECT``),
never imported by pytest. ``$SWARM_TEST_KILL_AT`` names the point:

``after-points-N``  right after the Nth file's points were written (its batch's cursor not yet)
``after-cursor-N``  right after the Nth cursor write
(unset)             no kill

The point is counted on the real ``MemoryStore`` (the seam: the indexer above it runs
unchanged). Indexes in batches of 4 events; prints ``done`` at the end.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ledger
from swarm.memory import Memory


def _arm(store: Any, point: str) -> None:
    where, _, nth = point.rpartition("-")
    target = int(nth)
    counts = {"after-points": 0, "after-cursor": 0}
    method = {"after-points": "replace_code", "after-cursor": "set_cursor"}[where]
    real = getattr(store, method)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        counts[where] += 1
        if counts[where] == target:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    setattr(store, method, wrapped)


def main(argv: list[str]) -> None:
    url, folder, tenant, project = argv
    led = ledger.open_ledger(url)
    mem = Memory(led, folder)
    point = os.environ.get("SWARM_TEST_KILL_AT", "")
    if point:
        _arm(mem.store, point)
    stats = mem.indexer.catch_up(tenant, project, batch=4)
    print("done", stats.events, flush=True)
    mem.close()
    led.close()


if __name__ == "__main__":
    main(sys.argv[1:])
