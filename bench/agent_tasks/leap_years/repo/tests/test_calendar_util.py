from calendar_util import days_in_year, is_leap


def test_common() -> None:
    assert is_leap(2024) and not is_leap(2023)


def test_centuries() -> None:
    assert is_leap(2000)
    assert not is_leap(1900)


def test_days() -> None:
    assert days_in_year(2000) == 366
