"""The edit formats the loop relies on, at their edges: a whitespace-forgiven match that is
ambiguous, hunks whose counts and line numbers are both wrong, an answer mixing a new
file's diff with an existing file's, and the closest real lines a failed block reports."""

from __future__ import annotations

import pytest

from swarm.brain import EditDoesNotApply
from swarm.brain._edits import apply_edits, parse_edits, replace_once

TWO_METHODS = """class A:
    def f(self):
        return 1


class B:
    def f(self):
        return 1
"""


def test_a_match_found_only_after_forgiving_whitespace_but_twice_is_refused() -> None:
    with pytest.raises(EditDoesNotApply, match="occurs 2 times"):
        replace_once("m.py", TWO_METHODS, "def f(self):\nreturn 1\n", "def f(self):\nreturn 2\n")


def test_a_match_found_once_after_forgiving_whitespace_takes_the_files_indentation() -> None:
    source = "class A:\n    def f(self):\n        return 1\n"
    out = replace_once(
        "m.py", source, "def f(self):\n    return 1\n", "def f(self):\n    return 2\n"
    )
    assert out == "class A:\n    def f(self):\n        return 2\n"


def test_hunks_with_wrong_counts_and_line_numbers_apply_where_their_lines_are() -> None:
    answer = """```diff
--- a/m.py
+++ b/m.py
@@ -40,9 +40,2 @@
 class B:
     def f(self):
-        return 1
+        return 2
```
"""
    (edit,) = apply_edits(parse_edits(answer), lambda p: TWO_METHODS)
    assert edit.new_source == TWO_METHODS.removesuffix("return 1\n") + "return 2\n"


def test_an_answer_with_a_new_file_diff_and_an_edit_takes_both() -> None:
    answer = """```diff
--- a/m.py
+++ b/m.py
@@ -1 +1 @@
-x = 1
+x = 2
```
and a new module:
```diff
--- a/n.py
+++ b/n.py
@@ -0,0 +1 @@
+y = 1
```
"""
    texts = {"m.py": "x = 1\n"}

    def read(path: str) -> str:
        return texts[path]

    edits = apply_edits(parse_edits(answer), read)
    assert [(e.path, e.new_source) for e in edits] == [("m.py", "x = 2\n"), ("n.py", "y = 1\n")]


def test_a_block_that_matches_nowhere_quotes_the_closest_real_lines() -> None:
    with pytest.raises(EditDoesNotApply) as err:
        replace_once("m.py", TWO_METHODS, "class B:\n    def g(self):\n", "class B:\n")
    assert err.value.closest and err.value.closest[0] == (6, "class B:")
    assert "    def f(self):" in str(err.value)
