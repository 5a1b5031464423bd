"""Half-open intervals (start, end)."""


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether the half-open intervals ``a`` and ``b`` share a point."""
    return a[1] > b[0]


def length(a: tuple[int, int]) -> int:
    """How long ``a`` is."""
    return a[1] - a[0]
