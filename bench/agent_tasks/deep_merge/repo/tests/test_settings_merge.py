from settings_merge import merge


def test_flat() -> None:
    assert merge({"a": 1, "b": 2}, {"b": 3}) == {"a": 1, "b": 3}


def test_nested() -> None:
    a = {"db": {"host": "x", "port": 1}}
    b = {"db": {"port": 2}}
    assert merge(a, b) == {"db": {"host": "x", "port": 2}}
    assert a == {"db": {"host": "x", "port": 1}}
