"""Writing one CSV row."""


def join_row(values: list[str]) -> str:
    """``values`` as one line of CSV."""
    return ",".join(values)
