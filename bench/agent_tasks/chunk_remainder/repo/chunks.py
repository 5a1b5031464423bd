"""Cutting lists into pieces."""


def chunk(items: list[int], size: int) -> list[list[int]]:
    """``items`` in consecutive pieces of ``size`` (the last may be shorter)."""
    return [items[i : i + size] for i in range(0, len(items) - size + 1, size)]
