"""The loop's budgets as policy hooks: rounds, tokens and wall time a model ticket may spend.

Written like every policy (``max-rounds:4``, ``max-tokens:20000``, ``max-wall:600``),
recorded with the mission's options, and asked before each round of a model-backed
coder's loop (:func:`over_budget`): a budget that is spent denies the next round with
a reason naming it, which fails the ticket through the usual policy denial.
They have nothing to say about plans or other tickets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from swarm.missions._plan import Plan, Ticket

#: Rounds a loop ticket gets when neither it nor the mission names a budget.
DEFAULT_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Spent:
    """What a loop ticket has used so far: rounds asked, tokens, seconds (over every run)."""

    rounds: int = 0
    tokens: int = 0
    seconds: float = 0.0


@runtime_checkable
class Budget(Protocol):
    """A policy that may deny a loop's next round."""

    def over_budget(self, spent: Spent) -> str | None:
        """Why no further round may run, or None."""
        ...


class _NoPlanChecks:
    """The plan and ticket hooks of a budget: it never objects to those."""

    def check_plan(self, plan: Plan) -> list[str]:
        return []

    def before(self, ticket: Ticket) -> str | None:
        return None

    def after(self, ticket: Ticket, result: Mapping[str, object]) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class MaxRounds(_NoPlanChecks):
    """At most ``limit`` rounds (model calls) per loop ticket."""

    limit: int

    @property
    def spec(self) -> str:
        return f"max-rounds:{self.limit}"

    def over_budget(self, spent: Spent) -> str | None:
        if spent.rounds < self.limit:
            return None
        return f"budget spent: {spent.rounds} of {self.limit} round(s) used ({self.spec})"


@dataclass(frozen=True, slots=True)
class MaxTokens(_NoPlanChecks):
    """At most ``limit`` model tokens (prompt and answer) per loop ticket."""

    limit: int

    @property
    def spec(self) -> str:
        return f"max-tokens:{self.limit}"

    def over_budget(self, spent: Spent) -> str | None:
        if spent.tokens < self.limit:
            return None
        return f"budget spent: {spent.tokens} of {self.limit} token(s) used ({self.spec})"


@dataclass(frozen=True, slots=True)
class MaxWall(_NoPlanChecks):
    """At most ``limit_s`` seconds of a loop ticket's wall time (model calls and tests)."""

    limit_s: float

    @property
    def spec(self) -> str:
        return f"max-wall:{self.limit_s:g}"

    def over_budget(self, spent: Spent) -> str | None:
        if spent.seconds < self.limit_s:
            return None
        return f"budget spent: {spent.seconds:.3g} of {self.limit_s:g} s used ({self.spec})"


def parse_budget(name: str, arg: str) -> MaxRounds | MaxTokens | MaxWall | None:
    """The budget policy ``name:arg`` (None when ``name`` is not a budget); ValueError
    when its number is not one it takes."""
    if name == "max-rounds":
        rounds = int(arg)
        if rounds < 1:
            raise ValueError("max-rounds needs a whole number >= 1")
        return MaxRounds(rounds)
    if name == "max-tokens":
        tokens = int(arg)
        if tokens < 1:
            raise ValueError("max-tokens needs a whole number >= 1")
        return MaxTokens(tokens)
    if name == "max-wall":
        seconds = float(arg)
        if not 0 < seconds <= 86_400:  # NaN fails this too
            raise ValueError("max-wall needs seconds > 0 and at most a day")
        return MaxWall(seconds)
    return None


def over_budget(budgets: Iterable[object], spent: Spent) -> str | None:
    """The first reason one of ``budgets`` denies the next round; a loop with no
    max-rounds budget gets :data:`DEFAULT_ROUNDS`."""
    found = [b for b in budgets if isinstance(b, Budget)]
    if not any(isinstance(b, MaxRounds) for b in found):
        found.append(MaxRounds(DEFAULT_ROUNDS))
    for b in found:
        reason = b.over_budget(spent)
        if reason:
            return reason
    return None
