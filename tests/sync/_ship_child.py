"""A shipper process that SIGKILLs itself at a named point of its writes to the hub.

Run as a script (``python tests/sync/_ship_child.py EDGE_URL HUB_URL BATCH``),
never imported by pytest. ``$SWARM_TEST_KILL_AT`` names the point:

``in-tx-N``     inside the hub's Nth write transaction, after its writes were
                staged and before it commits
``after-tx-N``  right after the hub's Nth write transaction committed
(unset)         no kill

The point is counted on the hub's real sqlite engine ``transact`` (the seam:
the shipper and the ledger above it run unchanged), so it lands in a blob
group as well as in an append. Prints ``done`` if it ships everything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ledger
import sync
from tests._kill_at import arm_transactions


def main(argv: list[str]) -> None:
    edge_url, hub_url, batch = argv
    edge, hub = ledger.open_ledger(edge_url), ledger.open_ledger(hub_url)
    point = os.environ.get("SWARM_TEST_KILL_AT", "")
    if point:
        arm_transactions(hub.engine, point)
    grant = sync.SyncGrant.of(["acme"], holder="crash test")
    sync.Shipper(edge, hub, hub_name="hq", grant=grant, batch_events=int(batch)).ship()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
