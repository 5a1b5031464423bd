"""The one codec between a mission's records and their protobuf messages (missions.proto).

Every record a mission reads back goes through here: MISSION_STARTED's request,
options and brain settings (:class:`MissionStart`), MISSION_FINISHED
(:class:`MissionEnd`), a run's number, a ticket's spec, claim and result, and the
blobs (a sandbox test run, the scout's targets, a model exchange).

Ledgers written before these messages hold the same records as JSON (in signal
attributes, ``TicketUpdate.payload_json`` and JSON blobs); each ``*_of`` reader here
also decodes that form, so a mission started by an older build still reads, resumes
and reports. Nothing writes the JSON form any more.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ledger
import replay
from proto.swarm.v1 import events_pb2 as pb
from proto.swarm.v1 import missions_pb2 as mpb
from proto.swarm.v1 import model_pb2 as model_pb
from swarm.brain import EditRequest
from swarm.missions._identity import MissionOutcome
from swarm.missions._options import MissionOptions

# -- the mission's start and end ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MissionStart:
    """What MISSION_STARTED recorded: the request and how to run it, and where."""

    request: EditRequest
    brain: str
    brain_settings: Mapping[str, Any]  # never the api key
    options: MissionOptions
    manifest: bytes  # sha256 of the manifest blob (path -> content sha256 as the mission starts)
    repo: str  # the folder the mission ran on ("" once sync has stripped host facts)
    skipped_locked: tuple[str, ...] = ()
    workspace: str = ""  # the daemon's workspace name, when it started the mission

    def manifest_of(self, led: ledger.Ledger, tenant: str) -> dict[str, str]:
        """The manifest: every tracked path's content sha256 (hex) as the mission started."""
        return manifest_digests(led.get_blob(tenant, self.manifest))

    def signal(self) -> tuple[dict[str, str], mpb.MissionRecord]:
        """The signal's attributes and record. ``manifest`` and ``repo`` stay attributes:
        sync ships the blob the first names and strips the host folder the second names."""
        attributes = {"manifest": self.manifest.hex()}
        if self.repo:
            attributes["repo"] = self.repo
        started = mpb.MissionStarted(
            request=mpb.MissionRequest(kind=self.request.kind, params=dict(self.request.params)),
            brain=self.brain,
            brain_settings=_settings_message(self.brain_settings),
            options=options_record(self.options),
            skipped_locked=list(self.skipped_locked),
            workspace=self.workspace,
        )
        return attributes, mpb.MissionRecord(started=started)


def start_of(signal: pb.Signal) -> MissionStart:
    """The MISSION_STARTED record of ``signal``, typed or (an older ledger) JSON attributes."""
    attrs = signal.attributes
    manifest = bytes.fromhex(attrs.get("manifest", ""))
    repo = attrs.get("repo", "")
    if signal.mission.HasField("started"):
        s = signal.mission.started
        return MissionStart(
            EditRequest(s.request.kind, dict(s.request.params)),
            s.brain,
            _settings_of(s.brain_settings),
            options_of(s.options),
            manifest,
            repo,
            tuple(s.skipped_locked),
            s.workspace,
        )
    request = json.loads(attrs.get("request", "{}"))
    return MissionStart(
        EditRequest(request.get("kind", ""), dict(request.get("params", {}))),
        attrs.get("brain", "rules"),
        dict(json.loads(attrs.get("brain_settings", "{}"))),
        MissionOptions.from_json(attrs["options"]) if "options" in attrs else MissionOptions(),
        manifest,
        repo,
        tuple(json.loads(attrs.get("skipped_locked", "[]"))),
        attrs.get("workspace", ""),
    )


def _settings_message(settings: Mapping[str, Any]) -> mpb.BrainSettings:
    msg = mpb.BrainSettings(
        base_url=str(settings.get("base_url", "")), model=str(settings.get("model", ""))
    )
    if "timeout_s" in settings:
        msg.timeout_s = float(settings["timeout_s"])
    msg.max_tokens = int(settings.get("max_tokens", 0))
    msg.context_tokens = int(settings.get("context_tokens", 0))
    msg.planner_model = str(settings.get("planner_model", ""))
    msg.planner_base_url = str(settings.get("planner_base_url", ""))
    return msg


def _settings_of(msg: mpb.BrainSettings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if msg.base_url:
        out["base_url"] = msg.base_url
    if msg.model:
        out["model"] = msg.model
    if msg.HasField("timeout_s"):
        out["timeout_s"] = msg.timeout_s
    for key in ("max_tokens", "context_tokens", "planner_model", "planner_base_url"):
        if getattr(msg, key):
            out[key] = getattr(msg, key)
    return out


def options_record(o: MissionOptions) -> mpb.MissionSettings:
    return mpb.MissionSettings(
        coders=o.coders,
        run_tests=o.run_tests,
        ticket_timeout_s=o.ticket_timeout_s,
        edit_retries=o.edit_retries,
        critic_rounds=o.critic_rounds,
        backoff_s=o.backoff_s,
        lock_ttl_s=o.lock_ttl_s,
        step_delay_s=o.step_delay_s,
        test_timeout_s=o.test_timeout_s,
        policies=list(o.policies),
        allow_unverified=o.allow_unverified,
    )


def options_of(m: mpb.MissionSettings) -> MissionOptions:
    """The options as written: every field is always written, so nothing is defaulted."""
    return MissionOptions(
        coders=m.coders,
        run_tests=m.run_tests,
        ticket_timeout_s=m.ticket_timeout_s,
        edit_retries=m.edit_retries,
        critic_rounds=m.critic_rounds,
        backoff_s=m.backoff_s,
        lock_ttl_s=m.lock_ttl_s,
        step_delay_s=m.step_delay_s,
        test_timeout_s=m.test_timeout_s,
        policies=tuple(m.policies),
        allow_unverified=m.allow_unverified,
    )


_OUTCOMES = {
    MissionOutcome.SUCCEEDED: mpb.MISSION_OUTCOME_SUCCEEDED,
    MissionOutcome.FAILED: mpb.MISSION_OUTCOME_FAILED,
}


@dataclass(frozen=True, slots=True)
class MissionEnd:
    """What MISSION_FINISHED recorded: the outcome, why, and how many files changed."""

    outcome: MissionOutcome
    reason: str
    files_changed: int

    def record(self) -> mpb.MissionRecord:
        finished = mpb.MissionFinished(
            outcome=_OUTCOMES[self.outcome], files_changed=self.files_changed
        )
        return mpb.MissionRecord(finished=finished)


def end_of(signal: pb.Signal) -> MissionEnd:
    """The MISSION_FINISHED record of ``signal`` (typed, or an older ledger's attributes)."""
    if signal.mission.HasField("finished"):
        f = signal.mission.finished
        outcome = (
            MissionOutcome.SUCCEEDED
            if f.outcome == mpb.MISSION_OUTCOME_SUCCEEDED
            else MissionOutcome.FAILED
        )
        return MissionEnd(outcome, signal.detail, f.files_changed)
    attrs = signal.attributes
    outcome = MissionOutcome(attrs.get("outcome", "failed"))
    return MissionEnd(outcome, signal.detail, int(attrs.get("files_changed", "0")))


def run_record(run: int) -> mpb.MissionRecord:
    return mpb.MissionRecord(run=mpb.MissionRun(run=run))


def run_of(signal: pb.Signal) -> int:
    """The run number an AGENT_STARTED signal records (typed, or an older attribute)."""
    if signal.mission.HasField("run"):
        return signal.mission.run.run
    return int(signal.attributes.get("run", "0"))


# -- tickets -----------------------------------------------------------------------------

_COUNT_KEYS = ("passed", "failed", "errors", "skipped", "could_not_run")


def ticket_record(
    kind: str, ticket_id: str, state: int, payload: Mapping[str, Any]
) -> mpb.TicketRecord:
    """The typed record of a ticket update's payload (its spec, claim or result)."""
    if not payload:
        return mpb.TicketRecord()
    if state == pb.TICKET_STATE_PLANNED:
        spec = mpb.TicketSpec(
            inputs={str(k): str(v) for k, v in payload["inputs"].items()},
            retries=payload["retries"],
            backoff_s=payload["backoff_s"],
            timeout_s=payload["timeout_s"],
        )
        return mpb.TicketRecord(planned=spec)
    if state == pb.TICKET_STATE_CLAIMED:
        return mpb.TicketRecord(claim=mpb.TicketClaim(run=payload["run"]))
    if kind == "scout":
        return mpb.TicketRecord(scout=mpb.ScoutResult(files=payload["files"]))
    if kind == "coder":
        return mpb.TicketRecord(coder=_coder_message(payload))
    if ticket_id == "baseline":
        return mpb.TicketRecord(baseline=_baseline_message(payload))
    return mpb.TicketRecord(verify=_verify_message(payload))


def payload_of(update: pb.TicketUpdate) -> dict[str, Any]:
    """A ticket update's payload as the agents read it (typed, or an older ledger's JSON)."""
    if not update.HasField("record"):
        return dict(json.loads(update.payload_json or "{}"))
    r = update.record
    which = r.WhichOneof("record")
    if which == "planned":
        spec = r.planned
        return {
            "inputs": dict(spec.inputs),
            "retries": spec.retries,
            "backoff_s": spec.backoff_s,
            "timeout_s": spec.timeout_s,
        }
    if which == "claim":
        return {"run": r.claim.run}
    if which == "scout":
        return {"files": r.scout.files}
    if which == "coder":
        return _coder_of(r.coder)
    if which == "baseline":
        return _baseline_of(r.baseline)
    if which == "verify":
        return _verify_of(r.verify)
    return {}


def _coder_message(p: Mapping[str, Any]) -> mpb.CoderResult:
    msg = mpb.CoderResult(
        path=p["path"],
        changed=p["changed"],
        change_event_id=p["change_event_id"],
        new_sha256=bytes.fromhex(p["new_sha256"]),
        attempt=p["attempt"],
        rationale=p["rationale"],
        rounds=int(p.get("rounds", 0)),
    )
    for c in p.get("changes", ()):
        msg.changes.add(
            path=c["path"],
            change_event_id=c["change_event_id"],
            new_sha256=bytes.fromhex(c["new_sha256"]),
        )
    if "usage" in p:
        msg.usage.CopyFrom(usage_message(p["usage"]))
    return msg


def usage_message(u: Mapping[str, Any]) -> model_pb.ModelUsage:
    """A usage summary (``prompt_tokens``, ``completion_tokens``, ``estimated``, ``calls``)."""
    return model_pb.ModelUsage(
        prompt_tokens=int(u.get("prompt_tokens", 0)),
        completion_tokens=int(u.get("completion_tokens", 0)),
        estimated=bool(u.get("estimated", False)),
        calls=int(u.get("calls", 0)),
    )


def usage_of(m: model_pb.ModelUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.completion_tokens,
        "estimated": m.estimated,
        "calls": m.calls,
    }


def _coder_of(m: mpb.CoderResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": m.path,
        "changed": m.changed,
        "change_event_id": m.change_event_id,
        "new_sha256": m.new_sha256.hex(),
        "attempt": m.attempt,
        "rationale": m.rationale,
    }
    if m.changes or m.rounds:  # a loop ticket's (ADR 0015); plain coders carry none
        out["changes"] = [
            {
                "path": c.path,
                "change_event_id": c.change_event_id,
                "new_sha256": c.new_sha256.hex(),
            }
            for c in m.changes
        ]
        out["usage"] = usage_of(m.usage)
        out["rounds"] = m.rounds
    return out


def _counts_message(c: Mapping[str, Any]) -> mpb.TestCounts:
    return mpb.TestCounts(**{k: int(c.get(k, 0)) for k in _COUNT_KEYS})


def _counts_of(m: mpb.TestCounts) -> dict[str, int]:
    return {k: int(getattr(m, k)) for k in _COUNT_KEYS}


def _baseline_message(p: Mapping[str, Any]) -> mpb.BaselineResult:
    if p.get("skipped"):
        return mpb.BaselineResult(skipped=True)
    return mpb.BaselineResult(
        counts=_counts_message(p["counts"]),
        complete=p["complete"],
        wall_s=p["wall_s"],
        judgeable=p["judgeable"],
    )


def _baseline_of(m: mpb.BaselineResult) -> dict[str, Any]:
    if m.skipped:
        return {"skipped": True}
    return {
        "counts": _counts_of(m.counts),
        "complete": m.complete,
        "wall_s": m.wall_s,
        "judgeable": m.judgeable,
    }


def _verify_message(p: Mapping[str, Any]) -> mpb.VerifyResult:
    msg = mpb.VerifyResult(files=list(p["files"]))
    tests = p["tests"]
    if tests == "skipped":
        msg.tests_skipped = True
        return msg
    summary = msg.tests
    summary.unverified = tests.get("unverified", "")
    if "stages" in tests:
        summary.stages.extend(tests["stages"])
        summary.counts.CopyFrom(_counts_message(tests["counts"]))
        summary.could_not_run_names.extend(tests["could_not_run_names"])
        summary.pre_existing_failure_names.extend(tests["pre_existing_failure_names"])
        summary.budget_s = tests["budget_s"]
        code = tests["test_code"]
        summary.test_code.CopyFrom(
            mpb.TestCodeSummary(
                rule=code["rule"], files=code["files"], original_failing=code["original_failing"]
            )
        )
    return msg


def _verify_of(m: mpb.VerifyResult) -> dict[str, Any]:
    if m.tests_skipped:
        return {"files": list(m.files), "tests": "skipped"}
    t = m.tests
    tests: dict[str, Any] = {}
    if t.stages:  # every run after the edits has at least one stage
        tests = {
            "stages": list(t.stages),
            "counts": _counts_of(t.counts),
            "could_not_run_names": list(t.could_not_run_names),
            "pre_existing_failure_names": list(t.pre_existing_failure_names),
            "budget_s": t.budget_s,
            "test_code": {
                "rule": t.test_code.rule,
                "files": list(t.test_code.files),
                "original_failing": list(t.test_code.original_failing),
            },
        }
    if t.unverified:
        tests["unverified"] = t.unverified
    return {"files": list(m.files), "tests": tests}


# -- blobs -------------------------------------------------------------------------------


def _is_json(data: bytes) -> bool:
    # No message here starts with "{" or "[" (they would be tags of fields 15 and 11 of
    # wire type 3, which none has), so the first byte tells an older JSON blob apart.
    return data[:1] in (b"{", b"[")


_RUN_TEXT = ("status", "detail", "problem", "runner", "tree")
_RUN_SECONDS = ("wall_s", "budget_s")


def encode_test_run(data: Mapping[str, Any]) -> bytes:
    """A sandbox run as the critic records it (its decision's evidence blob)."""
    msg = mpb.TestRun(
        complete=bool(data["complete"]),
        items=[mpb.TestItem(name=n, outcome=o, message=m) for n, o, m in data["items"]],
        counts=_counts_message(data["counts"]),
    )
    for key in _RUN_TEXT:
        setattr(msg, key, str(data[key]))
    for key in _RUN_SECONDS:
        setattr(msg, key, float(data[key]))
    return msg.SerializeToString(deterministic=True)


def decode_test_run(blob: bytes) -> dict[str, Any]:
    """A recorded sandbox run, in the shape :func:`swarm.missions.judge` reads."""
    if _is_json(blob):
        return dict(json.loads(blob))
    msg = mpb.TestRun.FromString(blob)
    out: dict[str, Any] = {"complete": msg.complete}
    out.update({k: getattr(msg, k) for k in (*_RUN_TEXT, *_RUN_SECONDS)})
    out["items"] = [[i.name, i.outcome, i.message] for i in msg.items]
    out["counts"] = _counts_of(msg.counts)
    return out


def encode_targets(paths: list[str]) -> bytes:
    return mpb.ScoutTargets(paths=paths).SerializeToString(deterministic=True)


def decode_targets(blob: bytes) -> list[str]:
    """The paths a scout.targets decision found."""
    if _is_json(blob):
        return [str(p) for p in json.loads(blob)]
    return list(mpb.ScoutTargets.FromString(blob).paths)


def encode_exchange(request_json: str, response_json: str) -> bytes:
    msg = mpb.ModelExchange(request_json=request_json, response_json=response_json)
    return msg.SerializeToString(deterministic=True)


def decode_exchange(blob: bytes) -> tuple[str, str]:
    """(request body, response body) of a recorded model exchange."""
    if _is_json(blob):
        body = json.loads(blob)
        return str(body["request_json"]), str(body["response_json"])
    msg = mpb.ModelExchange.FromString(blob)
    return msg.request_json, msg.response_json


def manifest_digests(blob: bytes) -> dict[str, str]:
    """A stored manifest as the mission reads it: path -> content sha256 (hex). Reads
    replay's manifest format, and the JSON object (path -> hex) of ledgers written
    before missions stored their manifests that way."""
    if blob[:1] == b"{":
        return {str(p): str(d) for p, d in json.loads(blob).items()}
    return {p: e.sha256.hex() for p, e in replay.decode_manifest(blob).items()}
