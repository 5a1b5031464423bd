"""A tiny shop: prices, carts, discounts and orders."""

from shop.cart import Cart
from shop.pricing import calculate_total

__all__ = ["Cart", "calculate_total"]
