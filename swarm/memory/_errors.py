"""Memory's errors: one root, facts carried as attributes.

::

    MemoryFailure                anything semantic memory refuses
    ├── MemoryUnavailable        the ``memory`` extra (qdrant-client, the model) is not installed
    ├── MemoryBusy               a local memory folder another process holds open
    ├── BadMemoryLocation        a --memory-url that is neither a folder nor an http(s) URL
    └── InvalidMemoryQuery       an empty query, an unknown kind, a limit out of range

Not ``MemoryError``: that is Python's out-of-memory error.
"""

from __future__ import annotations


class MemoryFailure(Exception):
    """Root of every error semantic memory raises."""


class MemoryUnavailable(MemoryFailure):
    """The optional ``memory`` extra is missing: nothing can be embedded or stored."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"semantic memory needs the 'memory' extra ({missing} is not installed): "
            "pip install 'swarm-ledger[memory]'"
        )
        self.missing = missing


class MemoryBusy(MemoryFailure):
    """Qdrant's local mode lets one process at a time open a folder."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"the memory at {path} is open in another process (a running `swarm serve`?): "
            "go through it with --server HOST:PORT, or stop it first"
        )
        self.path = path


class BadMemoryLocation(MemoryFailure):
    """A location that names neither a local folder nor a Qdrant server."""

    def __init__(self, location: str, why: str) -> None:
        super().__init__(f"memory location {location!r}: {why}")
        self.location = location


class InvalidMemoryQuery(MemoryFailure):
    """A search that cannot be run as asked."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why
