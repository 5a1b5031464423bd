"""OpenAIBrain: an OpenAI-compatible ``/v1/chat/completions`` endpoint, asked for a diff."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from swarm.brain._types import EditRequest, Exchange, FileEdit, Proposal
from swarm.scout import RepoIndex


class OpenAIBrain:
    """A model behind an OpenAI-compatible chat-completions endpoint."""

    name = "openai"

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s

    def targets(self, request: EditRequest, index: RepoIndex) -> list[str]:
        raise NotImplementedError

    def edit(self, request: EditRequest, path: str, source: str, index: RepoIndex) -> FileEdit:
        raise NotImplementedError

    def propose(
        self, request: EditRequest, index: RepoIndex, read: Callable[[str], str]
    ) -> Proposal:
        raise NotImplementedError


def replay_proposal(
    request: EditRequest, transcript: Sequence[Exchange], read: Callable[[str], str]
) -> Proposal:
    """Rebuild a proposal from recorded exchanges, without calling any model."""
    raise NotImplementedError
