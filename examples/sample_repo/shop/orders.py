"""Orders: a cart, discount codes and a final price."""

from __future__ import annotations

from shop.cart import Cart
from shop.discounts import best_discount
from shop.pricing import calculate_total as total_of


class Order:
    def __init__(self, cart: Cart, codes: list[str] | None = None) -> None:
        self.cart = cart
        self.codes = list(codes or [])

    def price(self) -> float:
        subtotal = best_discount(sum(self.cart.items.values()), self.codes)
        return total_of([subtotal])
