from __future__ import annotations

from unittest import mock

import shelf.io
from shelf import load


@mock.patch("shelf.io._read_source", return_value="a\n\nb\n")
def test_load_skips_blank_lines(read: mock.Mock) -> None:
    assert load("x.txt") == ["a", "b"]
    read.assert_called_once_with("x.txt")


def test_load_through_patch_object() -> None:
    with mock.patch.object(shelf.io, "_read_source", return_value="c\n"):
        assert load("y.txt") == ["c"]
