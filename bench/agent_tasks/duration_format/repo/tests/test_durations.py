from durations import format_duration, total_seconds


def test_total() -> None:
    assert total_seconds(1, 2, 3) == 3723


def test_hours() -> None:
    assert format_duration(3723) == "1h 02m 03s"


def test_seconds_only() -> None:
    assert format_duration(5) == "0h 00m 05s"
