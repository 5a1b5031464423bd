from money import format_price, parse_price


def test_format_small() -> None:
    assert format_price(1250) == "$12.50"


def test_format_thousands() -> None:
    assert format_price(123450) == "$1,234.50"


def test_parse() -> None:
    assert parse_price("$1,234.50") == 123450
