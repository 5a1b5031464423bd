"""Fixtures for the attack tests: a canary folder outside every allowed root."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security._outside import Outside


@pytest.fixture
def outside(tmp_path: Path) -> Outside:
    """A folder beside the test's roots that no attack may touch; assert it at the end."""
    return Outside(tmp_path / "outside")
