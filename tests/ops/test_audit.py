"""Audit queries, who-changed-why, and the output formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ledger import Ledger
from ops import (
    BadQuery,
    ExportUnavailable,
    Query,
    UnknownFormat,
    export,
    query,
    render,
    who_changed,
)
from tests.conftest import ManualClock
from tests.replay._history import Story, write_story


@pytest.fixture
def story(led: Ledger, tenant: str, clock: ManualClock) -> Story:
    return write_story(led, tenant, clock)


def test_by_agent_role_type_and_mission(led: Ledger, story: Story) -> None:
    t, p = story.tenant, story.project
    rows = list(query(led, t, p, Query(agent="scout-1")))
    assert rows and {r.agent for r in rows} == {"scout-1"}
    assert {r.kind for r in rows} == {"decision"}
    coder = list(query(led, t, p, Query(role="coder", kind="state_change")))
    assert coder and all(r.role == "coder" for r in coder)
    mission = list(query(led, t, p, Query(mission="m-1")))
    assert [r.versionstamp for r in mission] == [str(v) for v in story.missions["m-1"]]


def test_by_path_includes_lock_signals(led: Ledger, story: Story) -> None:
    rows = list(query(led, story.tenant, story.project, Query(path="src/mod_0.py")))
    assert {r.kind for r in rows} >= {"state_change"}
    assert all(r.path == "src/mod_0.py" for r in rows)


def test_time_window_is_inclusive(led: Ledger, story: Story) -> None:
    _, t0, _ = story.states[5]
    _, t1, _ = story.states[9]
    rows = list(query(led, story.tenant, story.project, Query(since_us=t0, until_us=t1)))
    assert rows[0].time_us == t0 and rows[-1].time_us == t1
    assert all(t0 <= r.time_us <= t1 for r in rows)


def test_text_in_rationale(led: Ledger, story: Story) -> None:
    rows = list(query(led, story.tenant, story.project, Query(text="MISSION 2 STEP 1")))
    assert len(rows) == 1 and rows[0].kind == "decision"
    assert list(query(led, story.tenant, story.project, Query(text="no such words"))) == []


def test_limit(led: Ledger, story: Story) -> None:
    assert len(list(query(led, story.tenant, story.project, Query(limit=3)))) == 3


def test_who_changed_names_the_decision(led: Ledger, story: Story) -> None:
    whys = who_changed(led, story.tenant, story.project, "src/mod_5.py")
    assert whys
    for why in whys:
        assert why.change.path == "src/mod_5.py"
        expected = story.decisions.get(why.change.event_id)
        if expected is not None:
            assert why.decision is not None and why.decision.event_id == expected
    assert any(w.decision is not None for w in whys)


def test_refuses_bad_filters(led: Ledger, story: Story) -> None:
    t, p = story.tenant, story.project
    with pytest.raises(BadQuery, match="unknown event type 'thought'"):
        list(query(led, t, p, Query(kind="thought")))
    with pytest.raises(BadQuery, match="unknown role 'wizard'"):
        list(query(led, t, p, Query(role="wizard")))
    with pytest.raises(BadQuery, match="ends before it starts"):
        list(query(led, t, p, Query(since_us=10, until_us=5)))
    with pytest.raises(BadQuery, match="limit"):
        list(query(led, t, p, Query(limit=0)))


def test_renders_table_jsonl_and_csv(led: Ledger, story: Story) -> None:
    rows = list(query(led, story.tenant, story.project, Query(mission="m-0")))
    table = render(rows, "table")
    assert table.splitlines()[0].startswith("time") and f"({len(rows)} events)" in table
    lines = render(rows, "jsonl").splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == [r.event_id for r in rows]
    parsed = list(csv.DictReader(io.StringIO(render(rows, "csv"))))
    assert [r["versionstamp"] for r in parsed] == [r.versionstamp for r in rows]
    with pytest.raises(UnknownFormat, match="table, jsonl, csv"):
        render(rows, "xml")


def test_export_parquet_reads_back(led: Ledger, story: Story, tmp_path: Path) -> None:
    pq = pytest.importorskip(
        "pyarrow.parquet", reason="parquet export needs pyarrow (extra 'audit')"
    )
    rows = list(query(led, story.tenant, story.project, Query()))
    (tmp_path / "export").mkdir()
    out = tmp_path / "export" / "audit.parquet"
    assert export(rows, out, "parquet") == len(rows)
    table = pq.read_table(out)
    assert table.num_rows == len(rows)
    assert table.column("event_id").to_pylist() == [r.event_id for r in rows]
    assert [p.name for p in out.parent.iterdir()] == ["audit.parquet"]


def test_export_refuses_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormat):
        export([], tmp_path / "x", "xlsx")
    assert list(tmp_path.iterdir()) == []


def test_parquet_without_pyarrow_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ExportUnavailable, match="pip install"):
        export([], tmp_path / "x.parquet", "parquet")
