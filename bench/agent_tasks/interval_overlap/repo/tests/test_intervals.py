from intervals import length, overlaps


def test_overlapping() -> None:
    assert overlaps((1, 5), (4, 8))


def test_touching_is_not_overlapping() -> None:
    assert not overlaps((1, 4), (4, 8))


def test_before() -> None:
    assert not overlaps((5, 6), (1, 2))


def test_length() -> None:
    assert length((2, 7)) == 5
