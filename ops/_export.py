"""Writing audit rows as a table, JSON lines, CSV or Parquet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ops._audit import COLUMNS, AuditRow
from ops._errors import ExportUnavailable, UnknownFormat

TEXT_FORMATS = ("table", "jsonl", "csv")
EXPORT_FORMATS = ("parquet", "jsonl", "csv")


def render(rows: Iterable[AuditRow], fmt: str) -> str:
    """Rows as a readable table, JSON lines or CSV (with a header)."""
    if fmt not in TEXT_FORMATS:
        raise UnknownFormat(fmt, TEXT_FORMATS)
    items = list(rows)
    if fmt == "jsonl":
        return "".join(json.dumps(r.as_dict(), sort_keys=True) + "\n" for r in items)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for r in items:
            writer.writerow(r.as_dict())
        return buf.getvalue()
    shown = ("time", "kind", "role", "agent", "mission", "path", "summary")
    cells = [[_cut(str(getattr(r, c))) for c in shown] for r in items]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(shown)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(shown, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.append(f"({len(items)} event{'s' if len(items) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _cut(text: str, width: int = 60) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def export(rows: Iterable[AuditRow], out: Path, fmt: str) -> int:
    """Write every row to ``out`` (atomically) and return how many were written.

    Parquet needs pyarrow (``pip install swarm[audit]``); its columns are the
    ``AuditRow`` fields, with ``time_us`` as int64, ready for DuckDB or pandas.
    """
    if fmt not in EXPORT_FORMATS:
        raise UnknownFormat(fmt, EXPORT_FORMATS)
    items = list(rows)
    tmp = out.with_name(f".{out.name}.partial")
    if fmt == "parquet":
        pq, pa = _pyarrow()
        table = pa.Table.from_pylist(
            [r.as_dict() for r in items],
            schema=pa.schema([(c, pa.int64() if c == "time_us" else pa.string()) for c in COLUMNS]),
        )
        pq.write_table(table, tmp)
    else:
        tmp.write_text(render(items, fmt), encoding="utf-8")
    tmp.replace(out)
    return len(items)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise ExportUnavailable(
            "parquet export needs pyarrow: pip install 'swarm-ledger[audit]' (or pyarrow)"
        ) from None
    return pq, pa
