"""The brain port: requests, proposals, recorded model exchanges, and the Brain protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from swarm.scout import RepoIndex

#: Request kinds and the params each requires (optional ones are not listed).
REQUEST_KINDS: Mapping[str, tuple[str, ...]] = {
    "rename": ("old", "new"),
    "add_param": ("function", "param", "default"),
    "patch": ("diff",),
    "ask": ("prompt",),
    "fix": (),  # optional: tests (one id per line), prompt
    "plan": ("goal",),  # a goal the planner splits into tickets (swarm.missions._planner)
}


@dataclass(frozen=True, slots=True)
class EditRequest:
    """What a person asked for: ``kind`` and its string params.

    rename: ``old``, ``new``; add_param: ``function``, ``param``, ``default``
    (optional ``value`` passed at call sites); patch: ``diff``; ask: ``prompt``;
    fix: optional ``tests`` (test ids, one per line; none: every failing test) and ``prompt``;
    plan: ``goal`` (optional ``planner_model``, ``planner_url``, ``plan_answers``).
    """

    kind: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens one or more model calls consumed; ``estimated`` when the server did not say.

    Adds up (``a + b``), so a mission's usage is the sum of its exchanges'.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        """Prompt and completion tokens together (what a token budget counts)."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.estimated or other.estimated,
        )


@dataclass(frozen=True, slots=True)
class Exchange:
    """One model request and its answer, exactly as sent and received.

    ``response_json`` is a chat-completion object; a streamed answer is recorded
    as the completion its chunks add up to, so a replay reads both alike.
    ``usage`` is ``None`` for exchanges read back from an old record.
    """

    provider: str
    model: str
    request_json: str
    response_json: str
    seconds: float
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class FileEdit:
    """The new content of one file (``None`` deletes it) and why."""

    path: str
    new_source: str | None
    rationale: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A whole request's edits, the reasoning, and the model exchanges behind them."""

    edits: tuple[FileEdit, ...]
    rationale: str
    transcript: tuple[Exchange, ...]


class Brain(Protocol):
    """A provider of edits: deterministic rules or a model."""

    name: str

    def targets(self, request: EditRequest, index: RepoIndex) -> list[str]:
        """The repo paths this request will change (coders get one ticket per file)."""
        ...

    def edit(self, request: EditRequest, path: str, source: str, index: RepoIndex) -> FileEdit:
        """The new content of one file under this request."""
        ...

    def propose(
        self, request: EditRequest, index: RepoIndex, read: Callable[[str], str]
    ) -> Proposal:
        """The whole request at once; ``read(path)`` returns a file's current text."""
        ...
