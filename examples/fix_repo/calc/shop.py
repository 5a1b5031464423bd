"""Line totals."""


def line_total(price, quantity):
    """The price of ``quantity`` items."""
    if quantity < 0:
        raise ValueError("quantity must be positive")
    return price * quantity
