"""A token-store process that SIGKILLs itself at a named point of its writes.

Run as a script (``python tests/daemon/_token_child.py DB ACTION ...``), never
imported by pytest. ``$SWARM_TEST_KILL_AT`` names the point:

``in-tx-N``     inside the action's Nth write transaction, after its writes were
                staged and before it commits
``after-tx-N``  right after the Nth write transaction committed
(unset)         no kill

The point is counted on the real sqlite engine's ``transact`` (the seam: the
store and the ledger above it run unchanged). Actions: ``create TENANT`` prints
``SECRET TOKEN_ID``; ``revoke TENANT TOKEN_ID``. Both print ``done`` at the end.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ledger
from swarm.daemon._tokens import Role, TokenStore
from tests._kill_at import arm_transactions


def main(argv: list[str]) -> None:
    db, action, *rest = argv
    led = ledger.open_ledger(f"sqlite://{db}")
    store = TokenStore(led)
    point = os.environ.get("SWARM_TEST_KILL_AT", "")
    if point:
        arm_transactions(led.engine, point)
    if action == "create":
        secret, info = store.create(rest[0], Role.IDE, "crash test")
        print(secret, info.token_id, flush=True)
    else:
        store.revoke(rest[0], rest[1])
    print("done", flush=True)
    led.close()


if __name__ == "__main__":
    main(sys.argv[1:])
