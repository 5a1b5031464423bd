"""Model settings: where the model is, what to call it, and how long each phase may take.

Read once at the edge (CLI, daemon start) with :meth:`ModelSettings.from_env`
for the key; inner code takes the frozen value. The API key is kept out of
``repr`` so a settings value can be logged or shown in an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from swarm.brain._errors import InvalidRequest

#: The variable the API key is read from when the caller names none.
DEFAULT_KEY_ENV = "OPENAI_API_KEY"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds each phase of one HTTP call may take.

    ``read`` is the longest wait for the next bytes of the answer; on a CPU-served
    model the first byte waits for the whole prompt to be read, so it is long.
    ``total`` (optional) bounds a whole call, streaming included: when it runs
    out the stream is closed, which makes the server stop generating.
    """

    connect: float = 10.0
    read: float = 300.0
    write: float = 30.0
    pool: float = 10.0
    total: float | None = None

    def __post_init__(self) -> None:
        for phase in ("connect", "read", "write", "pool", "total"):
            value = getattr(self, phase)
            if value is not None and not value > 0:
                raise InvalidRequest(f"model {phase} timeout must be positive, got {value}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often to retry a 429, a 5xx or a refused connection, and how long to wait.

    The n-th retry waits ``base_s * 2**(n-1)`` seconds, at most ``cap_s``, or the
    server's Retry-After when it asks for longer. A Retry-After above
    ``max_wait_s`` is not waited for: the call fails and says what was asked.
    A read timeout is never retried: the same request would queue behind the one
    the server may still be computing.
    """

    attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0
    max_wait_s: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise InvalidRequest(f"model retry attempts must be at least 1, got {self.attempts}")
        if self.base_s < 0 or self.cap_s < 0 or self.max_wait_s < 0:
            raise InvalidRequest("model retry waits must not be negative")

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        backoff = min(self.cap_s, self.base_s * 2.0 ** (retry - 1))
        return max(backoff, retry_after or 0.0)


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """One model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    ``endpoint`` is the server's base URL (``http://host:8080`` or ``.../v1``);
    ``max_tokens`` caps every answer, so a runaway one cannot keep the server
    busy; ``context_tokens`` is the server's context window, which the prompt
    and the answer share; ``stream`` asks for server-sent events, so a call the client gives up
    on is cancelled on the server when the connection closes.
    """

    endpoint: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_tokens: int = 1024
    context_tokens: int = 8192
    temperature: float = 0.0
    stream: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    provider: str = "openai"

    def __post_init__(self) -> None:
        if not self.endpoint.startswith(("http://", "https://")):
            raise InvalidRequest(
                f"model endpoint {self.endpoint!r} must start with http:// or https://"
            )
        if not self.model:
            raise InvalidRequest("model settings need a model name")
        if self.max_tokens < 1:
            raise InvalidRequest(f"model max_tokens must be at least 1, got {self.max_tokens}")
        if self.context_tokens <= self.max_tokens:
            raise InvalidRequest(
                f"model context_tokens ({self.context_tokens}) must exceed max_tokens "
                f"({self.max_tokens}): the prompt needs room too"
            )

    @property
    def url(self) -> str:
        """The chat-completions URL."""
        base = self.endpoint.rstrip("/")
        return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")

    @classmethod
    def from_env(
        cls,
        endpoint: str,
        model: str,
        *,
        key_env: str | None = None,
        environ: Mapping[str, str] | None = None,
        **options: object,
    ) -> ModelSettings:
        """Settings whose API key comes from the variable ``key_env``.

        Without ``key_env`` the key is read from OPENAI_API_KEY if set (a local
        server needs none). A ``key_env`` that is named but unset is refused,
        naming the variable.
        """
        env = os.environ if environ is None else environ
        name = key_env or DEFAULT_KEY_ENV
        key = env.get(name) or None
        if key_env and key is None:
            raise InvalidRequest(f"the model API key variable {key_env} is not set")
        return cls(endpoint, model, key, **options)  # type: ignore[arg-type]


__all__ = ["DEFAULT_KEY_ENV", "ModelSettings", "RetryPolicy", "Timeouts"]
