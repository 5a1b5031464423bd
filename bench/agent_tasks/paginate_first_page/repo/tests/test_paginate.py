from paginate import page, page_count


def test_page_count() -> None:
    assert page_count(list(range(7)), 3) == 3


def test_first_page() -> None:
    assert page(list(range(7)), 1, 3) == [0, 1, 2]


def test_last_page_is_short() -> None:
    assert page(list(range(7)), 3, 3) == [6]
