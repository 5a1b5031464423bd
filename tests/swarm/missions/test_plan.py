"""Plan validation, policies and options: every refusal names every problem."""

from __future__ import annotations

import pytest

from swarm.missions import (
    AllowPaths,
    DenyPaths,
    InvalidMission,
    InvalidPlan,
    MaxFilesChanged,
    MissionOptions,
    Plan,
    Ticket,
    parse_policy,
    topological_order,
    validate_plan,
)
from swarm.missions._records import options_of, options_record


def _plan(*tickets: Ticket) -> Plan:
    return Plan("m0000001", tickets)


def test_a_valid_plan_passes_and_orders_dependencies_first() -> None:
    plan = _plan(
        Ticket("verify", "critic", depends_on=("e1", "e2")),
        Ticket("e1", "coder", {"path": "a.py"}, depends_on=("scout",)),
        Ticket("e2", "coder", {"path": "b.py"}, depends_on=("scout",)),
        Ticket("scout", "scout"),
    )
    validate_plan(plan)
    order = topological_order(plan)
    assert order.index("scout") < order.index("e1") < order.index("verify")


def test_an_invalid_plan_lists_every_problem_at_once() -> None:
    plan = _plan(
        Ticket("a", "coder", depends_on=("b",)),
        Ticket("b", "coder", depends_on=("c",)),
        Ticket("c", "coder", depends_on=("a",)),
        Ticket("d", "wizard", depends_on=("ghost", "d"), retries=-1, timeout_s=0),
        Ticket("a", "scout"),
    )
    with pytest.raises(InvalidPlan) as err:
        validate_plan(plan)
    problems = "\n".join(err.value.problems)
    assert "unknown agent kind 'wizard'" in problems
    assert "depends on 'ghost', which is not in the plan" in problems
    assert "ticket d depends on itself" in problems
    assert "dependency cycle: a -> b -> c -> a" in problems
    assert "ticket id 'a' is used 2 times" in problems
    assert "retries must be >= 0" in problems and "timeout must be positive" in problems
    assert len(err.value.problems) >= 6
    assert str(len(err.value.problems)) in str(err.value)


def test_policies_refuse_the_plan_naming_paths() -> None:
    plan = _plan(
        Ticket("scout", "scout"),
        Ticket("e1", "coder", {"path": "src/a.py"}, depends_on=("scout",)),
        Ticket("e2", "coder", {"path": "secrets/key.py"}, depends_on=("scout",)),
    )
    with pytest.raises(InvalidPlan) as err:
        validate_plan(plan, [AllowPaths(("src/*",)), DenyPaths(("secrets/*",)), MaxFilesChanged(1)])
    problems = err.value.problems
    assert any("secrets/key.py, which is not allowed" in p for p in problems)
    assert any("protected path secrets/key.py" in p for p in problems)
    assert any("changes 2 files, over the cap of 1" in p for p in problems)


def test_policy_hooks_deny_before_and_after_a_ticket() -> None:
    t = Ticket("e1", "coder", {"path": "secrets/x.py"})
    assert DenyPaths(("secrets/*",)).before(t) is not None
    assert DenyPaths(("secrets/*",)).after(t, {"path": "secrets/x.py"}) is not None
    assert AllowPaths(("src/*",)).before(t) is not None
    assert AllowPaths(("secrets/*",)).before(t) is None


@pytest.mark.parametrize("spec", ["allow:", "deny", "max-files:x", "max-files:-1", "nope:a"])
def test_bad_policy_specs_are_refused(spec: str) -> None:
    with pytest.raises(InvalidMission, match="policy"):
        parse_policy(spec)


def test_policy_specs_round_trip() -> None:
    for spec in ("allow:src/*,lib/*", "deny:secrets/*", "max-files:3"):
        assert parse_policy(spec).spec == spec


def test_bad_options_are_refused_with_every_problem() -> None:
    with pytest.raises(InvalidMission) as err:
        MissionOptions(coders=0, ticket_timeout_s=0, critic_rounds=-1)
    msg = str(err.value)
    assert "coders" in msg and "ticket_timeout_s" in msg and "critic_rounds" in msg


def test_options_round_trip_through_their_record() -> None:
    opts = MissionOptions(coders=3, run_tests=False, policies=("deny:x/*",))
    assert options_of(options_record(opts)) == opts
