"""The fdb engine's bounds: a cluster that is down is a clear error, not a hang.

The options are checked before the driver loads (these refusals run
everywhere); the down-cluster test needs FoundationDB's C client library and
no cluster at all (it points at a port nothing listens on), so it runs
wherever the library is installed and is skipped, saying why, elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ledger


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("timeout_s=0", "timeout_s must be a positive number"),
        ("timeout_s=soon", "timeout_s must be a positive number"),
        ("retry_limit=1.5", "retry_limit must be a positive number"),
        ("retry_limit=-1", "retry_limit must be a positive number"),
        ("patience=1", "unknown option patience"),
    ],
)
def test_fdb_bounds_that_are_refused(tmp_path: Path, query: str, why: str) -> None:
    with pytest.raises(ledger.InvalidLedgerUrl, match=why):
        ledger.open_engine(f"fdb://{tmp_path / 'fdb.cluster'}?{query}")


def test_a_cluster_that_is_down_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    cluster = tmp_path / "fdb.cluster"
    cluster.write_text("down:down@127.0.0.1:1\n")  # nothing listens on port 1
    try:
        engine = ledger.open_engine(f"fdb://{cluster}?timeout_s=1&retry_limit=3")
    except ledger.EngineUnavailable as exc:
        pytest.skip(f"no FoundationDB client library here: {exc}")
    try:
        with pytest.raises(ledger.EngineUnavailable, match=r"no answer from the cluster of .*1031"):
            engine.read(lambda tr: tr.get(b"k"))
    finally:
        engine.close()
