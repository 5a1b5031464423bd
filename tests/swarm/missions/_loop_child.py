"""A mission process that SIGKILLs itself once a named event of the coder's loop lands.

Run as a script (``python tests/swarm/missions/_loop_child.py DB REPO MODEL_URL MID KIND``),
never imported by pytest. ``$SWARM_TEST_KILL_AT`` names the point, as the token
store's crash child does (``tests/daemon/_token_child.py``):

``after-event:SUFFIX``  right after the append holding an event whose id ends with SUFFIX
(unset)                 no kill

The point is counted on the ledger's ``append`` (the seam: the mission above it runs
unchanged). Prints ``done`` when the mission ends without being killed.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import ledger
from swarm.brain import EditRequest
from swarm.missions import MissionOptions, run_mission, start_mission


def _arm(led: ledger.Ledger, point: str) -> None:
    where, _, suffix = point.partition(":")
    assert where == "after-event", point
    real: Callable[..., Any] = led.append

    def append(tenant: str, project: str, events: Any, *args: Any, **kwargs: Any) -> Any:
        out = real(tenant, project, events, *args, **kwargs)
        if any(ev.event_id.endswith(suffix) for ev in events):
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    led.append = append  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    db, repo, url, mid, kind = argv
    led = ledger.open_ledger(f"sqlite://{db}")
    point = os.environ.get("SWARM_TEST_KILL_AT", "")
    if point:
        _arm(led, point)
    settings = {"base_url": url, "model": "scripted", "timeout_s": 60.0}
    start_mission(
        led,
        "acme",
        "calc",
        Path(repo),
        EditRequest(kind, {}),
        brain="openai",
        brain_settings=settings,
        options=MissionOptions(coders=1, backoff_s=0.0),
        mission_id=mid,
    )
    run_mission(led, "acme", "calc", mid)
    print("done", flush=True)
    led.close()


if __name__ == "__main__":
    main(sys.argv[1:])
