"""Plans: a mission's ticket DAG, its validation (every problem listed at once), and the
check that the request's symbol exists before any ticket is planned."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from swarm.brain import EditRequest, UnknownSymbol, resolve_target
from swarm.missions._errors import InvalidMission, InvalidPlan
from swarm.scout import RepoIndex, Scan

#: Agent kinds a ticket may name.
AGENT_KINDS = ("scout", "coder", "critic")


@dataclass(frozen=True, slots=True)
class Ticket:
    """One unit of work: which agent kind, its inputs, what it waits for, how hard to try."""

    id: str
    kind: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    retries: int = 0  # extra attempts after the first
    backoff_s: float = 0.2  # wait before attempt n+1 is backoff_s * 2**(n-1)
    timeout_s: float = 60.0  # how long the ticket may wait (e.g. for a lock a person holds)

    def to_json(self) -> dict[str, object]:
        return {
            "inputs": dict(self.inputs),
            "retries": self.retries,
            "backoff_s": self.backoff_s,
            "timeout_s": self.timeout_s,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A mission's tickets; valid when :func:`validate_plan` finds no problem."""

    mission_id: str
    tickets: tuple[Ticket, ...]

    def ticket(self, ticket_id: str) -> Ticket:
        for t in self.tickets:
            if t.id == ticket_id:
                return t
        raise KeyError(ticket_id)


class Policy(Protocol):
    """A hook on plans and tickets: returns problems / a denial reason, or nothing."""

    @property
    def spec(self) -> str:
        """How it is written on the command line and in the ledger, e.g. ``deny:secrets/*``."""
        ...

    def check_plan(self, plan: Plan) -> list[str]:
        """Problems with the plan as a whole (empty when it may run)."""
        ...

    def before(self, ticket: Ticket) -> str | None:
        """Why ``ticket`` may not start, or None."""
        ...

    def after(self, ticket: Ticket, result: Mapping[str, object]) -> str | None:
        """Why ``ticket``'s result may not stand, or None."""
        ...


def _paths_of(plan: Plan) -> list[tuple[str, str]]:
    return [
        (t.id, t.inputs["path"]) for t in plan.tickets if t.kind == "coder" and "path" in t.inputs
    ]


@dataclass(frozen=True, slots=True)
class AllowPaths:
    """Coders may only touch paths matching one of these globs (``src/*``)."""

    patterns: tuple[str, ...]

    @property
    def spec(self) -> str:
        return "allow:" + ",".join(self.patterns)

    def _allowed(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) for p in self.patterns)

    def check_plan(self, plan: Plan) -> list[str]:
        return [
            f"policy {self.spec}: ticket {tid} would change {path}, which is not allowed"
            for tid, path in _paths_of(plan)
            if not self._allowed(path)
        ]

    def before(self, ticket: Ticket) -> str | None:
        path = ticket.inputs.get("path")
        if ticket.kind == "coder" and path is not None and not self._allowed(path):
            return f"policy {self.spec}: {path} is not allowed"
        return None

    def after(self, ticket: Ticket, result: Mapping[str, object]) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class DenyPaths:
    """Paths a tenant protects: coders may never touch a path matching these globs."""

    patterns: tuple[str, ...]

    @property
    def spec(self) -> str:
        return "deny:" + ",".join(self.patterns)

    def _denied(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) for p in self.patterns)

    def check_plan(self, plan: Plan) -> list[str]:
        return [
            f"policy {self.spec}: ticket {tid} would change protected path {path}"
            for tid, path in _paths_of(plan)
            if self._denied(path)
        ]

    def before(self, ticket: Ticket) -> str | None:
        path = ticket.inputs.get("path")
        if ticket.kind == "coder" and path is not None and self._denied(path):
            return f"policy {self.spec}: {path} is protected"
        return None

    def after(self, ticket: Ticket, result: Mapping[str, object]) -> str | None:
        path = result.get("path")
        if isinstance(path, str) and self._denied(path):
            return f"policy {self.spec}: the change touched protected path {path}"
        return None


@dataclass(frozen=True, slots=True)
class MaxFilesChanged:
    """A cap on how many files one mission may change."""

    limit: int

    @property
    def spec(self) -> str:
        return f"max-files:{self.limit}"

    def check_plan(self, plan: Plan) -> list[str]:
        n = len(_paths_of(plan))
        if n > self.limit:
            return [f"policy {self.spec}: the plan changes {n} files, over the cap of {self.limit}"]
        return []

    def before(self, ticket: Ticket) -> str | None:
        return None

    def after(self, ticket: Ticket, result: Mapping[str, object]) -> str | None:
        return None


def parse_policy(spec: str) -> Policy:
    """A policy from its written form: ``allow:GLOB,...``, ``deny:GLOB,...``, ``max-files:N``,
    or a loop budget (``max-rounds:N``, ``max-tokens:N``, ``max-wall:S``: ``_budget``)."""
    name, _, arg = spec.partition(":")
    items = tuple(a.strip() for a in arg.split(",") if a.strip())
    if name == "allow" and items:
        return AllowPaths(items)
    if name == "deny" and items:
        return DenyPaths(items)
    from swarm.missions._budget import parse_budget

    try:
        budget = parse_budget(name, arg)
    except ValueError as exc:
        raise InvalidMission(f"policy {spec!r}: {exc}") from None
    if budget is not None:
        return budget
    if name == "max-files":
        try:
            limit = int(arg)
        except ValueError:
            limit = -1
        if limit >= 0:
            return MaxFilesChanged(limit)
        raise InvalidMission(f"policy {spec!r}: max-files needs a whole number >= 0")
    raise InvalidMission(
        f"unknown or empty policy {spec!r}; expected allow:GLOB, deny:GLOB, max-files:N, "
        "max-rounds:N, max-tokens:N or max-wall:S"
    )


def check_target(
    request: EditRequest, repo: Path, parses: dict[bytes, Scan] | None = None
) -> str | None:
    """The qualified symbol (``pkg.mod:Class.attr``) a rename/add_param names in ``repo`` as
    it is now; None for other kinds.

    The one place both the CLI and the daemon refuse a mistyped or ambiguous symbol
    (``UnknownSymbol`` with the closest names, ``AmbiguousSymbol`` with the
    candidates, both ``BrainError``), before the workspace is imported, any ticket
    is planned or any test runs. Nothing is written (no scout cache either). With
    ``parses``, the files it parsed are kept there for the mission's own index.
    """
    if request.kind not in ("rename", "add_param"):
        return None
    target = request.params.get("old" if request.kind == "rename" else "function", "")
    name = re.split("[.:]", target)[-1].encode()
    # Every definition of the name holds its bytes, and re-exports go through package
    # __init__ files: those few files answer a found or ambiguous target exactly. Only a
    # target they cannot place needs the whole repository (to be sure, and for the
    # closest names), so a rename of a rare name in a big repository costs little here.
    few = RepoIndex(repo, only=lambda path, data: name in data or _is_init(path), parses=parses)
    few.refresh()
    try:
        symbol = resolve_target(request, few)
    except UnknownSymbol:
        whole = RepoIndex(repo, parses=parses)
        whole.refresh()
        symbol = resolve_target(request, whole)
    return str(symbol) if symbol is not None else None


def _is_init(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")


def validate_plan(plan: Plan, policies: Iterable[Policy] = ()) -> None:
    """Refuse a plan with :class:`InvalidPlan` listing every problem: duplicate or empty ids,
    unknown agent kinds, missing dependencies, cycles, bad retry/timeout values, and whatever
    the policies object to."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for t in plan.tickets:
        seen[t.id] = seen.get(t.id, 0) + 1
        if not t.id:
            problems.append("a ticket has an empty id")
        if t.kind not in AGENT_KINDS:
            problems.append(
                f"ticket {t.id}: unknown agent kind {t.kind!r} (known: {', '.join(AGENT_KINDS)})"
            )
        if t.retries < 0:
            problems.append(f"ticket {t.id}: retries must be >= 0, got {t.retries}")
        if not t.timeout_s > 0:
            problems.append(f"ticket {t.id}: timeout must be positive, got {t.timeout_s}")
        if t.backoff_s < 0:
            problems.append(f"ticket {t.id}: backoff must be >= 0, got {t.backoff_s}")
    problems += [f"ticket id {tid!r} is used {n} times" for tid, n in seen.items() if n > 1]
    for t in plan.tickets:
        for dep in t.depends_on:
            if dep not in seen:
                problems.append(f"ticket {t.id} depends on {dep!r}, which is not in the plan")
            elif dep == t.id:
                problems.append(f"ticket {t.id} depends on itself")
    problems += [f"dependency cycle: {' -> '.join(c)}" for c in _cycles(plan.tickets)]
    for policy in policies:
        problems += policy.check_plan(plan)
    if problems:
        raise InvalidPlan(problems)


def _cycles(tickets: Sequence[Ticket]) -> list[list[str]]:
    """One witness path per cycle found by a depth-first search (self-loops reported apart)."""
    deps: dict[str, list[str]] = {}
    for t in tickets:  # a duplicated id keeps the dependencies of all its copies
        deps.setdefault(t.id, []).extend(d for d in t.depends_on if d != t.id)
    colour: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        colour[node] = 1
        stack.append(node)
        for dep in deps.get(node, ()):
            if dep not in deps:
                continue
            if colour.get(dep) == 1:
                found.append([*stack[stack.index(dep) :], dep])
            elif colour.get(dep) is None:
                visit(dep, stack)
        stack.pop()
        colour[node] = 2

    for tid in deps:
        if tid not in colour:
            visit(tid, [])
    return found


def topological_order(plan: Plan) -> list[str]:
    """Ticket ids with every dependency before its dependents (the plan must be valid)."""
    order: list[str] = []
    done: set[str] = set()
    by_id = {t.id: t for t in plan.tickets}

    def visit(tid: str) -> None:
        if tid in done:
            return
        done.add(tid)
        for dep in by_id[tid].depends_on:
            visit(dep)
        order.append(tid)

    for t in plan.tickets:
        visit(t.id)
    return order
