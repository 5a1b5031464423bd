"""A realistic synthetic history written through the ledger API: missions of
Decisions followed by the StateChanges they led to, with blobs, locks on some
files, deletions and re-creations. It remembers the exact files after every
event, so tests compare replay against copies taken during the run."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from ledger import Ledger, Versionstamp
from proto.swarm.v1 import events_pb2 as pb


@dataclass
class Story:
    tenant: str
    project: str
    # (versionstamp, time_us, files after the event) for every event after creation
    states: list[tuple[Versionstamp, int, dict[str, bytes]]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    missions: dict[str, list[Versionstamp]] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # change event id -> decision id

    @property
    def created(self) -> Versionstamp:
        return self.states[0][0]


class Writer:
    """Appends events one at a time, advancing the manual clock between them."""

    def __init__(
        self, led: Ledger, tenant: str, project: str, clock: object, step_s: float = 1.0
    ) -> None:
        self.led, self.story = led, Story(tenant, project)
        self.clock = clock
        self.step_s = step_s
        self.n = 0
        led.create_tenant(tenant)
        led.create_project(tenant, project)
        head = led.head(tenant, project)
        assert head is not None
        self.story.states.append((head, led.get_event(tenant, project, head).time_us, {}))

    def _append(self, ev: pb.SwarmEvent) -> Versionstamp:
        self.clock.advance(self.step_s)  # type: ignore[attr-defined]
        (done,) = self.led.append(self.story.tenant, self.story.project, [ev])
        rec = self.led.get_event(self.story.tenant, self.story.project, done.versionstamp)
        self.story.states.append((done.versionstamp, rec.time_us, dict(self.story.files)))
        if ev.mission_id:
            self.story.missions.setdefault(ev.mission_id, []).append(done.versionstamp)
        return done.versionstamp

    def _id(self, what: str) -> str:
        self.n += 1
        return f"{self.story.project}-{what}-{self.n}"

    def decision(self, mission: str, rationale: str, agent: str = "scout-1") -> str:
        eid = self._id("dec")
        self._append(
            pb.SwarmEvent(
                event_id=eid,
                mission_id=mission,
                agent_role=pb.AGENT_ROLE_SCOUT,
                agent_id=agent,
                decision=pb.Decision(kind="scout.usages", rationale=rationale, outcome="found"),
            )
        )
        return eid

    def change(
        self,
        path: str,
        content: bytes | None,
        *,
        mission: str = "",
        parent: str = "",
        agent: str = "coder-1",
        lock: bool = False,
    ) -> Versionstamp:
        t, p = self.story.tenant, self.story.project
        prev = self.story.files.get(path)
        token = b""
        held = None
        if lock:
            held = self.led.acquire_lock(t, p, path, agent, ttl_s=3600)
            token = held.token
        new_sha = b""
        size = 0
        if content is not None:
            ref = self.led.put_blob(t, content)
            new_sha, size = ref.sha256, ref.size
        eid = self._id("chg")
        ev = pb.SwarmEvent(
            event_id=eid,
            mission_id=mission,
            agent_role=pb.AGENT_ROLE_CODER,
            agent_id=agent,
            parent_event_id=parent,
            state_change=pb.StateChange(
                path=path,
                previous_sha256=hashlib.sha256(prev).digest() if prev is not None else b"",
                new_sha256=new_sha,
                new_size=size,
                fencing_token=token,
                kind=pb.CHANGE_KIND_DELETE
                if content is None
                else (pb.CHANGE_KIND_MODIFY if prev is not None else pb.CHANGE_KIND_CREATE),
            ),
        )
        if content is not None:
            ev.state_change.content.sha256 = new_sha
            ev.state_change.content.size = size
            self.story.files[path] = content
        else:
            self.story.files.pop(path, None)
        if parent:
            self.story.decisions[eid] = parent
        vs = self._append(ev)
        if held is not None:
            self.led.release_lock(t, p, path, agent, held.token)
        return vs

    def signal(self, kind: int, mission: str) -> Versionstamp:
        return self._append(
            pb.SwarmEvent(
                event_id=self._id("sig"),
                mission_id=mission,
                agent_role=pb.AGENT_ROLE_ORCHESTRATOR,
                agent_id="orchestrator",
                signal=pb.Signal(kind=kind, subject=mission),  # type: ignore[arg-type]
            )
        )


def write_story(
    led: Ledger,
    tenant: str,
    clock: object,
    *,
    project: str = "shop",
    missions: int = 3,
    seed: int = 7,
) -> Story:
    """A few missions over a small source tree, deterministic for ``seed``."""
    rnd = random.Random(seed)
    w = Writer(led, tenant, project, clock)
    paths = [f"src/mod_{i}.py" for i in range(6)] + ["README.md", "tests/test_mod.py"]
    for path in paths:
        w.change(path, f"# {path}\nVALUE = 0\n".encode())
    for m in range(missions):
        mission = f"m-{m}"
        w.signal(pb.SIGNAL_KIND_MISSION_STARTED, mission)
        for step in range(4):
            path = rnd.choice(paths)
            dec = w.decision(mission, f"mission {m} step {step}: bump VALUE in {path}")
            old = w.story.files.get(path, b"")
            w.change(
                path,
                old + f"VALUE = {m * 10 + step}\n".encode(),
                mission=mission,
                parent=dec,
                lock=step % 2 == 0,
            )
        if m == 1:
            w.change("src/mod_5.py", None, mission=mission)
            w.change("src/mod_5.py", b"# back\n", mission=mission)
        w.signal(pb.SIGNAL_KIND_MISSION_FINISHED, mission)
    return w.story
