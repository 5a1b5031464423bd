"""A tiny key = value config format."""


def parse_line(line: str) -> tuple[str, str] | None:
    """``key = value`` as (key, value); None for a blank line or a ``#`` comment."""
    key, _, value = line.partition("=")
    return key, value


def parse(text: str) -> dict[str, str]:
    """Every setting of ``text``."""
    out = {}
    for line in text.splitlines():
        pair = parse_line(line)
        if pair is not None:
            out[pair[0]] = pair[1]
    return out
