import unittest

from shop import Cart, calculate_total


class CartTest(unittest.TestCase):
    def test_total(self) -> None:
        cart = Cart()
        cart.add("tea", 2.0)
        cart.add("cake", 3.0)
        self.assertEqual(cart.total(), calculate_total([5.0]))
        self.assertEqual(cart.total_without_tax(), 5.0)
