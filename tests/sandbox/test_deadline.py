"""The deadline: the epoch ticker follows the clock, so a late ticker never adds up to drift.

The mechanism is tested on the clock seam, deterministically: a fake clock, a
real engine and store, and wasm code that traps only on wasmtime's own epoch
check. The real runs then check the bound the ADR states against the lag the
ticker itself measured, not against a wall-clock figure that depends on load.
"""

from __future__ import annotations

import threading

import pytest
import wasmtime

from sandbox import Limits, Sandbox, Status
from sandbox._engine import new_engine
from sandbox._runner import _Ticker

_SPIN = '(module (func (export "spin") (loop br 0)))'
# Seconds allowed from the trap to run() returning (store teardown, the GIL). Generous,
# because a loaded machine may starve a thread that long; the drift this test guards
# against grew with the timeout and the load, and the fake-clock tests above pin the
# mechanism itself exactly.
_UNWIND = 10.0


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _spin(engine: wasmtime.Engine, store: wasmtime.Store) -> wasmtime.Trap:
    instance = wasmtime.Instance(store, wasmtime.Module(engine, _SPIN), [])
    spin = instance.exports(store)["spin"]
    assert isinstance(spin, wasmtime.Func)
    with pytest.raises(wasmtime.Trap) as caught:
        spin(store)
    return caught.value


def test_the_run_is_not_stopped_before_its_deadline() -> None:
    engine = new_engine(metered=True)  # fuel bounds the spin where the epoch must not
    clock = FakeClock(100.0)
    ticker = _Ticker(engine, clock=clock, tick=0.01)
    store = wasmtime.Store(engine)
    store.set_fuel(50_000_000)
    ticker.arm(store, deadline=101.0)
    clock.now = 100.99
    ticker.catch_up()
    assert ticker.epoch == 98
    # Still before the deadline: the loop runs until its fuel ends, not interrupted.
    assert _spin(engine, store).trap_code is wasmtime.TrapCode.OUT_OF_FUEL


def test_a_starved_ticker_catches_up_in_one_wake_up() -> None:
    engine = new_engine(metered=True)  # fuel bounds the spin where the epoch must not
    clock = FakeClock(100.0)
    ticker = _Ticker(engine, clock=clock, tick=0.01)
    store = wasmtime.Store(engine)
    store.set_fuel(5_000_000_000)  # seconds of spinning: only the epoch stops it sooner
    ticker.arm(store, deadline=101.0)
    clock.now = 105.0  # the ticker thread did not run for 5 s (a loaded machine)
    ticker.catch_up()
    assert ticker.epoch == 500
    assert ticker.worst_lag == pytest.approx(4.99)
    assert _spin(engine, store).trap_code is wasmtime.TrapCode.INTERRUPT


def test_idle_time_is_not_caught_up_tick_by_tick() -> None:
    engine = new_engine(metered=True)  # fuel bounds the spin where the epoch must not
    clock = FakeClock(0.0)
    ticker = _Ticker(engine, clock=clock, tick=0.01)
    clock.now = 3600.0  # an hour with no run in flight
    ticker.__enter__()
    try:
        ticker.catch_up()
        assert ticker.epoch == 0
        clock.now = 3600.5
        ticker.catch_up()
        assert ticker.epoch == 50
    finally:
        ticker.__exit__()


def test_parallel_busy_runs_stop_within_the_stated_bound(box: Sandbox) -> None:
    limits = Limits(timeout=2, fuel=None)
    results = []

    def one() -> None:
        results.append(box.run("while True: pass", limits=limits))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 6
    ticker = box._flavour(False).ticker  # the unmetered engine's, which these runs use
    bound = limits.timeout + ticker.tick + ticker.worst_lag + _UNWIND
    for result in results:
        assert result.status is Status.DEADLINE, result.detail
        assert limits.timeout <= result.wall_time <= bound
