"""How a mission runs: its options, each checked at construction (also when read back)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from swarm.missions._errors import InvalidMission
from swarm.missions._plan import parse_policy

#: The largest value a count option may take, and a duration (one day): beyond them a
#: mission would wait or retry for longer than anyone means, and a wedged one is worse
#: than a refusal that names the option.
MAX_COUNT = 1000
MAX_SECONDS = 86_400.0


def _count(low: int, high: int) -> Callable[[str, MissionOptions], str]:
    def check(name: str, opts: MissionOptions) -> str:
        v = getattr(opts, name)
        if isinstance(v, bool) or not isinstance(v, int):
            return f"{name} must be a whole number, got {v!r}"
        return "" if low <= v <= high else f"{name} must be {low}..{high}, got {v}"

    return check


def _seconds(*, zero_ok: bool) -> Callable[[str, MissionOptions], str]:
    def check(name: str, opts: MissionOptions) -> str:
        v = getattr(opts, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"{name} must be a number of seconds, got {v!r}"
        # NaN fails every comparison, so it fails these too; so does infinity.
        low_ok = v >= 0 if zero_ok else v > 0
        if low_ok and v <= MAX_SECONDS:
            return ""
        low = ">= 0" if zero_ok else "> 0"
        return f"{name} must be finite, {low} and at most {MAX_SECONDS:g} s, got {v}"

    return check


def _flag(name: str, opts: MissionOptions) -> str:
    v = getattr(opts, name)
    return "" if isinstance(v, bool) else f"{name} must be true or false, got {v!r}"


def _specs(name: str, opts: MissionOptions) -> str:
    v = getattr(opts, name)
    if not isinstance(v, tuple) or not all(isinstance(s, str) for s in v):
        return f"{name} must be a tuple of policy specs, got {v!r}"
    return ""


#: Every option and its check (a test asserts none is missing).
_OPTION_RULES: dict[str, Callable[[str, MissionOptions], str]] = {
    "coders": _count(1, 64),
    "run_tests": _flag,
    "ticket_timeout_s": _seconds(zero_ok=False),
    "edit_retries": _count(0, MAX_COUNT),
    "critic_rounds": _count(0, MAX_COUNT),
    "backoff_s": _seconds(zero_ok=True),
    "lock_ttl_s": _seconds(zero_ok=False),
    "step_delay_s": _seconds(zero_ok=True),
    "test_timeout_s": _seconds(zero_ok=False),
    "policies": _specs,
    "allow_unverified": _flag,
}


@dataclass(frozen=True, slots=True)
class MissionOptions:
    """How a mission runs. Recorded in the ledger at start, so a resume runs the same way.

    ``run_tests=False`` skips the critic's sandbox runs (syntax is still
    checked; the verdict is NOT_TESTED): for lock and scale tests, and for
    repositories with no suite. ``test_timeout_s`` is the baseline suite's
    wall-clock deadline; later runs get a budget derived from what the baseline
    took, capped by it. ``allow_unverified`` lets a mission whose tests could
    not judge it (a run out of budget, crashed, no report) finish marked
    UNVERIFIED instead of failing.
    ``step_delay_s`` makes each coder pause after a ticket (demos, crash tests).

    Every option is checked at construction (also when read back from the ledger):
    counts are whole numbers in range, durations finite and at most a day (NaN and
    infinity would wedge a wait), flags are bools; :class:`InvalidMission` names each
    option that fails, which the daemon returns as INVALID_ARGUMENT.
    """

    coders: int = 4
    run_tests: bool = True
    ticket_timeout_s: float = 60.0
    edit_retries: int = 1
    critic_rounds: int = 1  # how many times a critic rejection sends the edits back
    backoff_s: float = 0.2
    lock_ttl_s: float = 60.0
    step_delay_s: float = 0.0
    test_timeout_s: float = 600.0
    policies: tuple[str, ...] = ()
    allow_unverified: bool = False

    def __post_init__(self) -> None:
        problems = [p for name, rule in _OPTION_RULES.items() if (p := rule(name, self))]
        if problems:
            raise InvalidMission("invalid mission options: " + "; ".join(problems))
        for spec in self.policies:
            parse_policy(spec)

    @classmethod
    def from_json(cls, text: str) -> MissionOptions:
        """The options as a ledger written before missions.proto holds them (JSON); new
        ledgers hold ``MissionSettings`` (``swarm.missions._records``)."""
        raw = json.loads(text)
        raw["policies"] = tuple(raw.get("policies", ()))
        return cls(**raw)
