"""Reading the times people type: ISO 8601 or an offset from now (``-2h``)."""

from __future__ import annotations

import datetime as dt
import re

from replay._errors import UnparseableTime

_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(text: str, now_us: int) -> int:
    """Microseconds since the epoch for ``text``; naive ISO times are UTC.

    Raises ``UnparseableTime`` naming the accepted forms. Whether the time
    falls inside the project's life is checked by the caller, who knows it.
    """
    cleaned = text.strip()
    match = _RELATIVE.match(cleaned)
    if match:
        amount, unit = float(match.group(1)), match.group(2)
        return now_us - int(amount * _UNIT_S[unit] * 1_000_000)
    iso = cleaned[:-1] + "+00:00" if cleaned.endswith(("Z", "z")) else cleaned
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise UnparseableTime(text) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_time(time_us: int) -> str:
    """ISO 8601 in UTC with microseconds, the form replay prints."""
    when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=time_us)
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")
