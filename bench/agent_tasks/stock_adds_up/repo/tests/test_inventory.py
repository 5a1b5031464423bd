from inventory import add_stock, remove_item


def test_new_item() -> None:
    assert add_stock({}, "nut", 3) == {"nut": 3}


def test_adds_to_existing() -> None:
    assert add_stock({"nut": 3}, "nut", 4) == {"nut": 7}


def test_remove() -> None:
    assert remove_item({"nut": 1}, "bolt") == {"nut": 1}
