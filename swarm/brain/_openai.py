"""OpenAIBrain: an OpenAI-compatible ``/v1/chat/completions`` endpoint, asked for a diff.

Uses the standard library's ``urllib`` (one POST per request; no streaming,
no connection pool needed), so the core installs without an HTTP client.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence

from swarm.brain._diff import apply_patch, parse_unified_diff
from swarm.brain._errors import (
    BrainError,
    InvalidRequest,
    ModelError,
    ModelUnreachable,
)
from swarm.brain._rules import RulesBrain, validate
from swarm.brain._types import EditRequest, Exchange, FileEdit, Proposal
from swarm.scout import NotInRepository, RepoIndex

SYSTEM_PROMPT = (
    "You are a careful software engineer working on a repository. Answer with ONE unified "
    "diff and nothing else: '--- a/PATH' and '+++ b/PATH' headers with paths relative to the "
    "repository root, then '@@ -a,b +c,d @@' hunks with exact context lines. Use /dev/null "
    "to create or delete a file."
)
_CONTEXT_BUDGET = 48_000  # characters of source sent with a request
_FENCE = re.compile(r"```(?:diff|patch)?[ \t]*\n(.*?)```", re.DOTALL)


class OpenAIBrain:
    """A model behind an OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp).

    ``patch`` requests never reach the model (the diff is applied as given);
    ``ask``, ``rename`` and ``add_param`` are sent as a prompt and the answer's
    diff is applied strictly. The proposal's transcript holds the exact
    request and response JSON of every call.
    """

    name = "openai"

    def __init__(
        self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidRequest(
                f"openai base_url {base_url!r} must start with http:// or https://"
            )
        if timeout_s <= 0:
            raise InvalidRequest(f"openai timeout_s must be positive, got {timeout_s}")
        base = base_url.rstrip("/")
        self.url = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        self.base_url = base
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self._proposals: dict[str, Proposal] = {}

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
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_prompt(request, index, read)},
        ]
        content, exchange = self.chat(messages)
        try:
            return _proposal_from_answer(content, (exchange,), index, read)
        except ModelError as exc:
            raise ModelError(self.url, exc.reason, exchange) from None

    def chat(self, messages: list[dict[str, str]]) -> tuple[str, Exchange]:
        """POST one chat completion; return the answer text and the recorded exchange."""
        # Imported here: urllib.request (http.client, email, ...) is ~25 ms of every
        # CLI start-up, and only a model-backed mission ever sends a request.
        import urllib.error
        import urllib.request

        body = json.dumps(
            {"model": self.model, "messages": messages, "temperature": 0}, ensure_ascii=False
        )
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.url, data=body.encode(), headers=headers, method="POST")
        started = time.perf_counter()

        def exchange(raw: str) -> Exchange:
            return Exchange("openai", self.model, body, raw, time.perf_counter() - started)

        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            raw = exc.read().decode("utf-8", "replace")
            raise ModelError(self.url, f"HTTP {exc.code}: {raw[:300]}", exchange(raw)) from exc
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelUnreachable(self.url, str(reason), exchange("")) from exc
        ex = exchange(raw)
        return _answer_text(self.url, raw, ex), ex


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
    """The unified diff inside a model's answer (fenced or bare); "" when there is none."""
    for block in _FENCE.findall(content):
        if "--- " in block and "@@" in block:
            return str(block)
    lines = content.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("--- ", "diff --git")):
            return "\n".join(lines[i:]) + "\n"
    return ""


def _proposal_from_answer(
    content: str,
    transcript: tuple[Exchange, ...],
    index: RepoIndex | None,
    read: Callable[[str], str],
) -> Proposal:
    diff = extract_diff(content)
    if not diff:
        raise ModelError("(answer)", f"the answer holds no unified diff: {content[:200]!r}")
    try:
        patches = parse_unified_diff(diff)
    except InvalidRequest as exc:
        raise ModelError("(answer)", f"the answer's diff is malformed: {exc.reason}") from None
    edits: list[FileEdit] = []
    for fp in patches:
        path = fp.path
        if index is not None:
            try:
                path = index.normalise(path)
            except NotInRepository:
                raise ModelError(
                    "(answer)", f"the diff changes {path!r}, outside the repository"
                ) from None
        source: str | None
        try:
            source = read(path) if fp.old_path is not None else None
        except (FileNotFoundError, KeyError):
            source = None
        edits.append(FileEdit(path, apply_patch(fp, source), "proposed by the model"))
    rationale = _FENCE.sub("", content).replace(diff, "").strip() or "the model's diff"
    return Proposal(tuple(edits), rationale, transcript)


def _user_prompt(request: EditRequest, index: RepoIndex, read: Callable[[str], str]) -> str:
    p = request.params
    if request.kind == "ask":
        task = p["prompt"]
    elif request.kind == "rename":
        task = f"Rename the symbol {p['old']} to {p['new']} everywhere it is defined and used."
    else:
        task = (
            f"Add a parameter {p['param']} with default {p['default']} to function "
            f"{p['function']}"
            + (f" and pass {p['param']}={p['value']} at its call sites." if p.get("value") else ".")
        )
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", task))
    relevant = sorted({o.path for w in words for o in index.find(w, ("definition", "import"))})
    chosen = relevant or index.files()
    parts = [f"Task: {task}", "", "Repository files:", *index.files(), ""]
    budget = _CONTEXT_BUDGET
    for path in chosen:
        try:
            text = read(path)
        except (FileNotFoundError, KeyError, OSError, BrainError):
            continue
        if len(text) > budget:
            break
        budget -= len(text)
        parts += [f"=== {path} ===", text, ""]
    return "\n".join(parts)


__all__ = ["OpenAIBrain", "extract_diff", "replay_proposal"]
