"""Bisect's search over a real history; its runner is the seam (the CLI passes the sandbox's)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ledger
from ledger import Ledger
from replay import BisectError, EmptyRange, Replayer, bisect
from tests.conftest import ManualClock
from tests.replay._history import Writer

T = "acme"


def breaking_history(
    led: Ledger, clock: ManualClock, breaks_at: int, total: int
) -> tuple[Writer, list[ledger.Versionstamp], list[str]]:
    """``total`` edits of calc.py; edit ``breaks_at`` makes add() subtract; each led by a Decision."""
    w = Writer(led, T, "calc", clock)
    good = w.change("calc.py", b"def add(a, b):\n    return a + b\n")
    w.change(
        "test_calc.py", b"from calc import add\n\ndef test_add():\n    assert add(2, 2) == 4\n"
    )
    changes, decisions = [], []
    for i in range(total):
        op = "-" if i >= breaks_at else "+"
        dec = w.decision(f"m-{i}", f"step {i}: tidy add()", agent="coder-planner")
        decisions.append(dec)
        changes.append(
            w.change(
                "calc.py",
                f"# rev {i}\ndef add(a, b):\n    return a {op} b\n".encode(),
                mission=f"m-{i}",
                parent=dec,
            )
        )
    return w, [good, *changes], decisions


def passes(folder: Path) -> bool:
    """What `python -m pytest` would say about this tiny project, without a model or a sandbox."""
    return "a + b" in (folder / "calc.py").read_text()


@pytest.mark.parametrize("breaks_at", [0, 5, 12, 16])
def test_names_the_first_bad_change_and_its_decision(
    led: Ledger, clock: ManualClock, breaks_at: int
) -> None:
    _, points, decisions = breaking_history(led, clock, breaks_at, 17)
    r = Replayer(led, T, "calc", clock=clock)
    seen: list[Path] = []

    def runner(folder: Path) -> bool:
        seen.append(folder)
        return passes(folder)

    result = bisect(r, points[0], points[-1], runner)
    assert result.first_bad.versionstamp == points[breaks_at + 1]
    assert result.decision is not None
    assert result.decision.event.event_id == decisions[breaks_at]
    assert len(result.probes) <= 2 + 6  # good, bad, then log2(18) rounded up
    assert not any(p.exists() for p in seen)  # every probe folder is cleaned up


def test_refuses_endpoints_that_do_not_behave(led: Ledger, clock: ManualClock) -> None:
    _, points, _ = breaking_history(led, clock, 3, 6)
    r = Replayer(led, T, "calc", clock=clock)
    with pytest.raises(BisectError, match="fails at --good"):
        bisect(r, points[0], points[-1], lambda folder: False)
    with pytest.raises(BisectError, match="passes at --bad"):
        bisect(r, points[0], points[-1], lambda folder: True)
    with pytest.raises(EmptyRange, match="must come before"):
        bisect(r, points[-1], points[0], passes)


def test_refuses_a_range_without_changes(led: Ledger, clock: ManualClock) -> None:
    w, points, _ = breaking_history(led, clock, 0, 2)
    dec = w.decision("m-x", "just thinking")
    r = Replayer(led, T, "calc", clock=clock)
    after = led.history(T, "calc", mission="m-x")[0].versionstamp
    assert dec
    with pytest.raises(BisectError, match="no file changed"):
        bisect(r, points[-1], after, passes)


def test_cli_bisect_runs_the_tests_in_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("wasmtime", reason="bisect's CLI runner needs the sandbox (wasmtime)")
    from swarm.cli import main

    url = f"sqlite://{tmp_path / 'ledger.sqlite'}"
    clock = ManualClock(ledger.wall_clock_us() - 3600 * 1_000_000)
    with Ledger(ledger.open_engine(url), clock=clock) as led:
        _, points, decisions = breaking_history(led, clock, 4, 9)
    argv = ["bisect", "--ledger", url, "--tenant", T, "--project", "calc", "--json"]
    argv += ["--good", str(points[1]), "--bad", str(points[-1]), "--", "pytest"]
    assert main(argv) == 0
    import json

    facts = json.loads(capsys.readouterr().out)
    assert facts["first_bad"] == str(points[5])
    assert facts["decision"]["event_id"] == decisions[4]
    assert facts["decision"]["rationale"] == "step 4: tidy add()"
