from text_stats import count_lines, count_words


def test_simple() -> None:
    assert count_words("one two three") == 3


def test_runs_of_whitespace() -> None:
    assert count_words("  one   two\nthree\t four ") == 4


def test_empty() -> None:
    assert count_words("") == 0


def test_lines() -> None:
    assert count_lines("a\nb\n") == 2
