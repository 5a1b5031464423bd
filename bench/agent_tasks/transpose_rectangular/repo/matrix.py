"""Lists of rows as matrices."""


def transpose(m: list[list[int]]) -> list[list[int]]:
    """Rows become columns."""
    return [[m[r][c] for r in range(len(m))] for c in range(len(m))]


def identity(n: int) -> list[list[int]]:
    """The n by n identity matrix."""
    return [[1 if r == c else 0 for c in range(n)] for r in range(n)]
