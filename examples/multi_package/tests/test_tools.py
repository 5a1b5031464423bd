from __future__ import annotations

from tools.pipeline import run
from tools.report import report


def test_report() -> None:
    out = report([1, 2, 3, 4, 5])
    assert out["first"] == 1
    assert out["pairs"] == [[1, 2], [3, 4], [5]]
    assert out["lead"] == [0, "start", 1]
    assert out["quads"] == [[1, 2, 3, 4], [5]]


def test_pipeline() -> None:
    assert run([1, 2, 3]) == [[1, 1], [2, 3]]
