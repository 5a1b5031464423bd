from temperature import c_to_f, f_to_c


def test_freezing() -> None:
    assert c_to_f(0) == 32


def test_boiling() -> None:
    assert c_to_f(100) == 212


def test_back() -> None:
    assert f_to_c(212) == 100
