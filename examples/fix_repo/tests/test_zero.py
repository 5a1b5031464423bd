import unittest

from calc.shop import line_total


class ZeroTest(unittest.TestCase):
    def test_zero_quantity_is_refused(self):
        with self.assertRaises(ValueError):
            line_total(2.0, 0)
