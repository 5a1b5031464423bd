"""A shopping cart."""

from __future__ import annotations

from shop import pricing
from shop.pricing import calculate_total


class Cart:
    """Items and their prices; totals go through ``calculate_total``."""

    def __init__(self) -> None:
        self.items: dict[str, float] = {}

    def add(self, name: str, price: float) -> None:
        self.items[name] = self.items.get(name, 0.0) + price

    def total(self) -> float:
        return calculate_total(list(self.items.values()))

    def total_without_tax(self) -> float:
        return pricing.calculate_total(list(self.items.values()), tax=0.0)
