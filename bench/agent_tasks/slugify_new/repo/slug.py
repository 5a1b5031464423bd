"""Turn titles into URL parts."""


def words(text: str) -> list[str]:
    """The words of ``text``, split on whitespace."""
    return text.split()
