import names


def test_full_name() -> None:
    assert names.full_name(" Ada ", "Lovelace") == "Ada Lovelace"


def test_initials() -> None:
    assert names.initials("ada lovelace") == "AL"
    assert names.initials("  Grace  Brewster Hopper ") == "GBH"
