"""Money for people to read."""


def format_price(cents: int) -> str:
    """``cents`` as dollars, e.g. ``$1,234.50``."""
    return f"${cents / 100:.1f}"


def parse_price(text: str) -> int:
    """``$12.30`` back to cents."""
    return round(float(text.lstrip("$").replace(",", "")) * 100)
