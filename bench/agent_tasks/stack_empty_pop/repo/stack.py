"""A last-in first-out stack."""


class Stack:
    """Items pushed last come out first."""

    def __init__(self) -> None:
        self._items: list[object] = []

    def push(self, item: object) -> None:
        self._items.append(item)

    def pop(self) -> object:
        if self._items:
            return self._items.pop()
        return None

    def __len__(self) -> int:
        return len(self._items)
