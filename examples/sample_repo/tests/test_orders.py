import unittest

from shop.cart import Cart
from shop.discounts import best_discount
from shop.orders import Order


class OrderTest(unittest.TestCase):
    def test_price_with_code(self) -> None:
        cart = Cart()
        cart.add("book", 20.0)
        self.assertEqual(Order(cart, ["HALF"]).price(), 12.0)

    def test_best_discount_ignores_unknown(self) -> None:
        self.assertEqual(best_discount(10.0, ["NOPE"]), 10.0)
