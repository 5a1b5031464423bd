"""Durations for people."""


def format_duration(seconds: int) -> str:
    """``seconds`` as ``1h 02m 03s``."""
    hours = seconds // 3600
    minutes = seconds // 60
    secs = seconds % 60
    return f"{hours}h {minutes}m {secs:02d}s"


def total_seconds(hours: int, minutes: int, seconds: int) -> int:
    """A duration given in parts, in seconds."""
    return hours * 3600 + minutes * 60 + seconds
