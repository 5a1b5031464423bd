"""``swarm demo ledger``: a tour of the ledger on the embedded engine, printed step by step.

It creates a tenant and project, records a scout's decision and a coder's
change (under a lock, with its fencing token), reads them back through the
indexes, wakes on a watch when another thread appends, and releases the lock.
Run it twice: ids are fresh each time and the file's hash chain continues.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from typing import Any

import ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.cli._common import emit_json, fail

DEMO_PATH = "src/greeting.py"


def run(args: argparse.Namespace) -> int:
    """The ledger tour; ``args`` carries ledger, tenant, project and json."""
    from swarm.missions import CRITIC, SCOUT, coder_id  # the mission agents' ids

    url = args.context.ledger_url
    steps: list[dict[str, Any]] = []

    def say(step: str, **facts: Any) -> None:
        steps.append({"step": step, **facts})
        if not args.json:
            detail = ", ".join(f"{k}={v}" for k, v in facts.items())
            print(f"  {step:<28} {detail}")

    try:
        with args.context.open() as led:
            t, p = args.tenant, args.project
            if not args.json:
                print(f"swarm demo ledger on {url}")
            led.create_tenant(t)
            info = led.create_project(t, p, exist_ok=True)
            say("tenant and project", tenant=t, project=p, events_so_far=info.events)

            run_id = uuid.uuid4().hex[:8]
            mission = f"demo-{run_id}"
            scout = pb.SwarmEvent(
                event_id=f"{mission}-scout",
                mission_id=mission,
                agent_role=pb.AGENT_ROLE_SCOUT,
                agent_id=str(SCOUT),
                decision=pb.Decision(
                    kind="scout.usages",
                    input="where is greet() defined?",
                    rationale=f"found the definition in {DEMO_PATH}",
                    confidence=0.9,
                    outcome="found",
                ),
            )
            (appended,) = led.append(t, p, [scout])
            say("appended a Decision", versionstamp=appended.versionstamp, agent=str(SCOUT))

            lock = led.acquire_lock(t, p, DEMO_PATH, str(coder_id(1)), ttl_s=30)
            say("took a lock", path=DEMO_PATH, holder=str(coder_id(1)), token=lock.token.hex())

            head = led.file_state(t, p, DEMO_PATH)
            content = f'def greet():\n    return "hello from run {run_id}"\n'.encode()
            blob = led.put_blob(t, content)
            change = pb.SwarmEvent(
                event_id=f"{mission}-edit",
                mission_id=mission,
                agent_role=pb.AGENT_ROLE_CODER,
                agent_id=str(coder_id(1)),
                parent_event_id=scout.event_id,
                state_change=pb.StateChange(
                    path=DEMO_PATH,
                    previous_sha256=head.sha256 if head else b"",
                    new_sha256=blob.sha256,
                    new_size=blob.size,
                    content=pb.BlobRef(sha256=blob.sha256, size=blob.size),
                    fencing_token=lock.token,
                    kind=pb.CHANGE_KIND_MODIFY if head else pb.CHANGE_KIND_CREATE,
                    reversible=True,
                ),
            )
            (edited,) = led.append(t, p, [change])
            say("appended a StateChange", versionstamp=edited.versionstamp, sha256=blob.hex[:16])

            stale = pb.SwarmEvent()
            stale.CopyFrom(change)
            stale.event_id = f"{mission}-stale"
            stale.state_change.fencing_token = b"\x00" * 10
            stale.state_change.previous_sha256 = blob.sha256
            try:
                led.append(t, p, [stale])
                return fail("the ledger accepted a stale fencing token", 1)
            except ledger.StaleFencingToken as exc:
                say("refused a stale token", reason=type(exc).__name__)

            story = led.history(t, p, mission=mission)
            say("read the mission back", events=len(story), kinds="+".join(r.kind for r in story))
            file_story = led.history(t, p, path=DEMO_PATH)
            say("read the file's history", events=len(file_story))
            assert led.get_blob(t, blob.sha256) == content

            cursor = led.head(t, p)
            later = pb.SwarmEvent(
                event_id=f"{mission}-critic",
                mission_id=mission,
                agent_role=pb.AGENT_ROLE_CRITIC,
                agent_id=str(CRITIC),
                decision=pb.Decision(kind="critic.verdict", rationale="parses", outcome="accept"),
            )
            threading.Timer(0.2, lambda: led.append(t, p, [later])).start()
            started = time.monotonic()
            woke = led.wait_for_append(t, p, cursor, timeout=10)
            waited_ms = round((time.monotonic() - started) * 1000)
            if not woke:
                return fail("the watch did not fire within 10 s", 1)
            say("woke on a watch", waited_ms=waited_ms, by=str(CRITIC))

            led.release_lock(t, p, DEMO_PATH, str(coder_id(1)), lock.token)
            say("released the lock", path=DEMO_PATH, locks_now=len(led.locks(t, p)))
            info = led.project_info(t, p)
            say("project now", events=info.events, head=info.head)
    except ledger.LedgerError as exc:
        return fail(str(exc))
    if args.json:
        emit_json({"ledger": url, "tenant": args.tenant, "project": args.project, "steps": steps})
    else:
        print("done: every step above is an event in the ledger; run it again to extend the story")
    return 0
