"""Word frequencies."""

from collections import Counter


def top_words(text: str, n: int) -> list[str]:
    """The ``n`` most frequent words of ``text``."""
    counts = Counter(text.lower().split())
    ranked = sorted(counts, key=lambda w: (counts[w], w))
    return ranked[:n]
