"""The brain port's errors: one root, facts carried as attributes.

::

    BrainError                  anything a brain provider refuses or fails at
    ├── InvalidRequest          a request that is malformed (unknown kind, missing or bad param)
    ├── UnknownSymbol           a rename/add_param naming a symbol the repository does not define
    ├── AmbiguousSymbol         a bare rename/add_param target that names several definitions
    ├── EditDoesNotApply        an edit whose old text is not (once) in its file: names the
    │   │                       file, the first line that failed to match, the closest real lines
    │   └── PatchDoesNotApply   ... a unified diff's hunk (names the hunk too)
    ├── ModelUnreachable        the model endpoint could not be reached (refused, DNS, reset)
    │   └── ModelTimeout        ... a phase (connect, read, write, pool, total) ran out of time
    └── ModelError              the endpoint answered uselessly (bad JSON, no edit in it)
        └── ModelHTTPError      ... with an HTTP error status (after any retries)

Model errors name the endpoint, provider and model; none ever holds an API key
(the client redacts it from every reason and body excerpt it quotes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from swarm.brain._types import Exchange


class BrainError(Exception):
    """Root of every error a brain provider raises."""


class InvalidRequest(BrainError):
    """A request the provider cannot act on, with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownSymbol(BrainError):
    """The symbol the request names is not defined anywhere in the repository;
    ``suggestions`` are the closest names that are."""

    def __init__(self, symbol: str, suggestions: tuple[str, ...] = ()) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"symbol {symbol!r} is not defined anywhere in the repository{hint}")
        self.symbol = symbol
        self.suggestions = suggestions


class AmbiguousSymbol(BrainError):
    """A bare target naming several definitions; ``candidates`` are their qualified names,
    each of which is a valid target."""

    def __init__(self, symbol: str, candidates: tuple[str, ...]) -> None:
        super().__init__(
            f"symbol {symbol!r} is ambiguous: it names {len(candidates)} definitions: "
            f"{', '.join(candidates)}; name one, e.g. {candidates[0]}"
        )
        self.symbol = symbol
        self.candidates = candidates


class EditDoesNotApply(BrainError):
    """An edit's old text is not in its file exactly once (even after whitespace is forgiven).

    ``line`` is the first line of the old text that failed to match (``None`` when
    every line matched but too often, or the file's state was wrong), ``closest``
    the file's lines most like the old text as (line number, text), so the
    message can go back to the model as feedback. ``exchange`` is the model call
    the edit came from, when there was one, so a failed answer is recorded too.
    """

    def __init__(
        self,
        path: str,
        reason: str,
        line: str | None = None,
        closest: tuple[tuple[int, str], ...] = (),
        exchange: Exchange | None = None,
    ) -> None:
        super().__init__(_with_closest(f"{path}: {reason}", closest))
        self.path = path
        self.reason = reason
        self.line = line
        self.closest = closest
        self.exchange = exchange


def _with_closest(message: str, closest: tuple[tuple[int, str], ...]) -> str:
    if not closest:
        return message
    shown = "\n".join(f"{n:>5} | {text}" for n, text in closest)
    return f"{message}; the closest lines in the file are:\n{shown}"


class PatchDoesNotApply(EditDoesNotApply):
    """A hunk of a unified diff does not match the file it targets."""

    def __init__(
        self,
        path: str,
        hunk: int,
        header: str,
        reason: str,
        line: str | None = None,
        closest: tuple[tuple[int, str], ...] = (),
    ) -> None:
        super().__init__(path, f"hunk #{hunk} ({header}) does not apply: {reason}", line, closest)
        self.hunk = hunk
        self.header = header
        self.reason = reason


def _who(provider: str, model: str) -> str:
    named = ", ".join(x for x in (provider, f"model {model}" if model else "") if x)
    return f" ({named})" if named else ""


class ModelUnreachable(BrainError):
    """The model endpoint could not be reached."""

    def __init__(
        self,
        url: str,
        reason: str,
        exchange: Exchange | None = None,
        *,
        provider: str = "",
        model: str = "",
    ) -> None:
        super().__init__(f"model endpoint {url}{_who(provider, model)} unreachable: {reason}")
        self.url = url
        self.reason = reason
        self.exchange = exchange
        self.provider = provider
        self.model = model


class ModelTimeout(ModelUnreachable):
    """One phase of a model call ran out of time: ``phase`` is connect, read, write,
    pool (waiting for a free connection) or total (the call's whole deadline)."""

    def __init__(
        self,
        url: str,
        phase: str,
        seconds: float,
        exchange: Exchange | None = None,
        *,
        provider: str = "",
        model: str = "",
    ) -> None:
        super().__init__(
            url,
            f"the {phase} timeout of {seconds:g}s ran out",
            exchange,
            provider=provider,
            model=model,
        )
        self.phase = phase
        self.seconds = seconds


class ModelError(BrainError):
    """The model endpoint answered, but not with something usable."""

    def __init__(
        self,
        url: str,
        reason: str,
        exchange: Exchange | None = None,
        *,
        provider: str = "",
        model: str = "",
    ) -> None:
        super().__init__(f"model endpoint {url}{_who(provider, model)}: {reason}")
        self.url = url
        self.reason = reason
        self.exchange = exchange  # the request/answer, so a failed call is on the record too
        self.provider = provider
        self.model = model


class ModelHTTPError(ModelError):
    """The endpoint answered with an HTTP error ``status`` (429, 5xx after ``attempts``
    tries; other statuses at once). ``retry_after`` is the server's Retry-After, if any."""

    def __init__(
        self,
        url: str,
        status: int,
        body: str,
        exchange: Exchange | None = None,
        *,
        provider: str = "",
        model: str = "",
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        wait = f" (Retry-After {retry_after:g}s)" if retry_after is not None else ""
        super().__init__(
            url,
            f"HTTP {status}{tries}{wait}: {body[:300]}",
            exchange,
            provider=provider,
            model=model,
        )
        self.status = status
        self.body = body
        self.attempts = attempts
        self.retry_after = retry_after
