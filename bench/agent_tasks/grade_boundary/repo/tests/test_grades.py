from grades import letter


def test_middle() -> None:
    assert [letter(95), letter(85), letter(75), letter(10)] == ["A", "B", "C", "F"]


def test_boundaries() -> None:
    assert [letter(90), letter(80), letter(70)] == ["A", "B", "C"]
