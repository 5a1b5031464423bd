from vowels import count_vowels


def test_lower() -> None:
    assert count_vowels("banana") == 3


def test_upper() -> None:
    assert count_vowels("AEIOU and sometimes Y") == 10
