"""Iterator building blocks: :func:`chunked`, :class:`peekable`, :func:`spy`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["chunked", "peekable", "spy"]


def chunked(iterable: Iterable[Any], n: int) -> list[list[Any]]:
    """Break ``iterable`` into lists of length ``n``.

    >>> chunked([1, 2, 3], 2)
    [[1, 2], [3]]
    """
    items = list(iterable)
    return [items[i : i + n] for i in range(0, len(items), n)]


class peekable:
    """An iterator you can look ahead of, and push items back onto with :meth:`prepend`."""

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._it = iter(iterable)
        self._cache: list[Any] = []

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._cache:
            return self._cache.pop(0)
        return next(self._it)

    def prepend(self, *items: Any) -> None:
        """Put ``items`` in front of what is left."""
        self._cache[0:0] = items

    def peek(self) -> Any:
        value = next(self)
        self.prepend(value)
        return value


def spy(iterable: Iterable[Any], n: int = 1) -> tuple[list[Any], peekable]:
    """The first ``n`` items and an iterator that still yields them."""
    p = peekable(iterable)
    head = [next(p) for _ in range(n)]
    p.prepend(*head)
    return head, p


def chunk_pairs(iterable: Iterable[Any]) -> list[list[Any]]:
    return chunked(iterable, 2)
