from csv_line import join_row


def test_plain() -> None:
    assert join_row(["a", "b"]) == "a,b"


def test_comma() -> None:
    assert join_row(["a,b", "c"]) == '"a,b",c'


def test_quote() -> None:
    assert join_row(['say "hi"']) == '"say ""hi"""'
