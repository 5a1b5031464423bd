"""Crash safety: a real writer process killed with SIGKILL mid-append, 20 times over.

The child (``_child.py crash``) appends batches of Decisions, StateChanges with
their blobs, locked edits and re-sent ids to one sqlite file (synchronous=FULL)
and prints each event after ``append`` returns. Afterwards every acknowledged
event must be there and intact, the chain of raw records must verify, and the
indexes (path, agent, mission, time, event id) and the file heads must agree
with the log in both directions: no entry pointing at a missing event, no
event missing from an index it belongs in.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

import ledger
from ledger import Ledger, RecordedEvent, Versionstamp
from ledger._codec import RECEIPT_BYTES, decode_event_id, event_id_receipt
from ledger._keys import ProjectKeys, TenantKeys, strinc, unpack
from proto.swarm.v1 import events_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("_child.py")
KILLS = 20
TENANT, PROJECT = "acme", "web"
LOCK_SIGNALS = {
    pb.SIGNAL_KIND_LOCK_ACQUIRED,
    pb.SIGNAL_KIND_LOCK_RELEASED,
    pb.SIGNAL_KIND_LOCK_EXPIRED,
}


class _Reader(threading.Thread):
    """Collects a child's stdout lines as they come, so the pipe never fills."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.lines: list[str] = []
        self.started_acking = threading.Event()

    def run(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if not line.endswith("\n"):
                break  # cut off by the kill: never acknowledged in full
            self.lines.append(line.rstrip("\n"))
            if line.startswith("ack "):
                self.started_acking.set()


def _run_and_kill(db: Path, run: int, rng: random.Random) -> list[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            "crash",
            str(db),
            TENANT,
            PROJECT,
            str(run),
            str(rng.randrange(2**32)),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = _Reader(proc)
    reader.start()
    # Kill at a random moment once it is appending (now and then before it even starts).
    if rng.random() < 0.9:
        reader.started_acking.wait(timeout=30)
    time.sleep(rng.uniform(0.0, 0.4))
    if proc.poll() is not None:
        assert proc.stderr is not None
        pytest.fail(f"child {run} exited on its own with {proc.returncode}: {proc.stderr.read()}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=30)
    assert proc.stderr is not None
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return reader.lines


@pytest.mark.slow
def test_every_acknowledged_event_survives_sigkill_and_the_indexes_agree(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite"
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    acked: dict[str, Versionstamp] = {}
    for run in range(KILLS):
        for line in _run_and_kill(db, run, rng):
            if line.startswith("ack "):
                _, vs, eid, _dup = line.split()
                stamp = Versionstamp.parse(vs)
                assert acked.setdefault(eid, stamp) == stamp, f"{eid} acknowledged at two places"
    assert len(acked) > KILLS, "the children hardly appended anything; the test proves little"

    led = ledger.open_ledger(f"sqlite://{db}")
    try:
        log = list(led.iter_events(TENANT, PROJECT))
        _acknowledged_events_are_intact(led, log, acked)
        _chain_verifies(led, log)
        _indexes_match_the_log(led, log)
        _time_index_matches_the_log(led, log)
        _file_heads_match_the_log(led, log)
    finally:
        led.close()


def _acknowledged_events_are_intact(
    led: Ledger, log: list[RecordedEvent], acked: dict[str, Versionstamp]
) -> None:
    by_vs = {rec.versionstamp: rec for rec in log}
    assert len(by_vs) == len(log)
    ids = [rec.event.event_id for rec in log]
    assert len(set(ids)) == len(ids), "an event id landed twice"
    info = led.project_info(TENANT, PROJECT)
    assert info.events == len(log) and info.head == log[-1].versionstamp
    for eid, vs in acked.items():
        rec = by_vs.get(vs)
        assert rec is not None, f"acknowledged event {eid} at {vs} is gone"
        assert rec.event.event_id == eid
        assert led.get_event(TENANT, PROJECT, vs).event == rec.event
        assert led.find_event(TENANT, eid) == (PROJECT, vs)


def _chain_verifies(led: Ledger, log: list[RecordedEvent]) -> None:
    chain = b"\x00" * 32
    count = 0
    after = None
    while True:
        page = led.raw_records(TENANT, PROJECT, after=after, limit=1000)
        for vs, stored_chain, data in page:
            chain = hashlib.sha256(chain + data).digest()
            assert stored_chain == chain, f"chain breaks at {vs}"
            assert pb.SwarmEvent.FromString(data) == log[count].event
            assert vs == log[count].versionstamp
            count += 1
        if len(page) < 1000:
            break
        after = page[-1][0]
    assert count == len(log)
    (_, _, clock_chain) = _clock(led)
    assert clock_chain == chain, "the project clock's chain is not the last record's"


def _clock(led: Ledger) -> tuple[int, int, bytes]:
    from ledger._codec import decode_clock

    raw = led.engine.read(lambda tr: tr.get(_pk(led).clock))
    assert raw is not None
    return decode_clock(raw)


def _tk(led: Ledger) -> TenantKeys:
    return led.tenant_scope(TENANT).keys


def _pk(led: Ledger) -> ProjectKeys:
    return _tk(led).project(PROJECT)


def _expected_indexes(log: list[RecordedEvent]) -> dict[tuple[str, str], list[Versionstamp]]:
    """Which index each event belongs in, derived from the events themselves."""
    want: dict[tuple[str, str], list[Versionstamp]] = defaultdict(list)
    for rec in log:
        ev = rec.event
        if ev.agent_id:
            want["agent", ev.agent_id].append(rec.versionstamp)
        if ev.mission_id:
            want["mission", ev.mission_id].append(rec.versionstamp)
        if rec.kind == "state_change":
            want["path", ev.state_change.path].append(rec.versionstamp)
        elif rec.kind == "signal" and ev.signal.kind in LOCK_SIGNALS:
            want["path", ev.signal.subject].append(rec.versionstamp)
    return want


def _indexes_match_the_log(led: Ledger, log: list[RecordedEvent]) -> None:
    want = _expected_indexes(log)
    by_vs = {rec.versionstamp: rec for rec in log}
    # Through the public queries: each index returns exactly its events, in log order.
    for (kind, value), stamps in want.items():
        got: list[Versionstamp] = []
        after = None
        while True:
            page = led.history(
                TENANT, PROJECT, **dict[str, Any]({kind: value}), after=after, limit=1000
            )
            got.extend(r.versionstamp for r in page)
            if len(page) < 1000:
                break
            after = page[-1].versionstamp
        assert got == stamps, f"history({kind}={value!r}) disagrees with the log"
    # Through the raw keys, folded ('ix') and not yet folded ('ixr'): no index entry of
    # any value points at a missing or wrong event, and no event is in an index twice.
    pk = _pk(led)
    rows = led.engine.read(lambda tr: tr.get_range(pk.index, strinc(pk.index)))
    unfolded = led.engine.read(lambda tr: tr.get_range(pk.recent, strinc(pk.recent)))
    from ledger._codec import decode_folded, decode_index_groups, user_versions

    entries: list[tuple[str, str, Versionstamp]] = []
    for raw_key, raw_value in rows:  # folded: a segment per transaction, the first stamp in the key
        index_kind, index_name, _vs = unpack(raw_key, len(pk.index))
        stamps = decode_folded(raw_value)
        assert stamps[0].raw == raw_key[-12:]
        entries += [(str(index_kind), str(index_name), vs) for vs in stamps]
    for raw_key, raw_value in unfolded:  # unfolded: user versions of the transaction in the key
        tr_version = raw_key[len(pk.recent) + 1 : len(pk.recent) + 11]
        for group_kind, group_name, uvs in decode_index_groups(raw_value):
            entries += [
                (group_kind, group_name, Versionstamp.of(tr_version, uv))
                for uv in user_versions(uvs)
            ]
    found: dict[tuple[str, str], list[Versionstamp]] = defaultdict(list)
    for entry_kind, entry_name, vs in entries:
        assert vs in by_vs, f"index {entry_kind}={entry_name} points at missing event {vs}"
        found[entry_kind, entry_name].append(vs)
    assert {k: sorted(v) for k, v in found.items()} == dict(want)
    # The idempotency records: one per event, each naming where it landed.
    tk = _tk(led)
    eid_prefix = tk.event_id("x")[: -len(b"\x02x\x00")]
    eids = led.engine.read(lambda tr: tr.get_range(eid_prefix, strinc(eid_prefix)))
    assert len(eids) == len(log)
    for raw_key, raw_value in eids:
        (_, eid) = unpack(raw_key, len(tk.prefix))
        owner, vs = decode_event_id(str(eid), raw_value)
        assert owner == PROJECT and len(event_id_receipt(raw_value)) == RECEIPT_BYTES
        assert vs in by_vs and by_vs[vs].event.event_id == eid


def _time_index_matches_the_log(led: Ledger, log: list[RecordedEvent]) -> None:
    by_vs = {rec.versionstamp: rec for rec in log}
    times = [rec.time_us for rec in log]
    assert times == sorted(times) and len(set(times)) == len(times), "times do not strictly grow"
    # The sparse 'at' index: one entry per transaction, at its first event and that event's time.
    pk = _pk(led)
    rows = led.engine.read(lambda tr: tr.get_range(pk.at, strinc(pk.at)))
    transactions = {rec.versionstamp.tr_version for rec in log}
    seen = set()
    for key, _ in rows:
        time_us, _vs = unpack(key, len(pk.at))
        vs = Versionstamp(key[-12:])
        assert vs in by_vs, f"time index points at missing event {vs}"
        assert by_vs[vs].time_us == time_us
        assert vs.user_version == 0
        seen.add(vs.tr_version)
    assert seen == transactions, "a transaction has no time index entry"
    # And through the query: every event is the answer for its own time, its predecessor just before.
    previous = None
    for rec in log:
        assert led.versionstamp_at(TENANT, PROJECT, rec.time_us) == rec.versionstamp
        assert led.versionstamp_at(TENANT, PROJECT, rec.time_us - 1) == previous
        previous = rec.versionstamp


def _file_heads_match_the_log(led: Ledger, log: list[RecordedEvent]) -> None:
    heads: dict[str, tuple[bytes, Versionstamp]] = {}
    for rec in log:
        if rec.kind != "state_change":
            continue
        sc = rec.event.state_change
        before = heads.get(sc.path, (b"", None))[0]
        assert sc.previous_sha256 == before, f"hash chain of {sc.path} breaks at {rec.versionstamp}"
        if sc.new_sha256:
            heads[sc.path] = (sc.new_sha256, rec.versionstamp)
            assert led.has_blob(TENANT, sc.new_sha256)
        else:
            heads.pop(sc.path, None)
    files = led.files(TENANT, PROJECT)
    assert {f.path: (f.sha256, f.versionstamp) for f in files} == heads
    for f in files:
        assert hashlib.sha256(led.get_blob(TENANT, f.sha256)).digest() == f.sha256
