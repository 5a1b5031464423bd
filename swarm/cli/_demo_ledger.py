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


class _Failed(Exception):
    """A step of the tour did not do what the ledger promises (exit code 1)."""


class _Tour:
    """One run of the tour on ``led``: each step does one thing and says what it saw."""

    def __init__(self, led: ledger.Ledger, args: argparse.Namespace) -> None:
        self.led, self.t, self.p = led, args.tenant, args.project
        self.quiet = bool(args.json)
        self.steps: list[dict[str, Any]] = []
        self.run_id = uuid.uuid4().hex[:8]
        self.mission = f"demo-{self.run_id}"
        from swarm.missions import CRITIC, SCOUT, coder_id  # the mission agents' ids

        self.scout, self.coder, self.critic = str(SCOUT), str(coder_id(1)), str(CRITIC)

    def say(self, step: str, **facts: Any) -> None:
        self.steps.append({"step": step, **facts})
        if not self.quiet:
            detail = ", ".join(f"{k}={v}" for k, v in facts.items())
            print(f"  {step:<28} {detail}")

    def start(self) -> pb.SwarmEvent:
        """The tenant and project, then a scout's Decision."""
        self.led.create_tenant(self.t)
        info = self.led.create_project(self.t, self.p, exist_ok=True)
        self.say("tenant and project", tenant=self.t, project=self.p, events_so_far=info.events)
        scout = pb.SwarmEvent(
            event_id=f"{self.mission}-scout",
            mission_id=self.mission,
            agent_role=pb.AGENT_ROLE_SCOUT,
            agent_id=self.scout,
            decision=pb.Decision(
                kind="scout.usages",
                input="where is greet() defined?",
                rationale=f"found the definition in {DEMO_PATH}",
                confidence=0.9,
                outcome="found",
            ),
        )
        (appended,) = self.led.append(self.t, self.p, [scout])
        self.say("appended a Decision", versionstamp=appended.versionstamp, agent=self.scout)
        return scout

    def change(self, scout: pb.SwarmEvent) -> tuple[ledger.Lock, pb.SwarmEvent, bytes]:
        """A coder's StateChange of the demo file, under its lock."""
        t, p = self.t, self.p
        lock = self.led.acquire_lock(t, p, DEMO_PATH, self.coder, ttl_s=30)
        self.say("took a lock", path=DEMO_PATH, holder=self.coder, token=lock.token.hex())
        head = self.led.file_state(t, p, DEMO_PATH)
        content = f'def greet():\n    return "hello from run {self.run_id}"\n'.encode()
        blob = self.led.put_blob(t, content)
        change = pb.SwarmEvent(
            event_id=f"{self.mission}-edit",
            mission_id=self.mission,
            agent_role=pb.AGENT_ROLE_CODER,
            agent_id=self.coder,
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
        (edited,) = self.led.append(t, p, [change])
        self.say("appended a StateChange", versionstamp=edited.versionstamp, sha256=blob.hex[:16])
        return lock, change, content

    def refuse_stale(self, change: pb.SwarmEvent) -> None:
        """The same change with a stale fencing token: the ledger must refuse it."""
        stale = pb.SwarmEvent()
        stale.CopyFrom(change)
        stale.event_id = f"{self.mission}-stale"
        stale.state_change.fencing_token = b"\x00" * 10
        stale.state_change.previous_sha256 = change.state_change.new_sha256
        try:
            self.led.append(self.t, self.p, [stale])
        except ledger.StaleFencingToken as exc:
            self.say("refused a stale token", reason=type(exc).__name__)
            return
        raise _Failed("the ledger accepted a stale fencing token")

    def read_back(self, change: pb.SwarmEvent, content: bytes) -> None:
        t, p = self.t, self.p
        story = self.led.history(t, p, mission=self.mission)
        self.say("read the mission back", events=len(story), kinds="+".join(r.kind for r in story))
        self.say("read the file's history", events=len(self.led.history(t, p, path=DEMO_PATH)))
        assert self.led.get_blob(t, change.state_change.new_sha256) == content

    def watch(self) -> None:
        """Wake on a watch when another thread appends a critic's Decision."""
        t, p = self.t, self.p
        cursor = self.led.head(t, p)
        later = pb.SwarmEvent(
            event_id=f"{self.mission}-critic",
            mission_id=self.mission,
            agent_role=pb.AGENT_ROLE_CRITIC,
            agent_id=self.critic,
            decision=pb.Decision(kind="critic.verdict", rationale="parses", outcome="accept"),
        )
        threading.Timer(0.2, lambda: self.led.append(t, p, [later])).start()
        started = time.monotonic()
        if not self.led.wait_for_append(t, p, cursor, timeout=10):
            raise _Failed("the watch did not fire within 10 s")
        self.say(
            "woke on a watch", waited_ms=round((time.monotonic() - started) * 1000), by=self.critic
        )

    def release(self, lock: ledger.Lock) -> None:
        t, p = self.t, self.p
        self.led.release_lock(t, p, DEMO_PATH, self.coder, lock.token)
        self.say("released the lock", path=DEMO_PATH, locks_now=len(self.led.locks(t, p)))
        info = self.led.project_info(t, p)
        self.say("project now", events=info.events, head=info.head)


def run(args: argparse.Namespace) -> int:
    """The ledger tour; ``args`` carries ledger, tenant, project and json."""
    url = args.context.ledger_url
    try:
        with args.context.open() as led:
            if not args.json:
                print(f"swarm demo ledger on {url}")
            tour = _Tour(led, args)
            scout = tour.start()
            lock, change, content = tour.change(scout)
            tour.refuse_stale(change)
            tour.read_back(change, content)
            tour.watch()
            tour.release(lock)
    except _Failed as exc:
        return fail(str(exc), 1)
    except ledger.LedgerError as exc:
        return fail(str(exc))
    if args.json:
        emit_json(
            {"ledger": url, "tenant": args.tenant, "project": args.project, "steps": tour.steps}
        )
    else:
        print("done: every step above is an event in the ledger; run it again to extend the story")
    return 0
