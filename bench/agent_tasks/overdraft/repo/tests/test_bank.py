from bank import Account


def test_withdraw() -> None:
    a = Account(100)
    a.withdraw(30)
    assert a.balance == 70


def test_overdraft() -> None:
    a = Account(10)
    try:
        a.withdraw(11)
    except ValueError as exc:
        assert str(exc) == "insufficient funds"
        assert a.balance == 10
        return
    raise AssertionError("withdrawing more than the balance did not raise")
