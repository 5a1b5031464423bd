"""Layered settings."""

from typing import Any


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``a`` overlaid with ``b`` (a new dict; neither argument changes)."""
    out = dict(a)
    out.update(b)
    return out
