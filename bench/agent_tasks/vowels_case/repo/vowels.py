"""Letters in words."""


def count_vowels(text: str) -> int:
    """How many of a, e, i, o, u ``text`` holds."""
    return sum(1 for c in text if c in "aeiou")
