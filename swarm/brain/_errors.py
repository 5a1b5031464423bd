"""The brain port's errors: one root, facts carried as attributes.

::

    BrainError                  anything a brain provider refuses or fails at
    ├── InvalidRequest          a request that is malformed (unknown kind, missing or bad param)
    ├── UnknownSymbol           a rename/add_param naming a symbol the repository does not define
    ├── AmbiguousSymbol         a bare rename/add_param target that names several definitions
    ├── PatchDoesNotApply       a diff hunk that does not match its file (names file, hunk)
    ├── ModelUnreachable        the model endpoint could not be reached (refused, DNS, timeout)
    └── ModelError              the endpoint answered uselessly (HTTP error, bad JSON, no diff)
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


class PatchDoesNotApply(BrainError):
    """A hunk of a unified diff does not match the file it targets."""

    def __init__(self, path: str, hunk: int, header: str, reason: str) -> None:
        super().__init__(f"{path}: hunk #{hunk} ({header}) does not apply: {reason}")
        self.path = path
        self.hunk = hunk
        self.header = header
        self.reason = reason


class ModelUnreachable(BrainError):
    """The model endpoint could not be reached."""

    def __init__(self, url: str, reason: str, exchange: Exchange | None = None) -> None:
        super().__init__(f"model endpoint {url} unreachable: {reason}")
        self.url = url
        self.reason = reason
        self.exchange = exchange


class ModelError(BrainError):
    """The model endpoint answered, but not with something usable."""

    def __init__(self, url: str, reason: str, exchange: Exchange | None = None) -> None:
        super().__init__(f"model endpoint {url}: {reason}")
        self.url = url
        self.reason = reason
        self.exchange = exchange  # the request/answer, so a failed call is on the record too
