"""Counting things in text."""


def count_words(text: str) -> int:
    """How many words ``text`` holds."""
    if not text:
        return 0
    return len(text.split(" "))


def count_lines(text: str) -> int:
    """How many lines ``text`` holds."""
    return len(text.splitlines())
