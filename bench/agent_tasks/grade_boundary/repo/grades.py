"""Letter grades."""


def letter(score: int) -> str:
    """The letter for a score out of 100."""
    if score > 90:
        return "A"
    if score > 80:
        return "B"
    if score > 70:
        return "C"
    return "F"
