"""The one progress bar of the CLI, on stderr: ``bar(phase, done, total)``, then ``close()``.

On a terminal it redraws one line (``phase [####......] done/total``, at most
ten times a second, always at the end of a phase); elsewhere (a log, a pipe)
it writes a line per phase and per tenth of it, so a log stays short.
"""

from __future__ import annotations

import sys
import time

_WIDTH = 30
_REDRAW_S = 0.1


class Bar:
    """A progress bar on stderr for one command; ``close()`` ends its line."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._last: tuple[str, int] = ("", -1)
        self._drawn = 0.0
        self._shown = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        pct = int(100 * done / total) if total else 0
        if self.tty:
            now = time.monotonic()
            if now - self._drawn < _REDRAW_S and done != total:
                return
            self._drawn = now
            filled = pct * _WIDTH // 100
            bar = f" [{'#' * filled}{'.' * (_WIDTH - filled)}]" if total else ""
            of = f"/{total}" if total else ""
            sys.stderr.write(f"\r{phase:<8}{bar} {done}{of}\x1b[K")
            sys.stderr.flush()
            self._shown = True
        elif (phase, pct // 10) != self._last:
            of = f"/{total}" if total else ""
            print(f"{phase}: {done}{of}", file=sys.stderr)
        self._last = (phase, pct // 10)

    def close(self) -> None:
        if self.tty and self._shown:
            sys.stderr.write("\n")
            self._shown = False
