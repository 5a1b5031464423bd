"""Stock levels per item."""


def add_stock(stock: dict[str, int], item: str, quantity: int) -> dict[str, int]:
    """Record ``quantity`` more of ``item``; returns ``stock``."""
    stock[item] = quantity
    return stock


def remove_item(stock: dict[str, int], item: str) -> dict[str, int]:
    """Forget ``item`` (no error if it is not there)."""
    stock.pop(item, None)
    return stock
