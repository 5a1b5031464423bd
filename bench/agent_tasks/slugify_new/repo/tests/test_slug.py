import slug


def test_words() -> None:
    assert slug.words(" a  b ") == ["a", "b"]


def test_slugify() -> None:
    assert slug.slugify("Hello, World!") == "hello-world"


def test_slugify_runs_and_ends() -> None:
    assert slug.slugify("  --Swarm   of   Bees-- ") == "swarm-of-bees"
