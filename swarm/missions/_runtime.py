"""What every agent of one mission run shares: the ledger, the repo, the brain, the options."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ledger import Ledger
from proto.swarm.v1 import events_pb2 as pb
from swarm.brain import Brain, EditRequest, Exchange, FileEdit, Proposal, replay_proposal
from swarm.missions._errors import InvalidMission
from swarm.missions._plan import Policy, parse_policy
from swarm.missions._view import MissionView, decision_event, step_id
from swarm.missions._workspace import write_file
from swarm.scout import RepoIndex

#: progress(phase, done, total): called from the orchestrator's thread.
Progress = Callable[[str, int, int], None]


#: The largest value a count option may take, and a duration (one day): beyond them a
#: mission would wait or retry for longer than anyone means, and a wedged one is worse
#: than a refusal that names the option.
MAX_COUNT = 1000
MAX_SECONDS = 86_400.0


def _count(low: int, high: int) -> Callable[[str, MissionOptions], str]:
    def check(name: str, opts: MissionOptions) -> str:
        v = getattr(opts, name)
        if isinstance(v, bool) or not isinstance(v, int):
            return f"{name} must be a whole number, got {v!r}"
        return "" if low <= v <= high else f"{name} must be {low}..{high}, got {v}"

    return check


def _seconds(*, zero_ok: bool) -> Callable[[str, MissionOptions], str]:
    def check(name: str, opts: MissionOptions) -> str:
        v = getattr(opts, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"{name} must be a number of seconds, got {v!r}"
        # NaN fails every comparison, so it fails these too; so does infinity.
        low_ok = v >= 0 if zero_ok else v > 0
        if low_ok and v <= MAX_SECONDS:
            return ""
        low = ">= 0" if zero_ok else "> 0"
        return f"{name} must be finite, {low} and at most {MAX_SECONDS:g} s, got {v}"

    return check


def _flag(name: str, opts: MissionOptions) -> str:
    v = getattr(opts, name)
    return "" if isinstance(v, bool) else f"{name} must be true or false, got {v!r}"


def _specs(name: str, opts: MissionOptions) -> str:
    v = getattr(opts, name)
    if not isinstance(v, tuple) or not all(isinstance(s, str) for s in v):
        return f"{name} must be a tuple of policy specs, got {v!r}"
    return ""


#: Every option and its check (a test asserts none is missing).
_OPTION_RULES: dict[str, Callable[[str, MissionOptions], str]] = {
    "coders": _count(1, 64),
    "run_tests": _flag,
    "ticket_timeout_s": _seconds(zero_ok=False),
    "edit_retries": _count(0, MAX_COUNT),
    "critic_rounds": _count(0, MAX_COUNT),
    "backoff_s": _seconds(zero_ok=True),
    "lock_ttl_s": _seconds(zero_ok=False),
    "step_delay_s": _seconds(zero_ok=True),
    "test_timeout_s": _seconds(zero_ok=False),
    "policies": _specs,
    "allow_unverified": _flag,
}


@dataclass(frozen=True, slots=True)
class MissionOptions:
    """How a mission runs. Recorded in the ledger at start, so a resume runs the same way.

    ``run_tests=False`` skips the critic's sandbox runs (syntax is still
    checked; the verdict is NOT_TESTED): for lock and scale tests, and for
    repositories with no suite. ``test_timeout_s`` is the baseline suite's
    wall-clock deadline; later runs get a budget derived from what the baseline
    took, capped by it. ``allow_unverified`` lets a mission whose tests could
    not judge it (a run out of budget, crashed, no report) finish marked
    UNVERIFIED instead of failing.
    ``step_delay_s`` makes each coder pause after a ticket (demos, crash tests).

    Every option is checked at construction (also when read back from the ledger):
    counts are whole numbers in range, durations finite and at most a day (NaN and
    infinity would wedge a wait), flags are bools; :class:`InvalidMission` names each
    option that fails, which the daemon returns as INVALID_ARGUMENT.
    """

    coders: int = 4
    run_tests: bool = True
    ticket_timeout_s: float = 60.0
    edit_retries: int = 1
    critic_rounds: int = 1  # how many times a critic rejection sends the edits back
    backoff_s: float = 0.2
    lock_ttl_s: float = 60.0
    step_delay_s: float = 0.0
    test_timeout_s: float = 600.0
    policies: tuple[str, ...] = ()
    allow_unverified: bool = False

    def __post_init__(self) -> None:
        problems = [p for name, rule in _OPTION_RULES.items() if (p := rule(name, self))]
        if problems:
            raise InvalidMission("invalid mission options: " + "; ".join(problems))
        for spec in self.policies:
            parse_policy(spec)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MissionOptions:
        raw = json.loads(text)
        raw["policies"] = tuple(raw.get("policies", ()))
        return cls(**raw)


@dataclass
class Runtime:
    """One process's run of one mission (a resume is a new run of the same mission)."""

    led: Ledger
    tenant: str
    project: str
    root: Path
    mission_id: str
    request: EditRequest
    brain: Brain
    options: MissionOptions
    index: RepoIndex  # of the files as the mission started; never updated during the mission
    run: int
    stop: threading.Event = field(default_factory=threading.Event)
    index_lock: threading.Lock = field(default_factory=threading.Lock)
    manifest: dict[str, str] = field(default_factory=dict)
    # Called with a path right after the mission writes it in the workspace (each write
    # follows the append of its StateChange): for tools and tests that must see the
    # folder exactly as each change left it.
    on_write: Callable[[str], None] | None = None
    _proposal: Proposal | None = None

    @property
    def policies(self) -> list[Policy]:
        return [parse_policy(s) for s in self.options.policies]

    def view(self) -> MissionView:
        v = MissionView(self.led, self.tenant, self.project, self.mission_id)
        v.catch_up()
        return v

    def wait(self, after: Any, timeout: float = 5.0) -> None:
        """Block until the project's next append (or ``timeout``, a liveness guard)."""
        if not self.stop.is_set():
            self.led.wait_for_append(self.tenant, self.project, after, timeout)

    def write(self, path: str, data: bytes | None) -> None:
        """Bring one workspace file to ``data`` (None deletes it), then tell ``on_write``."""
        write_file(self.root, path, data)
        if self.on_write is not None:
            self.on_write(path)

    def original(self, path: str) -> str:
        """A file's text as the mission started (what the brain's plan was made from)."""
        return (self.index.root / path).read_text("utf-8")

    # -- the brain ------------------------------------------------------------

    def uses_model(self) -> bool:
        return self.brain.name != "rules" and self.request.kind != "patch"

    def proposal(self, view: MissionView, record_as: tuple[str, int] | None = None) -> Proposal:
        """The model's proposal: replayed from recorded exchanges, or asked once and recorded."""
        if self._proposal is not None:
            return self._proposal
        recorded = [
            _exchange_of(self, d.event.decision.detail.sha256)
            for d in view.decision("brain.exchange")
        ]
        if recorded:
            self._proposal = replay_proposal(self.request, recorded, self.original, self.index)
            return self._proposal
        from swarm.brain import ModelError, ModelUnreachable

        try:
            with self.index_lock:
                proposal = self.brain.propose(self.request, self.index, self.original)
        except (ModelError, ModelUnreachable) as exc:
            if exc.exchange is not None and record_as is not None:
                self.record_exchanges([exc.exchange], record_as, failed=True)
            raise
        if record_as is not None:
            self.record_exchanges(proposal.transcript, record_as)
        self._proposal = proposal
        return proposal

    def record_exchanges(
        self, exchanges: Any, record_as: tuple[str, int], *, failed: bool = False
    ) -> None:
        tid, attempt = record_as
        events = []
        for i, ex in enumerate(exchanges):
            body = json.dumps({"request_json": ex.request_json, "response_json": ex.response_json})
            blob = self.led.put_blob(self.tenant, body.encode())
            events.append(
                decision_event(
                    self.mission_id,
                    step_id(self.mission_id, tid, attempt, f"brain{i}"),
                    "scout-1",
                    "brain.exchange" if not failed else "brain.failed-exchange",
                    outcome="failed" if failed else "answered",
                    input=self.request.kind,
                    rationale=f"{ex.provider} model {ex.model} answered in {ex.seconds:.2f}s",
                    attributes={
                        "provider": ex.provider,
                        "model": ex.model,
                        "seconds": f"{ex.seconds:.3f}",
                        "request_bytes": str(len(ex.request_json)),
                        "response_bytes": str(len(ex.response_json)),
                    },
                    detail=blob,
                )
            )
        if events:
            self.led.append(self.tenant, self.project, events)

    def edit(self, view: MissionView, path: str, source: str | None) -> FileEdit:
        """The brain's new content for ``path`` whose current text is ``source``."""
        if self.uses_model():
            for e in self.proposal(view).edits:
                if e.path == path:
                    return e
            return FileEdit(path, source, "the model's answer does not change this file")
        with self.index_lock:
            return self.brain.edit(self.request, path, source or "", self.index)


def _exchange_of(rt: Runtime, sha: bytes) -> Exchange:
    body = json.loads(rt.led.get_blob(rt.tenant, sha))
    return Exchange("recorded", "", body["request_json"], body["response_json"], 0.0)


def signal_event(
    mission_id: str, event_id: str, kind: int, detail: str, attributes: Mapping[str, str]
) -> pb.SwarmEvent:
    from swarm.missions._view import envelope

    return envelope(
        mission_id,
        event_id,
        "orchestrator-1",
        signal=pb.Signal(kind=kind, subject=mission_id, detail=detail, attributes=dict(attributes)),  # type: ignore[arg-type]
    )
