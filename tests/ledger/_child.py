"""Child processes for the crash and two-process tests: a real writer on a real sqlite file.

Run as a script (``python tests/ledger/_child.py MODE ...``), never imported by
pytest as a test module. Every line it prints is flushed at once, so what the
parent reads is exactly what the child had acknowledged when it died.

``crash DB TENANT PROJECT RUN SEED``
    Appends forever: batches of 1-8 events mixing Decisions (8 agents, 3
    missions), StateChanges of a handful of files with their blobs stored
    first (and, now and then, one under a file lock with its fencing token),
    and re-sent ids that must come back as duplicates. After ``append``
    returns it prints ``ack VERSIONSTAMP EVENT_ID DUPLICATE`` per event.

``pair DB TENANT PROJECT NAME OTHER COUNT``
    Notes the project's head, says ``{"ready": NAME}`` and waits for a line on
    stdin (the parent's "go", so both children start together), then appends COUNT events with ids ``NAME-000000``... while a
    follower thread tracks the log only through ``wait_for_append``; then plays
    a short ping-pong with OTHER, where each side can only write after it was
    woken for the other's event. Prints one JSON line per ack and, at the end,
    a JSON report of what the follower saw.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import ledger
from ledger import Ledger, Versionstamp
from proto.swarm.v1 import events_pb2 as pb

AGENTS = [f"{role}-{i}" for role in ("scout", "coder", "critic") for i in (1, 2, 3)][:8]
MISSIONS = ["m-rename", "m-tests", "m-docs"]
PATHS = ["src/app.py", "src/util.py", "src/models/order.py", "README.md", "tests/test_app.py"]
PING_ROUNDS = 3


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _decision(rng: random.Random) -> pb.SwarmEvent:
    agent = rng.choice(AGENTS)
    return pb.SwarmEvent(
        event_id=ledger.new_event_id(),
        agent_id=agent,
        agent_role=pb.AGENT_ROLE_SCOUT,
        mission_id=rng.choice(MISSIONS) if rng.random() < 0.8 else "",
        decision=pb.Decision(
            kind="scout.usages",
            input=f"where is calculate_total used? ({rng.randrange(10**6)})",
            rationale="found three call sites; renaming them together keeps imports valid",
            confidence=rng.random(),
        ),
    )


def _change(
    led: Ledger,
    tenant: str,
    path: str,
    previous: bytes,
    rng: random.Random,
    token: bytes = b"",
) -> tuple[pb.SwarmEvent, bytes]:
    """A StateChange of ``path`` from ``previous``; its blob is stored first. Returns (event, new hash)."""
    if previous and rng.random() < 0.1:
        sc = pb.StateChange(
            path=path, previous_sha256=previous, kind=pb.CHANGE_KIND_DELETE, fencing_token=token
        )
        new = b""
    else:
        content = f"# {path}\nvalue = {rng.randrange(10**9)}\n".encode() * rng.randint(1, 20)
        ref = led.put_blob(tenant, content)
        sc = pb.StateChange(
            path=path,
            previous_sha256=previous,
            new_sha256=ref.sha256,
            new_size=ref.size,
            content=pb.BlobRef(sha256=ref.sha256, size=ref.size),
            kind=pb.CHANGE_KIND_MODIFY if previous else pb.CHANGE_KIND_CREATE,
            fencing_token=token,
        )
        new = ref.sha256
    event = pb.SwarmEvent(
        event_id=ledger.new_event_id(),
        agent_id=rng.choice(AGENTS[3:6]),
        agent_role=pb.AGENT_ROLE_CODER,
        mission_id=rng.choice(MISSIONS),
        state_change=sc,
    )
    return event, new


def _head(led: Ledger, tenant: str, project: str, path: str) -> bytes:
    state = led.file_state(tenant, project, path)
    return state.sha256 if state is not None else b""


def crash(db: str, tenant: str, project: str, run: int, seed: int) -> None:
    rng = random.Random(seed)
    led = ledger.open_ledger(f"sqlite://{db}")  # sync=full, the default
    led.create_tenant(tenant)
    led.create_project(tenant, project, exist_ok=True)
    sent: list[pb.SwarmEvent] = []
    locked = f"locked/run-{run}.py"
    locked_head = b""
    _say(f"start {run}")
    while True:
        if rng.random() < 0.08:  # a locked edit: acquire, change with the token, release
            lock = led.acquire_lock(tenant, project, locked, f"coder-{run}", ttl_s=30)
            event, locked_new = _change(led, tenant, locked, locked_head, rng, lock.token)
            for got in led.append(tenant, project, [event]):
                _say(f"ack {got.versionstamp} {got.event_id} {int(got.duplicate)}")
            locked_head = locked_new
            led.release_lock(tenant, project, locked, f"coder-{run}", lock.token)
            continue
        batch: list[pb.SwarmEvent] = []
        heads: dict[str, bytes] = {}
        for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
            roll = rng.random()
            if roll < 0.25:
                path = rng.choice(PATHS)
                if path not in heads:
                    heads[path] = _head(led, tenant, project, path)
                event, heads[path] = _change(led, tenant, path, heads[path], rng)
            elif roll < 0.3 and sent:
                event = rng.choice(sent)  # re-sent: must land once, reported as a duplicate
            else:
                event = _decision(rng)
            batch.append(event)
        for got in led.append(tenant, project, batch):
            _say(f"ack {got.versionstamp} {got.event_id} {int(got.duplicate)}")
        sent.extend(batch[:2])
        del sent[:-50]


def pair(db: str, tenant: str, project: str, name: str, other: str, count: int) -> None:
    led = ledger.open_ledger(db if "://" in db else f"sqlite://{db}")  # a path, or a URL
    start = led.head(tenant, project)  # before "go": nothing of the other's can be missed
    _say(json.dumps({"ready": name}))
    sys.stdin.readline()  # the parent's "go"
    other_final = f"{other}-ping-{PING_ROUNDS - 1}"
    seen: dict[str, str] = {}  # the other's event ids -> versionstamp, as the follower read them
    wakeups = 0
    timeouts = 0
    cond = threading.Condition()

    def follow() -> None:
        nonlocal wakeups, timeouts
        cursor = start
        while other_final not in seen:
            if not led.wait_for_append(tenant, project, cursor, timeout=1.0):
                timeouts += 1
                continue
            wakeups += 1
            for rec in led.read(tenant, project, after=cursor, limit=1000):
                cursor = rec.versionstamp
                if rec.event.agent_id == other:
                    with cond:
                        seen[rec.event.event_id] = str(rec.versionstamp)
                        cond.notify_all()
            if time.monotonic() > deadline:
                return

    deadline = time.monotonic() + 120
    follower = threading.Thread(target=follow, daemon=True)
    follower.start()

    def append(event_id: str) -> None:
        event = pb.SwarmEvent(
            event_id=event_id,
            agent_id=name,
            agent_role=pb.AGENT_ROLE_CODER,
            mission_id="m-pair",
            decision=pb.Decision(kind="pair.step", rationale=f"{name} writes {event_id}"),
        )
        (got,) = led.append(tenant, project, [event])
        _say(json.dumps({"ack": got.event_id, "vs": str(got.versionstamp)}))

    for i in range(count):
        append(f"{name}-{i:06d}")
    # Ping-pong: "a" opens each round; "b" answers only once its follower saw a's ping,
    # and "a" opens the next round only once it saw b's answer. Every wait is for an
    # event the other process writes after this one's previous append.
    waited_for: list[str] = []
    for r in range(PING_ROUNDS):
        mine, theirs = f"{name}-ping-{r}", f"{other}-ping-{r}"
        if name < other:
            append(mine)
        with cond:
            if not cond.wait_for(lambda t=theirs: t in seen, timeout=60):  # type: ignore[misc]
                break
        waited_for.append(theirs)
        if name > other:
            append(mine)
    follower.join(timeout=60)
    _say(
        json.dumps(
            {
                "report": name,
                "seen": seen,
                "waited_for": waited_for,
                "wakeups": wakeups,
                "timeouts": timeouts,
                "start": str(start) if isinstance(start, Versionstamp) else None,
            }
        )
    )
    led.close()


def main(argv: list[str]) -> int:
    mode, *rest = argv
    if mode == "crash":
        db, tenant, project, run, seed = rest
        crash(db, tenant, project, int(run), int(seed))
    elif mode == "pair":
        db, tenant, project, name, other, count = rest
        pair(db, tenant, project, name, other, int(count))
    else:
        raise SystemExit(f"unknown mode {mode!r}: use crash or pair")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
