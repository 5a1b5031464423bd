import roman


def test_from_roman() -> None:
    assert roman.from_roman("MCMXCIV") == 1994


def test_to_roman() -> None:
    assert roman.to_roman(4) == "IV"
    assert roman.to_roman(1994) == "MCMXCIV"


def test_round_trip() -> None:
    assert all(roman.from_roman(roman.to_roman(n)) == n for n in range(1, 400))
