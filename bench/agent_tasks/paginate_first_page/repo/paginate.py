"""Split a list into pages for display."""


def page_count(items: list[object], size: int) -> int:
    """How many pages of ``size`` items ``items`` fills."""
    return (len(items) + size - 1) // size


def page(items: list[object], number: int, size: int) -> list[object]:
    """Page ``number`` (the first page is 1) of ``items``, ``size`` items a page."""
    start = number * size
    return items[start : start + size]
