from __future__ import annotations

import shelf as sh
from shelf import batched, chunked, peekable
from shelf.more import spy


def test_chunked() -> None:
    assert chunked([1, 2, 3], 2) == [[1, 2], [3]]
    assert sh.chunked([1, 2, 3, 4], 2) == [[1, 2], [3, 4]]
    assert sh.more.chunked([1], 1) == [[1]]
    assert batched([1, 2, 3], 3) == [[1, 2, 3]]


def test_peekable_prepend() -> None:
    p = peekable([1, 2])
    p.prepend(0)
    assert list(p) == [0, 1, 2]
    q = sh.peekable([5])
    q.prepend(4)
    assert q.peek() == 4


def test_spy() -> None:
    head, it = spy([1, 2, 3])
    assert head == [1] and list(it) == [1, 2, 3]
