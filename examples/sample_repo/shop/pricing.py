"""Prices and totals."""

from __future__ import annotations

TAX_RATE = 0.2


def calculate_total(prices: list[float], tax: float = TAX_RATE) -> float:
    """Sum the prices and apply tax, rounded to cents."""
    return round(sum(prices) * (1.0 + tax), 2)


def unit_price(total: float, quantity: int) -> float:
    """The price of one item of a line totalling ``total``."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return round(total / quantity, 2)
