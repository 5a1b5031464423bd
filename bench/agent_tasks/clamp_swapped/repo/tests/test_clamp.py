from clamp import clamp


def test_inside() -> None:
    assert clamp(5, 0, 10) == 5


def test_below_and_above() -> None:
    assert clamp(-3, 0, 10) == 0
    assert clamp(42, 0, 10) == 10


def test_one_point_range() -> None:
    assert clamp(3, 7, 7) == 7
