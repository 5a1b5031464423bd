"""A small repository with a bug a test catches, and the answers a model might give about it.

Shared by the loop's tests and the crash child (``_loop_child.py``): the files, and
search/replace answers that do not apply, break a test, or fix the bug.
"""

from __future__ import annotations

from pathlib import Path

SHOP = '''"""Line totals."""


def line_total(price, quantity):
    """The price of ``quantity`` items."""
    if quantity < 0:
        raise ValueError("quantity must be positive")
    return price * quantity
'''

TEST_TOTAL = """import unittest

from calc.shop import line_total


class TotalTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(line_total(2.0, 3), 6.0)
"""

TEST_ZERO = """import unittest

from calc.shop import line_total


class ZeroTest(unittest.TestCase):
    def test_zero_quantity_is_refused(self):
        with self.assertRaises(ValueError):
            line_total(2.0, 0)
"""


def write_loop_repo(root: Path, *, with_failing_test: bool = True) -> Path:
    """The repository: ``calc/shop.py``, a passing test, and (optionally) a failing one."""
    files = {"calc/__init__.py": "", "calc/shop.py": SHOP, "tests/test_total.py": TEST_TOTAL}
    if with_failing_test:
        files["tests/test_zero.py"] = TEST_ZERO
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def block(search: str, replace: str, path: str = "calc/shop.py") -> str:
    """One search/replace block, as a model writes it (with a line of prose first)."""
    return f"Here is the change.\n\n{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


#: Its search text is not in the file (the model misremembered the name).
NOT_APPLYING = block("    if qty < 0:\n", "    if qty <= 0:\n")
#: The right fix; its search lost the function's indentation (forgiven).
FIX = block("if quantity < 0:\n", "if quantity <= 0:\n")
#: Refuses zero, but breaks the total (test_total fails: 7.0 != 6.0).
BREAKS_TOTAL = block(
    '    if quantity < 0:\n        raise ValueError("quantity must be positive")\n'
    "    return price * quantity\n",
    '    if quantity <= 0:\n        raise ValueError("quantity must be positive")\n'
    "    return price * quantity + 1\n",
)

#: A test the import graph does not tie to calc/shop.py (it reads the file's text), so only
#: the critic's whole-suite run sees it fail.
TEST_MESSAGE = """import unittest
from pathlib import Path


class MessageTest(unittest.TestCase):
    def test_the_error_message_is_kept(self):
        text = (Path(__file__).resolve().parents[1] / "calc" / "shop.py").read_text()
        self.assertIn("quantity must be positive", text)
"""
#: Refuses zero (the tied tests pass) but rewords the message the untied test reads.
REWORDS = block(
    '    if quantity < 0:\n        raise ValueError("quantity must be positive")\n',
    '    if quantity <= 0:\n        raise ValueError("bad quantity")\n',
)
