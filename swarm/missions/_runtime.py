"""What every agent of one mission run shares: the ledger, the repo, the brain, the options."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import Ledger
from swarm.brain import Brain, EditRequest, Exchange, FileEdit, Proposal, replay_proposal
from swarm.missions._events import decision_event, step_id
from swarm.missions._identity import SCOUT
from swarm.missions._options import MissionOptions
from swarm.missions._plan import Policy, parse_policy
from swarm.missions._records import decode_exchange, encode_exchange
from swarm.missions._view import MissionView
from swarm.missions._workspace import write_file
from swarm.scout import RepoIndex

#: progress(phase, done, total): called from the orchestrator's thread.
Progress = Callable[[str, int, int], None]


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
            body = encode_exchange(ex.request_json, ex.response_json)
            blob = self.led.put_blob(self.tenant, body)
            events.append(
                decision_event(
                    self.mission_id,
                    step_id(self.mission_id, tid, attempt, f"brain{i}"),
                    SCOUT,
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
                        **_usage_attributes(ex),
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


def _usage_attributes(ex: Exchange) -> dict[str, str]:
    """An exchange's tokens as Decision attributes (none for a call that never answered)."""
    if ex.usage is None:
        return {}
    return {
        "prompt_tokens": str(ex.usage.prompt_tokens),
        "completion_tokens": str(ex.usage.completion_tokens),
        "estimated": str(ex.usage.estimated).lower(),
    }


def _exchange_of(rt: Runtime, sha: bytes) -> Exchange:
    request_json, response_json = decode_exchange(rt.led.get_blob(rt.tenant, sha))
    return Exchange("recorded", "", request_json, response_json, 0.0)


def describe_request(request: EditRequest) -> str:
    """A request in one line for people (the coder's Decision names it; ``audit who`` too)."""
    # Imported here, not with the package: ops (audit, export) is not needed to run a
    # mission, and most CLI commands should not pay for loading it.
    import ops

    return ops.format_request(request.kind, request.params)
