"""The brain port: what agents ask when an edit needs judgement.

Two providers: :class:`RulesBrain` (deterministic codemods, no model) and
:class:`OpenAIBrain` (any OpenAI-compatible ``/v1/chat/completions`` endpoint
through :class:`ChatClient`, asked for search/replace blocks; diffs and whole
files accepted too). Every model call comes back as an
:class:`Exchange` in the proposal's transcript so it can be recorded as an
event and a replay never calls the model again (:func:`replay_proposal`).
"""

from __future__ import annotations

from typing import Any

from swarm.brain._chat import ChatClient, ChatReply, ChatStream, Clock, SystemClock
from swarm.brain._diff import FilePatch, Hunk, apply_patch, parse_unified_diff
from swarm.brain._errors import (
    AmbiguousSymbol,
    BrainError,
    EditDoesNotApply,
    InvalidRequest,
    ModelError,
    ModelHTTPError,
    ModelTimeout,
    ModelUnreachable,
    PatchDoesNotApply,
    UnknownSymbol,
)
from swarm.brain._openai import (
    OpenAIBrain,
    feedback_for,
    proposal_from_answer,
    replay_proposal,
)
from swarm.brain._rules import RulesBrain, resolve_target
from swarm.brain._settings import ModelSettings, RetryPolicy, Timeouts
from swarm.brain._types import (
    REQUEST_KINDS,
    Brain,
    EditRequest,
    Exchange,
    FileEdit,
    Proposal,
    Usage,
)

__all__ = [
    "REQUEST_KINDS",
    "AmbiguousSymbol",
    "Brain",
    "BrainError",
    "ChatClient",
    "ChatReply",
    "ChatStream",
    "Clock",
    "EditDoesNotApply",
    "EditRequest",
    "Exchange",
    "FileEdit",
    "FilePatch",
    "Hunk",
    "InvalidRequest",
    "ModelError",
    "ModelHTTPError",
    "ModelSettings",
    "ModelTimeout",
    "ModelUnreachable",
    "OpenAIBrain",
    "PatchDoesNotApply",
    "Proposal",
    "RetryPolicy",
    "RulesBrain",
    "SystemClock",
    "Timeouts",
    "UnknownSymbol",
    "Usage",
    "apply_patch",
    "feedback_for",
    "make_brain",
    "parse_unified_diff",
    "proposal_from_answer",
    "replay_proposal",
    "resolve_target",
]


_OPENAI_SETTINGS = frozenset(
    {
        "base_url",
        "model",
        "api_key",
        "timeout_s",
        "max_tokens",
        "context_tokens",
        "stream",
        "planner_model",
        "planner_base_url",
    }
)


def make_brain(name: str, **settings: Any) -> Brain:
    """The provider called ``name`` ("rules" | "openai"), built from ``settings``.

    openai settings: ``base_url`` (required), ``model`` (required), ``api_key``, ``timeout_s``
    (the read timeout), ``max_tokens``, ``context_tokens``, ``stream``, and the planner's
    own ``planner_model`` / ``planner_base_url`` when it uses another model
    (:meth:`OpenAIBrain.for_kind`).
    """
    if name == "rules":
        if settings:
            raise InvalidRequest(f"the rules brain takes no settings, got {sorted(settings)}")
        return RulesBrain()
    if name == "openai":
        missing = [k for k in ("base_url", "model") if not settings.get(k)]
        if missing:
            raise InvalidRequest(f"the openai brain needs setting(s) {', '.join(missing)}")
        unknown = set(settings) - _OPENAI_SETTINGS
        if unknown:
            raise InvalidRequest(f"unknown openai brain setting(s): {', '.join(sorted(unknown))}")
        return OpenAIBrain(**settings)
    raise InvalidRequest(f"unknown brain {name!r}; expected 'rules' or 'openai'")
