from __future__ import annotations

from typing import Any

from shelf import chunked, spy
from shelf.more import peekable


class Stage:
    def __init__(self, source: peekable) -> None:
        self.source = source

    def push(self, item: Any) -> None:
        self.source.prepend(item)


def run(items: list[Any]) -> list[list[Any]]:
    head, rest = spy(items, 1)
    stage = Stage(peekable(items))
    stage.push(head[0])
    return chunked(list(stage.source), 2)
