"""Keeping numbers in range."""


def clamp(x: float, lo: float, hi: float) -> float:
    """``x``, but no less than ``lo`` and no more than ``hi``."""
    return min(lo, max(x, hi))
