"""Who acts in a mission and how things end: agent ids, roles and outcomes, defined once.

An agent's id is written in the ledger as ``ROLE-N`` (``coder-2``, ``critic-1``);
:class:`AgentId` is that pair as a value, so no code parses prefixes or spells
``"orchestrator-1"`` by hand. Ids that are not a mission agent's (``human:alice``)
stay strings: :meth:`AgentId.parse` returns None for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from proto.swarm.v1 import events_pb2 as pb


class Role(StrEnum):
    """A mission agent's role: its id's prefix and the ledger's ``AgentRole``."""

    SCOUT = "scout"
    CODER = "coder"
    CRITIC = "critic"
    ORCHESTRATOR = "orchestrator"

    @property
    def proto(self) -> pb.AgentRole:
        return _PROTO_ROLES[self]


_PROTO_ROLES: dict[Role, pb.AgentRole] = {
    Role.SCOUT: pb.AGENT_ROLE_SCOUT,
    Role.CODER: pb.AGENT_ROLE_CODER,
    Role.CRITIC: pb.AGENT_ROLE_CRITIC,
    Role.ORCHESTRATOR: pb.AGENT_ROLE_ORCHESTRATOR,
}


@dataclass(frozen=True, slots=True, order=True)
class AgentId:
    """One mission agent: its role and its number within the run (``coder-2``)."""

    role: Role
    number: int = 1

    def __str__(self) -> str:
        return f"{self.role.value}-{self.number}"

    @classmethod
    def parse(cls, text: str) -> AgentId | None:
        """The agent ``text`` names (``"coder-2"``), or None when it is no mission agent's id."""
        prefix, _, number = text.partition("-")
        if prefix not in _BY_NAME or not number.isdigit():
            return None
        return cls(_BY_NAME[prefix], int(number))


_BY_NAME = {r.value: r for r in Role}

ORCHESTRATOR = AgentId(Role.ORCHESTRATOR)
SCOUT = AgentId(Role.SCOUT)
CRITIC = AgentId(Role.CRITIC)


def coder_id(number: int) -> AgentId:
    """The id of coder ``number`` (1-based)."""
    return AgentId(Role.CODER, number)


def role_of(agent_id: str) -> pb.AgentRole:
    """The ledger's role for an agent id: its role for a mission agent, SYSTEM otherwise."""
    agent = AgentId.parse(agent_id)
    return agent.role.proto if agent is not None else pb.AGENT_ROLE_SYSTEM


class MissionOutcome(StrEnum):
    """How a mission stands: its MISSION_FINISHED's outcome, or running before it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RUNNING = "running"
