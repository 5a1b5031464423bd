"""What only the sqlite engine has: a file that outlives the process, watches across processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import ledger
from tests.ledger._events import decision


def test_the_file_outlives_the_engine(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'l.sqlite'}"
    led = ledger.open_ledger(url)
    led.create_tenant("acme")
    led.create_project("acme", "web")
    e = decision()
    vs = led.append("acme", "web", [e])[0].versionstamp
    led.close()
    again = ledger.open_ledger(url)
    assert again.find_event("acme", e.event_id) == ("web", vs)
    later = again.append("acme", "web", [decision()])[0].versionstamp
    assert later > vs  # the commit counter survived the restart
    again.close()


def test_a_watch_fires_for_an_append_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    url = f"sqlite://{path}"
    led = ledger.open_ledger(url)
    led.create_tenant("acme")
    led.create_project("acme", "web")
    head = led.head("acme", "web")
    watch = led.watch("acme", "web")
    child = textwrap.dedent(
        f"""
        import ledger
        from proto.swarm.v1 import events_pb2 as pb
        led = ledger.open_ledger({url!r})
        led.append("acme", "web", [pb.SwarmEvent(event_id="from-child", decision=pb.Decision())])
        """
    )
    subprocess.run(
        [sys.executable, "-c", child], check=True, cwd=Path(__file__).parents[2], timeout=60
    )
    assert watch.wait(10)
    assert led.wait_for_append("acme", "web", head, timeout=0)
    assert led.find_event("acme", "from-child") is not None
    led.close()


def test_schema_marks_the_file_as_a_swarm_ledger(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "l.sqlite"
    ledger.open_ledger(f"sqlite://{path}").close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x53574D31
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
