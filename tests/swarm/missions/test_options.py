"""Mission options are checked once, at construction: a refusal names the option."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from swarm.missions import InvalidMission, MissionOptions
from swarm.missions._options import _OPTION_RULES
from swarm.missions._records import options_of, options_record

NUMBERS = [f.name for f in dataclasses.fields(MissionOptions) if f.type in ("int", "float")]


def test_every_option_has_a_check() -> None:
    assert set(_OPTION_RULES) == {f.name for f in dataclasses.fields(MissionOptions)}
    assert len(NUMBERS) == 8  # every int and float option is in the sweep below


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1, 10**12, "3", True])
def test_a_number_option_refuses_nan_infinity_and_out_of_range(name: str, bad: Any) -> None:
    with pytest.raises(InvalidMission) as err:
        MissionOptions(**dict[str, Any]({name: bad}))
    assert name in str(err.value) and "invalid mission options" in str(err.value)


@pytest.mark.parametrize("name", ["coders", "edit_retries", "critic_rounds"])
def test_a_count_must_be_a_whole_number(name: str) -> None:
    with pytest.raises(InvalidMission, match=f"{name} must be a whole number"):
        MissionOptions(**dict[str, Any]({name: 2.5}))


@pytest.mark.parametrize("name", ["run_tests", "allow_unverified"])
def test_a_flag_must_be_a_bool(name: str) -> None:
    with pytest.raises(InvalidMission, match=f"{name} must be true or false"):
        MissionOptions(**dict[str, Any]({name: 1}))


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidMission) as err:
        MissionOptions(step_delay_s=math.nan, backoff_s=math.inf, lock_ttl_s=0.0)
    msg = str(err.value)
    assert "step_delay_s" in msg and "backoff_s" in msg and "lock_ttl_s" in msg


def test_the_edges_are_accepted() -> None:
    opts = MissionOptions(
        coders=64, step_delay_s=0.0, backoff_s=0, test_timeout_s=86_400.0, critic_rounds=0
    )
    assert options_of(options_record(opts)) == opts


def test_options_read_back_from_the_ledger_are_checked_too() -> None:
    record = options_record(MissionOptions())
    record.step_delay_s = math.nan
    with pytest.raises(InvalidMission, match="step_delay_s"):
        options_of(record)
    text = json.dumps(dataclasses.asdict(MissionOptions())).replace(
        '"step_delay_s": 0.0', '"step_delay_s": NaN'
    )
    with pytest.raises(InvalidMission, match="step_delay_s"):
        MissionOptions.from_json(text)
