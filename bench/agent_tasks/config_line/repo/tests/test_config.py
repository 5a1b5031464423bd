from config import parse, parse_line


def test_plain_pair() -> None:
    assert parse_line("a=1") == ("a", "1")


def test_spaces() -> None:
    assert parse_line("  name = swarm ") == ("name", "swarm")


def test_comment_and_blank() -> None:
    assert parse_line("# note") is None
    assert parse_line("   ") is None


def test_parse() -> None:
    assert parse("a=1\n# c\nb = 2\n") == {"a": "1", "b": "2"}
