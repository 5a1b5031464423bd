"""Recipes built on the standard library."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import Any

__all__ = ["prepend", "take", "flatten_chunks"]


def prepend(value: Any, iterator: Iterable[Any]) -> Iterator[Any]:
    """Yield ``value``, then what ``iterator`` yields."""
    return chain([value], iterator)


def take(n: int, iterable: Iterable[Any]) -> list[Any]:
    """The first ``n`` items."""
    return list(islice(iterable, n))


def flatten_chunks(iterable: Iterable[Any], n: int) -> list[Any]:
    from .more import chunked

    return [x for chunk in chunked(iterable, n) for x in chunk]


def first_two(iterable: Iterable[Any]) -> list[Any]:
    prepend = list(iterable)  # a local that shadows the module's prepend
    return prepend[:2]
