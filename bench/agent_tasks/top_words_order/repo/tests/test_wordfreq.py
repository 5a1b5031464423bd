from wordfreq import top_words


def test_most_frequent_first() -> None:
    assert top_words("b a b c b a", 2) == ["b", "a"]


def test_ties_alphabetical() -> None:
    assert top_words("z y x z y x", 3) == ["x", "y", "z"]
