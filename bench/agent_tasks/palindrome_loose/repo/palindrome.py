"""Words that read the same both ways."""


def is_palindrome(text: str) -> bool:
    """Whether ``text`` reads the same forwards and backwards."""
    return text == text[::-1]
