from mapping import invert


def test_unique() -> None:
    assert invert({"a": 1, "b": 2}) == {1: ["a"], 2: ["b"]}


def test_shared_values() -> None:
    assert invert({"b": 1, "a": 1, "c": 2}) == {1: ["a", "b"], 2: ["c"]}
