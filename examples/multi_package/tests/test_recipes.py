from __future__ import annotations

from shelf import recipes
from shelf.recipes import flatten_chunks, prepend, take


def test_prepend() -> None:
    assert list(prepend(0, [1])) == [0, 1]
    assert list(recipes.prepend(0, [])) == [0]


def test_take_and_flatten() -> None:
    assert take(2, [1, 2, 3]) == [1, 2]
    assert flatten_chunks([1, 2, 3], 2) == [1, 2, 3]
    assert recipes.first_two([3, 4, 5]) == [3, 4]
