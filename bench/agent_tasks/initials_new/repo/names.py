"""People's names."""


def full_name(first: str, last: str) -> str:
    """``first last`` with single spaces."""
    return f"{first.strip()} {last.strip()}"
