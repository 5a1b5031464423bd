from stack import Stack


def test_order() -> None:
    s = Stack()
    s.push(1)
    s.push(2)
    assert s.pop() == 2 and len(s) == 1


def test_empty_pop() -> None:
    try:
        Stack().pop()
    except IndexError as exc:
        assert str(exc) == "pop from empty stack"
        return
    raise AssertionError("pop on an empty stack did not raise IndexError")
