"""Errors of ops' audit queries and exports.

::

    AuditError
    ├── BadQuery                    a filter that cannot be used (unknown role/kind, bad time)
    ├── UnknownFormat               an output or export format we do not write
    └── ExportUnavailable           parquet asked for but pyarrow is not installed

A tampered log is not an error: ``verify`` returns a report naming the first
problem. Ledger errors (unknown tenant/project) pass through unchanged.
"""

from __future__ import annotations


class AuditError(Exception):
    """Root of every error ops raises."""


class BadQuery(AuditError, ValueError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownFormat(AuditError, ValueError):
    def __init__(self, fmt: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown format {fmt!r}; use one of: {', '.join(known)}")
        self.format = fmt
        self.known = known


class ExportUnavailable(AuditError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
