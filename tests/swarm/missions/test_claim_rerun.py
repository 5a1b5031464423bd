"""A claim whose commit landed but was reported unknown belongs to its claimant.

On FoundationDB a transaction can commit and report ``commit_unknown_result``;
the retry loop runs the closure again on top of its own commit. The sim engine
does that to every transaction here (``ALWAYS_UNKNOWN``): before the append
recognised its own receipt, the claimant saw its own claim as a duplicate,
``claim()`` returned False and the ticket stayed claimed by nobody working it.
"""

from __future__ import annotations

from pathlib import Path

from ledger import Ledger
from ledger._memory import MemoryEngine
from ledger._sim import SimEngine, SimFaults
from swarm.brain import make_brain
from swarm.missions import MissionOptions
from swarm.missions._identity import AgentId, Role
from swarm.missions._loop import claim
from swarm.missions._plan import Ticket
from swarm.missions._runtime import Runtime
from swarm.missions._view import TicketView
from swarm.scout import RepoIndex
from tests.swarm.missions.conftest import RENAME

ALWAYS_UNKNOWN = SimFaults(unknown_result=1.0, conflict=0.0, faulty_attempts=2)


def _runtime(tmp_path: Path, engine: SimEngine) -> Runtime:
    """A run of mission m-1 on a project made calmly; from then on every commit is
    reported unknown."""
    led = Ledger(engine)
    engine.faults = SimFaults(unknown_result=0.0, conflict=0.0)
    led.create_tenant("acme")
    led.create_project("acme", "shop")
    engine.faults = ALWAYS_UNKNOWN
    return Runtime(
        led,
        "acme",
        "shop",
        tmp_path,
        "m-1",
        RENAME,
        make_brain("rules"),
        MissionOptions(),
        RepoIndex(tmp_path),
        run=1,
    )


def test_a_claim_reported_unknown_is_the_claimants_and_a_rival_still_loses(
    tmp_path: Path,
) -> None:
    engine = SimEngine(MemoryEngine(), seed=1, faults=ALWAYS_UNKNOWN)
    rt = _runtime(tmp_path, engine)
    ticket = Ticket("edit-1", "coder")
    mine, rivals = TicketView(ticket), TicketView(ticket)
    assert claim(rt, mine, AgentId(Role.CODER, 1))  # main's ledger: False, the ticket wedged
    assert mine.claimed_by == "coder-1"
    assert not claim(rt, rivals, AgentId(Role.CODER, 2))  # the id landed from coder-1
    assert rivals.claimed_by == ""
    assert engine.counts["unknown"] == 1  # the claim's commit (the rival's wrote nothing)
