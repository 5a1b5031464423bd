from palindrome import is_palindrome


def test_simple() -> None:
    assert is_palindrome("level")
    assert not is_palindrome("levels")


def test_loose() -> None:
    assert is_palindrome("A man, a plan, a canal: Panama")


def test_case() -> None:
    assert is_palindrome("Racecar")
