"""OpenAIBrain: an OpenAI-compatible ``/v1/chat/completions`` endpoint, asked for edits.

The HTTP call is :class:`~swarm.brain._chat.ChatClient`'s (httpx: per-phase
timeouts, retries, max_tokens, streaming); the answer is read by
:mod:`swarm.brain._edits` in whichever format the model wrote it
(search/replace blocks are asked for; unified diffs and whole files are
accepted).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from swarm.brain._chat import ChatClient, ChatReply, Clock, public_url
from swarm.brain._diff import FilePatch, split_lines
from swarm.brain._edits import Edit, apply_edits, extract_diffs, parse_edits
from swarm.brain._errors import (
    BrainError,
    EditDoesNotApply,
    InvalidRequest,
    ModelError,
)
from swarm.brain._rules import RulesBrain, validate
from swarm.brain._settings import ModelSettings, Timeouts
from swarm.brain._types import EditRequest, Exchange, FileEdit, Proposal, Usage
from swarm.scout import NotInRepository, RepoIndex

if TYPE_CHECKING:
    import httpx

SYSTEM_PROMPT = """You are a careful software engineer changing a repository.
Answer with SEARCH/REPLACE blocks and nothing else but a short explanation. Each block is:

path/to/file.py
<<<<<<< SEARCH
the exact lines now in the file
=======
the lines to put in their place
>>>>>>> REPLACE

Copy the SEARCH lines exactly, with their indentation, and include just enough lines \
to find them once. Use several blocks for several places. To create a file, leave \
SEARCH empty. Paths are relative to the repository root."""
_CHARS_PER_TOKEN = 3  # conservative for code, so a prompt fits the server's context window
_PROSE_END = re.compile(r"^\s*(```|~~~|<{5,9}\s*SEARCH|--- |diff --git)")


class OpenAIBrain:
    """A model behind an OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp).

    ``patch`` requests never reach the model (the diff is applied as given);
    ``ask``, ``rename`` and ``add_param`` are sent as a prompt and the answer's
    edits are applied safely (see :mod:`swarm.brain._edits`). The proposal's
    transcript holds the exact request and response JSON of every call.
    ``timeout_s`` is the read timeout: how long the model may take to start
    (and keep) answering; :meth:`from_settings` sets every phase.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        *,
        max_tokens: int = 1024,
        context_tokens: int = 8192,
        stream: bool = True,
        planner_model: str | None = None,
        planner_base_url: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidRequest(
                f"openai base_url {base_url!r} must start with http:// or https://"
            )
        if not timeout_s > 0:
            raise InvalidRequest(f"openai timeout_s must be positive, got {timeout_s}")
        phase = min(timeout_s, 10.0)
        timeouts = Timeouts(connect=phase, read=timeout_s, write=min(timeout_s, 30.0), pool=phase)
        settings = ModelSettings(
            base_url,
            model,
            api_key,
            timeouts=timeouts,
            max_tokens=max_tokens,
            context_tokens=context_tokens,
            stream=stream,
        )
        self._setup(settings, None, None)
        self._kinds = _kind_settings(settings, planner_model, planner_base_url)

    @classmethod
    def from_settings(
        cls,
        settings: ModelSettings,
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> OpenAIBrain:
        """A brain on ``settings``; ``clock`` and ``transport`` are the client's seams."""
        brain = cls.__new__(cls)
        brain._setup(settings, clock, transport)
        brain._kinds = {}
        return brain

    def for_kind(self, kind: str) -> OpenAIBrain:
        """The brain an agent of ``kind`` ("coder", "planner", ...) talks to: this one,
        unless the settings name another model (or endpoint) for that kind."""
        settings = self._kinds.get(kind)
        if settings is None:
            return self
        return OpenAIBrain.from_settings(settings, clock=self._clock, transport=self._transport)

    def _setup(
        self, settings: ModelSettings, clock: Clock | None, transport: httpx.BaseTransport | None
    ) -> None:
        self.settings = settings
        self.url = public_url(settings.url)
        self.base_url = settings.endpoint.rstrip("/")
        self.model = settings.model
        self.timeout_s = settings.timeouts.read
        self._clock = clock
        self._transport = transport
        self._client: ChatClient | None = None  # made at the first call, not to validate
        self._proposals: dict[str, Proposal] = {}

    @property
    def usage(self) -> Usage:
        """The tokens every call of this brain has used."""
        return self._client.usage if self._client is not None else Usage()

    def close(self) -> None:
        """Release the HTTP client's connections."""
        if self._client is not None:
            self._client.close()

    # -- the Brain protocol ---------------------------------------------------

    def targets(self, request: EditRequest, index: RepoIndex) -> list[str]:
        """The repo paths the request changes (asks the model once, then remembers)."""
        validate(request)
        if request.kind == "patch":
            return RulesBrain().targets(request, index)
        return sorted(e.path for e in self._proposal(request, index, _disk_reader(index)).edits)

    def edit(self, request: EditRequest, path: str, source: str, index: RepoIndex) -> FileEdit:
        """One file's edit, from this request's (remembered) proposal."""
        validate(request)
        if request.kind == "patch":
            return RulesBrain().edit(request, path, source, index)
        disk = _disk_reader(index)

        def read(p: str) -> str:
            return source if p == path else disk(p)

        for e in self._proposal(request, index, read).edits:
            if e.path == path:
                return e
        raise InvalidRequest(f"the model's answer does not change {path}")

    def propose(
        self, request: EditRequest, index: RepoIndex, read: Callable[[str], str]
    ) -> Proposal:
        """Ask the model once for a unified diff and turn it into edits."""
        validate(request)
        if request.kind == "patch":
            return RulesBrain().propose(request, index, read)
        key = _key(request)
        proposal = self._ask(request, index, read)
        self._proposals[key] = proposal
        return proposal

    # -- internals ------------------------------------------------------------

    def _proposal(
        self, request: EditRequest, index: RepoIndex, read: Callable[[str], str]
    ) -> Proposal:
        key = _key(request)
        if key not in self._proposals:
            self._proposals[key] = self._ask(request, index, read)
        return self._proposals[key]

    def _ask(self, request: EditRequest, index: RepoIndex, read: Callable[[str], str]) -> Proposal:
        budget = (self.settings.context_tokens - self.settings.max_tokens) * _CHARS_PER_TOKEN
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_prompt(request, index, read, budget)},
        ]
        content, exchange = self.chat(messages)
        try:
            return _proposal_from_answer(content, (exchange,), index, read)
        except ModelError as exc:
            raise ModelError(
                self.url, exc.reason, exchange, provider=self.settings.provider, model=self.model
            ) from None
        except EditDoesNotApply as exc:
            exc.exchange = exchange  # so the failed answer is recorded too
            raise

    def chat(self, messages: list[dict[str, str]]) -> tuple[str, Exchange]:
        """One chat completion; the answer text and the recorded exchange."""
        reply = self.reply(messages)
        return reply.content, reply.exchange

    def reply(self, messages: list[dict[str, str]]) -> ChatReply:
        """One chat completion, whole: text, why it stopped, usage, the exchange to record."""
        if self._client is None:
            self._client = ChatClient(self.settings, clock=self._clock, transport=self._transport)
        return self._client.complete(messages)


def _kind_settings(
    settings: ModelSettings, planner_model: str | None, planner_base_url: str | None
) -> dict[str, ModelSettings]:
    """The settings of the agent kinds whose model differs from the default one."""
    if not planner_model and not planner_base_url:
        return {}
    planner = dataclasses.replace(
        settings,
        model=planner_model or settings.model,
        endpoint=planner_base_url or settings.endpoint,
    )
    return {"planner": planner}


def replay_proposal(
    request: EditRequest,
    transcript: Sequence[Exchange],
    read: Callable[[str], str],
    index: RepoIndex | None = None,
) -> Proposal:
    """Rebuild a proposal from recorded exchanges, without calling any model."""
    if not transcript:
        raise InvalidRequest("replay needs at least one recorded exchange")
    last = transcript[-1]
    content = _answer_text("(recorded)", last.response_json, last)
    return _proposal_from_answer(content, tuple(transcript), index, read)


def _key(request: EditRequest) -> str:
    return json.dumps([request.kind, sorted(request.params.items())])


def _disk_reader(index: RepoIndex) -> Callable[[str], str]:
    def read(path: str) -> str:
        return (index.root / index.normalise(path)).read_text("utf-8")

    return read


def _answer_text(url: str, raw: str, exchange: Exchange) -> str:
    try:
        data = json.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelError(
            url, f"malformed chat-completions answer: {raw[:200]!r}", exchange
        ) from None
    if not isinstance(content, str):
        raise ModelError(url, "the answer's message content is not text", exchange)
    return content


def extract_diff(content: str) -> str:
    """Every unified diff inside a model's answer (fenced or bare); "" when there is none."""
    return extract_diffs([c for c, _ in split_lines(content)])


def proposal_from_answer(
    content: str,
    transcript: Sequence[Exchange],
    read: Callable[[str], str],
    index: RepoIndex | None = None,
) -> Proposal:
    """The edits an answer's text holds, applied to the files ``read`` returns.

    For a caller that holds its own conversation (a coder's loop): it sends
    the messages with :meth:`OpenAIBrain.chat` and reads the answer here.
    Raises ModelError (no edit, a path outside the repository, nothing changed)
    or EditDoesNotApply; :func:`feedback_for` turns either into the next turn.
    """
    return _proposal_from_answer(content, tuple(transcript), index, read)


def feedback_for(error: BrainError) -> str:
    """What to tell the model after its answer failed with ``error``, to try again."""
    if isinstance(error, EditDoesNotApply):
        return (
            f"Your edit did not apply: {error}\n"
            "Answer again with SEARCH/REPLACE blocks whose SEARCH lines are copied exactly "
            "from the file as it is now, with enough lines to occur only once."
        )
    reason = getattr(error, "reason", str(error))
    return (
        f"Your answer could not be used: {reason}\n"
        "Answer again with SEARCH/REPLACE blocks, each after the path of the file it changes."
    )


def _proposal_from_answer(
    content: str,
    transcript: tuple[Exchange, ...],
    index: RepoIndex | None,
    read: Callable[[str], str],
) -> Proposal:
    try:
        edits = parse_edits(content)
    except InvalidRequest as exc:
        raise ModelError("(answer)", f"{exc.reason}; the answer: {content[:200]!r}") from None
    if index is not None:
        edits = [_inside(e, index) for e in edits]
    changed = apply_edits(edits, read)
    if not changed:
        raise ModelError("(answer)", "the answer's edits leave every file as it was")
    return Proposal(tuple(changed), _prose(content) or "the model's edit", transcript)


def _inside(edit: Edit, index: RepoIndex) -> Edit:
    """``edit`` with its path(s) normalised; a path outside the repository is refused."""

    def norm(path: str | None) -> str | None:
        if path is None:
            return None
        try:
            return index.normalise(path)
        except NotInRepository:
            raise ModelError(
                "(answer)", f"the edit changes {path!r}, outside the repository"
            ) from None

    if isinstance(edit, FilePatch):
        return dataclasses.replace(edit, old_path=norm(edit.old_path), new_path=norm(edit.new_path))
    return dataclasses.replace(edit, path=norm(edit.path) or edit.path)


def _prose(content: str) -> str:
    """The answer's explanation: what it says before its first edit."""
    lines = [c for c, _ in split_lines(content)]
    end = next((i for i, ln in enumerate(lines) if _PROSE_END.match(ln)), len(lines))
    if (
        end < len(lines)
        and end > 0
        and lines[end - 1].strip()
        and " " not in lines[end - 1].strip()
    ):
        end -= 1  # the path line before a block belongs to the edit
    return "\n".join(lines[:end]).strip()


def _task(request: EditRequest) -> str:
    p = request.params
    if request.kind == "ask":
        return p["prompt"]
    if request.kind == "rename":
        return f"Rename the symbol {p['old']} to {p['new']} everywhere it is defined and used."
    call_sites = (
        f" and pass {p['param']}={p['value']} at its call sites." if p.get("value") else "."
    )
    return (
        f"Add a parameter {p['param']} with default {p['default']} to function "
        f"{p['function']}{call_sites}"
    )


def _user_prompt(
    request: EditRequest, index: RepoIndex, read: Callable[[str], str], budget: int
) -> str:
    """The task and the files it names (by path, or defining or importing a word of it),
    whole, while they fit in ``budget`` characters; the file list only when none is named."""
    task = _task(request)
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", task))
    named = {o.path for w in words for o in index.find(w, ("definition", "import"))}
    relevant = sorted(named | {p for p in index.files() if p in task})  # paths it spells out
    parts = [f"Task: {task}", ""]
    if not relevant:
        parts += ["Repository files:", *index.files(), ""]
    budget -= sum(len(x) + 1 for x in parts) + len(SYSTEM_PROMPT)
    for path in relevant or index.files():
        try:
            text = read(path)
        except (FileNotFoundError, KeyError, OSError, BrainError):
            continue
        if len(text) > budget:
            break
        budget -= len(text) + len(path) + 10
        parts += [f"=== {path} ===", text, ""]
    return "\n".join(parts)


__all__ = [
    "SYSTEM_PROMPT",
    "OpenAIBrain",
    "extract_diff",
    "feedback_for",
    "proposal_from_answer",
    "replay_proposal",
]
