"""Dictionary helpers."""


def invert(d: dict[str, int]) -> dict[int, list[str]]:
    """Each value of ``d`` mapped to the keys that had it, sorted."""
    return {v: [k] for k, v in d.items()}
