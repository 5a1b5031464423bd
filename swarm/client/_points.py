"""Reading a point in history as a person types it: a time, or an event's versionstamp."""

from __future__ import annotations

_HEX = frozenset("0123456789abcdef")


def event_versionstamp(text: str) -> str | None:
    """The 24-hex-digit versionstamp ``text`` names, or None when it is not one.

    Swarm prints 24 digits (10 of the commit, 2 bytes of order within it); 20
    digits (a commit's versionstamp alone, as older releases' ``mission show``
    printed) name that commit's first event.
    """
    cleaned = text.strip().lower()
    if not cleaned or not set(cleaned) <= _HEX:
        return None
    if len(cleaned) == 24:
        return cleaned
    if len(cleaned) == 20:
        return cleaned + "0000"
    return None
