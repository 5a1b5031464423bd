"""The model's edits: search/replace blocks, tolerant unified diffs, whole files."""

from __future__ import annotations

import pytest

from swarm.brain import EditDoesNotApply, InvalidRequest, PatchDoesNotApply
from swarm.brain._edits import (
    SearchReplace,
    WholeFile,
    apply_edits,
    parse_edits,
    replace_once,
)

CART = """from __future__ import annotations

TAX_RATE = 0.2


class Cart:
    def total(self, quantity: int, price: float) -> float:
        if quantity < 0:
            raise ValueError("quantity must be positive")
        return quantity * price * (1 + TAX_RATE)
"""


def files(**texts: str):  # type: ignore[no-untyped-def]
    def read(path: str) -> str:
        return texts[path.replace("/", "_").replace(".", "_")]

    return read


def test_a_search_replace_block_fixes_the_bug() -> None:
    answer = """The check should include zero.

shop/cart.py
```python
<<<<<<< SEARCH
        if quantity < 0:
=======
        if quantity <= 0:
>>>>>>> REPLACE
```
"""
    edits = parse_edits(answer)
    assert edits == [
        SearchReplace("shop/cart.py", "        if quantity < 0:\n", "        if quantity <= 0:\n")
    ]
    (edit,) = apply_edits(edits, files(shop_cart_py=CART))
    assert edit.path == "shop/cart.py"
    assert edit.new_source == CART.replace("quantity < 0", "quantity <= 0")


def test_a_search_block_that_lost_its_indentation_is_reindented() -> None:
    # What the 1.5B model wrote: the method without its class indentation.
    answer = """**shop/cart.py**
<<<<<<< SEARCH
def total(self, quantity: int, price: float) -> float:
    if quantity < 0:
=======
def total(self, quantity: int, price: float) -> float:
    \"\"\"The price of ``quantity`` items, tax included.\"\"\"
    if quantity < 0:
>>>>>>> REPLACE
"""
    (edit,) = apply_edits(parse_edits(answer), files(shop_cart_py=CART))
    assert edit.new_source is not None
    assert (
        "    def total(self, quantity: int, price: float) -> float:\n"
        '        """The price of ``quantity`` items, tax included."""\n'
        "        if quantity < 0:\n"
    ) in edit.new_source


def test_several_blocks_and_a_new_file() -> None:
    answer = """File: shop/cart.py
<<<<<<< SEARCH
TAX_RATE = 0.2
=======
TAX_RATE = 0.25
>>>>>>> REPLACE
<<<<<<< SEARCH
        if quantity < 0:
=======
        if quantity <= 0:
>>>>>>> REPLACE

shop/new.py
<<<<<<< SEARCH
=======
VALUE = 1
>>>>>>> REPLACE
"""
    edits = apply_edits(parse_edits(answer), files(shop_cart_py=CART))
    assert [e.path for e in edits] == ["shop/cart.py", "shop/new.py"]
    assert edits[0].new_source is not None
    assert "TAX_RATE = 0.25" in edits[0].new_source and "quantity <= 0" in edits[0].new_source
    assert edits[1].new_source == "VALUE = 1\n"


def test_a_search_that_matches_nothing_names_the_file_and_the_failing_line() -> None:
    answer = """shop/cart.py
<<<<<<< SEARCH
class Cart:
    def total(self, qty: int, price: float) -> float:
=======
class Cart:
    def total(self, n: int, price: float) -> float:
>>>>>>> REPLACE
"""
    with pytest.raises(EditDoesNotApply) as err:
        apply_edits(parse_edits(answer), files(shop_cart_py=CART))
    e = err.value
    assert e.path == "shop/cart.py"
    assert e.line == "    def total(self, qty: int, price: float) -> float:"
    assert "lines 1-1 of the text to replace match at line 6" in str(e)
    assert (7, "    def total(self, quantity: int, price: float) -> float:") in e.closest
    assert "closest lines in the file" in str(e)


def test_a_search_found_twice_is_refused_not_guessed() -> None:
    source = "x = 1\ny = 2\nx = 1\n"
    with pytest.raises(EditDoesNotApply, match=r"occurs 2 times \(at lines 1, 3\)"):
        replace_once("a.py", source, "x = 1\n", "x = 3\n")


def test_exact_match_wins_over_a_whitespace_match() -> None:
    source = "if a:\n    x = 1\nx = 1\n"
    assert replace_once("a.py", source, "x = 1\n", "x = 2\n") == "if a:\n    x = 1\nx = 2\n"


def test_an_empty_search_on_an_existing_file_is_refused() -> None:
    with pytest.raises(EditDoesNotApply, match="creates a new file, and this file exists"):
        replace_once("a.py", "x = 1\n", "", "y = 2\n")


def test_a_block_without_a_path_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="no file path"):
        parse_edits("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")


def test_an_unclosed_block_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="not closed"):
        parse_edits("a.py\n<<<<<<< SEARCH\na\n=======\nb\n")


def test_an_answer_without_an_edit_says_what_was_expected() -> None:
    with pytest.raises(InvalidRequest, match="no edit"):
        parse_edits("I would rather not.")


def test_a_diff_with_wrong_hunk_counts_is_recounted_and_applied() -> None:
    answer = """```diff
--- a/shop/cart.py
+++ b/shop/cart.py
@@ -1,6 +1,6 @@
     def total(self, quantity: int, price: float) -> float:
-        if quantity < 0:
+        if quantity <= 0:
             raise ValueError("quantity must be positive")
```
"""
    (edit,) = apply_edits(parse_edits(answer), files(shop_cart_py=CART))
    assert edit.new_source == CART.replace("quantity < 0", "quantity <= 0")


def test_every_fenced_diff_in_an_answer_is_applied() -> None:
    answer = """First:
```diff
--- a/a.py
+++ b/a.py
@@ -1 +1 @@
-a = 1
+a = 2
```
Then:
```diff
--- a/b.py
+++ b/b.py
@@ -1 +1 @@
-b = 1
+b = 2
```
"""
    edits = apply_edits(parse_edits(answer), files(a_py="a = 1\n", b_py="b = 1\n"))
    assert [(e.path, e.new_source) for e in edits] == [("a.py", "a = 2\n"), ("b.py", "b = 2\n")]


def test_a_new_file_diff_without_dev_null_creates_the_file() -> None:
    answer = """--- a/shop/new.py
+++ b/shop/new.py
@@ -1,0 +1,2 @@
+def new() -> int:
+    return 1
"""
    (edit,) = apply_edits(parse_edits(answer), files())
    assert edit.path == "shop/new.py" and edit.new_source == "def new() -> int:\n    return 1\n"


def test_a_hunk_whose_context_is_not_in_the_file_names_hunk_and_line() -> None:
    answer = """--- a/shop/cart.py
+++ b/shop/cart.py
@@ -3,2 +3,2 @@
 TAX_RATE = 0.2
-DISCOUNT = 0.1
+DISCOUNT = 0.2
"""
    with pytest.raises(PatchDoesNotApply) as err:
        apply_edits(parse_edits(answer), files(shop_cart_py=CART))
    assert err.value.hunk == 1 and err.value.line == "DISCOUNT = 0.1"
    assert "shop/cart.py: hunk #1" in str(err.value)


def test_a_hunks_line_number_picks_between_two_equal_places() -> None:
    source = "def a():\n    pass\n\n\ndef b():\n    pass\n"
    answer = """--- a/m.py
+++ b/m.py
@@ -5,2 +5,2 @@
 def b():
-    pass
+    return 2
"""
    (edit,) = apply_edits(parse_edits(answer), files(m_py=source))
    assert edit.new_source == "def a():\n    pass\n\n\ndef b():\n    return 2\n"


def test_a_whole_file_block_replaces_the_file_in_its_line_endings() -> None:
    source = "a = 1\r\nb = 2\r\n"
    answer = "Here is the new m.py:\n```python\na = 1\nb = 3\n```\n"
    assert parse_edits(answer) == [WholeFile("m.py", "a = 1\nb = 3\n")]
    (edit,) = apply_edits(parse_edits(answer), files(m_py=source))
    assert edit.new_source == "a = 1\r\nb = 3\r\n"


def test_a_whole_file_keeps_a_missing_final_newline_missing() -> None:
    answer = "```python m.py\nx = 2\n```"
    (edit,) = apply_edits(parse_edits(answer), files(m_py="x = 1"))
    assert edit.new_source == "x = 2"


def test_edits_that_change_nothing_are_dropped() -> None:
    answer = "m.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 1\n>>>>>>> REPLACE\n"
    assert apply_edits(parse_edits(answer), files(m_py="x = 1\n")) == []


def test_an_edit_to_a_missing_file_names_it() -> None:
    answer = "gone.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
    with pytest.raises(EditDoesNotApply, match=r"gone\.py: the file does not exist"):
        apply_edits(parse_edits(answer), files())


def test_an_answer_in_crlf_with_the_path_inside_the_fence() -> None:
    answer = (
        "```python\r\n# shop/cart.py\r\n<<<<<<< SEARCH\r\nTAX_RATE = 0.2\r\n=======\r\n"
        "TAX_RATE = 0.3\r\n>>>>>>> REPLACE\r\n```\r\n"
    )
    (edit,) = apply_edits(parse_edits(answer), files(shop_cart_py=CART))
    assert edit.new_source == CART.replace("0.2", "0.3")


def test_aiders_older_original_updated_markers_are_read_too() -> None:
    answer = "m.py\n<<<<<<< ORIGINAL\nx = 1\n=======\nx = 2\n>>>>>>> UPDATED\n"
    assert parse_edits(answer) == [SearchReplace("m.py", "x = 1\n", "x = 2\n")]
