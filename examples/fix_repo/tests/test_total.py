import unittest

from calc.shop import line_total


class TotalTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(line_total(2.0, 3), 6.0)
