"""Calendar helpers."""


def is_leap(year: int) -> bool:
    """Whether ``year`` has a 29th of February."""
    return year % 4 == 0 and year % 100 != 0


def days_in_year(year: int) -> int:
    """365 or 366."""
    return 366 if is_leap(year) else 365
