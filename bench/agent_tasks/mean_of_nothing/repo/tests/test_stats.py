from stats import mean, spread


def test_mean() -> None:
    assert mean([1.0, 2.0, 3.0]) == 2.0


def test_mean_of_nothing() -> None:
    try:
        mean([])
    except ValueError as exc:
        assert str(exc) == "mean of no values"
        return
    raise AssertionError("mean([]) did not raise ValueError")


def test_spread() -> None:
    assert spread([3.0, 1.0, 2.0]) == 2.0
