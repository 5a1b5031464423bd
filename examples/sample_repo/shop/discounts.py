"""Discount rules applied to a cart's subtotal."""

from __future__ import annotations


def percent_off(amount: float, percent: float) -> float:
    """``amount`` less ``percent`` per cent."""
    return round(amount * (1.0 - percent / 100.0), 2)


def best_discount(amount: float, codes: list[str]) -> float:
    """The lowest price any of ``codes`` gives (unknown codes are ignored)."""
    table = {"TEN": 10.0, "HALF": 50.0}
    best = amount
    for code in codes:
        if code in table:
            best = min(best, percent_off(amount, table[code]))
    return best
