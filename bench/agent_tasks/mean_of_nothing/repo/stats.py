"""Small statistics helpers."""


def mean(values: list[float]) -> float:
    """The arithmetic mean of ``values``."""
    return sum(values) / len(values)


def spread(values: list[float]) -> float:
    """The largest value less the smallest."""
    return max(values) - min(values)
