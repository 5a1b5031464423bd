"""A report over shelves: uses shelf through an alias, re-exports and instances."""

from __future__ import annotations

import importlib
from typing import Any

import shelf as sh
from shelf import peekable, prepend
from shelf.recipes import take


def report(items: list[Any]) -> dict[str, Any]:
    p = peekable(items)
    first = p.peek()
    p.prepend("start")
    pairs = sh.chunked(items, 2)
    splitter = getattr(sh, "chunked")
    more = importlib.import_module("shelf.more")
    return {
        "first": first,
        "pairs": pairs,
        "triples": splitter(items, 3),
        "batches": sh.batched(items, 4),
        "lead": list(prepend(0, take(2, p))),
        "again": list(sh.prepend(1, items)),
        "quads": more.chunked(items, 4),
    }


def main() -> None:
    print(report([1, 2, 3, 4, 5]))
