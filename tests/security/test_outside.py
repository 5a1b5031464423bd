"""The canary helper itself must notice every kind of change, or the attack tests prove nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.security._outside import Outside


@pytest.mark.parametrize("change", ["write", "create", "remove", "chmod", "symlink"])
def test_every_kind_of_change_is_noticed(tmp_path: Path, change: str) -> None:
    out = Outside(tmp_path / "o")
    canary = out.path / "canary.txt"
    if change == "write":
        canary.write_text("changed\n")
    elif change == "create":
        (out.path / "new").write_bytes(b"")
    elif change == "remove":
        canary.unlink()
    elif change == "chmod":
        os.chmod(canary, 0o600)
    else:
        os.symlink("/etc/passwd", out.path / "link")
    with pytest.raises(AssertionError, match="changed during the attack"):
        out.assert_untouched()


def test_an_untouched_folder_passes(tmp_path: Path) -> None:
    Outside(tmp_path / "o").assert_untouched()
