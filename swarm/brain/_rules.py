"""RulesBrain: deterministic codemods over the scout's index."""

from __future__ import annotations

from collections.abc import Callable

from swarm.brain._types import EditRequest, FileEdit, Proposal
from swarm.scout import RepoIndex


class RulesBrain:
    """Deterministic codemods: rename, add a parameter, apply a diff. No model."""

    name = "rules"

    def targets(self, request: EditRequest, index: RepoIndex) -> list[str]:
        raise NotImplementedError

    def edit(self, request: EditRequest, path: str, source: str, index: RepoIndex) -> FileEdit:
        raise NotImplementedError

    def propose(
        self, request: EditRequest, index: RepoIndex, read: Callable[[str], str]
    ) -> Proposal:
        raise NotImplementedError
