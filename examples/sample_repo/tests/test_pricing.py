import unittest

from shop.pricing import calculate_total, unit_price


class PricingTest(unittest.TestCase):
    def test_total_with_tax(self) -> None:
        self.assertEqual(calculate_total([10.0, 5.0]), 18.0)

    def test_total_without_tax(self) -> None:
        self.assertEqual(calculate_total([10.0, 5.0], tax=0.0), 15.0)

    def test_unit_price(self) -> None:
        self.assertEqual(unit_price(10.0, 4), 2.5)

    def test_unit_price_refuses_zero(self) -> None:
        with self.assertRaises(ValueError):
            unit_price(1.0, 0)
