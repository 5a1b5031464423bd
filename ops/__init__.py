"""Ops' view of the ledger: audit queries, tamper evidence and exports.

::

    from ops import Query, query, who_changed, verify, export

    rows = query(led, "acme", "shop", Query(agent="coder-1", since_us=t0))
    for why in who_changed(led, "acme", "shop", "src/app.py"):
        print(why.change.agent, why.decision.summary if why.decision else "-")
    report = verify(led, "acme", "shop")   # report.problems: chain, heads, snapshots, blobs, store
    export(rows, Path("audit.parquet"), "parquet")

Queries go through the ledger's path/agent/mission indexes and its time
index; ``verify`` recomputes the per-project hash chain written at append and
checks the file heads, snapshots, blobs and the store itself against it (ADR 0012).
Errors derive from ``AuditError`` (tree in ``ops._errors``).
"""

from __future__ import annotations

from ops._audit import (
    COLUMNS,
    KINDS,
    ROLES,
    AuditRow,
    ChangeWhy,
    Query,
    format_request,
    query,
    row_of,
    who_changed,
)
from ops._errors import AuditError, BadQuery, ExportUnavailable, UnknownFormat
from ops._export import EXPORT_FORMATS, TEXT_FORMATS, export, render
from ops._verify import (
    ALTERED,
    BLOB,
    CLOCK,
    HEAD,
    INSERTED,
    MOVED,
    REMOVED,
    REORDERED,
    SNAPSHOT,
    STORAGE,
    UNDECODABLE,
    Problem,
    VerifyReport,
    verify,
)

__all__ = [
    "ALTERED",
    "BLOB",
    "CLOCK",
    "COLUMNS",
    "EXPORT_FORMATS",
    "HEAD",
    "INSERTED",
    "KINDS",
    "MOVED",
    "REMOVED",
    "REORDERED",
    "ROLES",
    "SNAPSHOT",
    "STORAGE",
    "TEXT_FORMATS",
    "UNDECODABLE",
    "AuditError",
    "AuditRow",
    "BadQuery",
    "ChangeWhy",
    "ExportUnavailable",
    "Problem",
    "Query",
    "UnknownFormat",
    "VerifyReport",
    "export",
    "format_request",
    "query",
    "render",
    "row_of",
    "verify",
    "who_changed",
]
