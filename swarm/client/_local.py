"""``LocalClient``: the ``Client`` surface over a ledger opened in this process.

Missions run here, on a folder of this machine (``swarm.missions``); reads
fold the ledger through ``swarm.client._reads`` (the daemon's servicer uses
the same functions), and audit calls are ``ops``' own. Domain errors become
``ClientError`` with the status the daemon would answer with.
"""

from __future__ import annotations

from pathlib import Path

import ledger
import ops
import replay
import swarm.memory as memory
from swarm.client import _files as files_
from swarm.client import _types as v
from swarm.client._errors import ClientError
from swarm.client._errors import refused as refusals
from swarm.client._memory import as_wire
from swarm.client._points import event_versionstamp
from swarm.client._reads import mission_ids, mission_of, story_of
from swarm.memory import Hit
from swarm.missions import run_mission, start_mission
from swarm.scout import Scan

CANCEL_IS_REMOTE = (
    "mission cancel works through a daemon only (--server HOST:PORT): a mission run "
    "here stops with its process (Ctrl-C), and `swarm mission resume` continues it"
)


class LocalClient:
    """Missions and audit of one tenant, on the ledger ``led`` (the caller closes it)."""

    where = "the ledger"

    def __init__(
        self,
        led: ledger.Ledger,
        tenant: str,
        *,
        snapshot_every: int = replay.DEFAULT_SNAPSHOT_EVERY,
        take_snapshots: bool = True,
        memory_location: str | None = None,
    ) -> None:
        """``snapshot_every``, ``take_snapshots``: how a replay snapshots the log first;
        ``memory_location``: the memory's folder or Qdrant URL (``swarm.memory``)."""
        self.memory_location = memory_location
        self.led = led
        self.tenant = tenant
        self.snapshot_every = snapshot_every
        self.take_snapshots = take_snapshots

    # missions -------------------------------------------------------------------------
    def list_missions(self, project: str) -> list[v.Mission]:
        with refusals():
            return [
                mission_of(self.led, self.tenant, project, mid)
                for mid in mission_ids(self.led, self.tenant, project)
            ]

    def get_mission(self, project: str, mission_id: str) -> v.Mission:
        with refusals():
            return mission_of(self.led, self.tenant, project, mission_id)

    def mission_story(self, project: str, mission_id: str) -> v.MissionStory:
        with refusals():
            return story_of(self.led, self.tenant, project, mission_id)

    def cancel_mission(self, project: str, mission_id: str, reason: str) -> v.Mission:
        raise ClientError("UNIMPLEMENTED", CANCEL_IS_REMOTE)

    def run_mission(
        self, project: str, run: v.MissionRun, *, progress: v.Progress, started: v.Started
    ) -> v.MissionReport:
        """Import ``run.repo``, record the mission and run it here to its end."""
        if run.repo is None or run.workspace:
            raise ClientError("INVALID_ARGUMENT", "a local mission runs on a folder: --repo PATH")
        # The symbol check's parses, handed on to the mission's index (same bytes, same parse).
        parses: dict[bytes, Scan] = {}
        with refusals():
            mid = start_mission(
                self.led,
                self.tenant,
                project,
                run.repo,
                run.request,
                brain=run.brain,
                brain_settings=dict(run.brain_settings),
                options=run.options,
                mission_id=run.mission_id,
                progress=progress,
                parses=parses,
            )
            started(mid)
            return run_mission(
                self.led,
                self.tenant,
                project,
                mid,
                repo=run.repo,
                api_key=run.brain_settings.get("api_key"),
                progress=progress,
                parses=parses,
            )

    def resume_mission(
        self,
        project: str,
        mission_id: str,
        *,
        repo: Path | None,
        api_key: str | None,
        progress: v.Progress,
    ) -> v.MissionReport:
        """Run a mission whose process stopped from where its log ends."""
        with refusals():
            return run_mission(
                self.led,
                self.tenant,
                project,
                mission_id,
                repo=repo,
                api_key=api_key,
                progress=progress,
            )

    # memory ---------------------------------------------------------------------------
    def search_memory(
        self, query: str, *, project: str | None, kind: str | None, limit: int
    ) -> list[Hit]:
        """Index what the log holds beyond the memory's cursors, then search (a local
        memory is always current: nothing else keeps it in step)."""
        with refusals():
            if not self.memory_location:
                raise memory.BadMemoryLocation("", "this ledger has no memory folder: --memory-url")
            with memory.Memory(self.led, self.memory_location) as mem:
                hits = mem.search(
                    self.tenant, query, kind=kind, project=project, limit=limit, catch_up=True
                )
        return as_wire(hits)

    # audit ----------------------------------------------------------------------------
    def query_audit(self, project: str, q: v.Query) -> list[v.AuditRow]:
        with refusals():
            return list(ops.query(self.led, self.tenant, project, q))

    def who_changed(
        self, project: str, path: str, *, since_us: int | None, until_us: int | None
    ) -> list[v.ChangeWhy]:
        with refusals():
            return ops.who_changed(
                self.led, self.tenant, project, path, since_us=since_us, until_us=until_us
            )

    def verify(self, project: str, *, progress: v.Progress | None = None) -> v.VerifyReport:
        def counted(done: int, total: int) -> None:
            if progress is not None:
                progress("verified", done, total)

        with refusals():
            return ops.verify(self.led, self.tenant, project, progress=counted)

    # replay ---------------------------------------------------------------------------
    def replayer(self, project: str, progress: v.Progress | None) -> replay.Replayer:
        """A Replayer of ``project``, its snapshots taken first unless told not to."""
        if self.snapshot_every < 1:
            raise replay.BadPoint(f"--snapshot-every must be at least 1, got {self.snapshot_every}")
        r = replay.Replayer(
            self.led, self.tenant, project, snapshot_every=self.snapshot_every, progress=progress
        )
        if self.take_snapshots:
            r.take_snapshots()
        return r

    def replay_to(
        self, project: str, point: v.Point, out: Path, *, force: bool, progress: v.Progress
    ) -> v.Replayed:
        """Materialise the project's files at ``point`` into ``out``, all or nothing."""
        with refusals():
            r = self.replayer(project, progress)
            vs = resolve(r, point)
            state = r.state_at(vs)
            done = replay.materialise(
                self.led, self.tenant, state, out, force=force, progress=progress
            )
            left = replay.omissions_at(self.led, self.tenant, project, vs)
        return v.Replayed(
            out=done.out,
            versionstamp=str(vs),
            files=done.files,
            bytes=done.bytes,
            verified=state.chain_checked,
            time=replay.format_time(state.time_us),
            snapshot=str(state.snapshot) if state.snapshot else None,
            events_folded=state.events_folded,
            verification=state.verification,
            left_out=left.paths if left else (),
            left_out_more=left.more if left else 0,
            left_out_unreadable=(left.unreadable or "") if left else "",
        )

    def fork(
        self, project: str, point: v.Point, new_project: str, *, progress: v.Progress
    ) -> v.Forked:
        """A new project holding ``project``'s files at ``point``."""
        with refusals():
            r = self.replayer(project, progress)
            state = r.state_at(resolve(r, point))
            done = replay.fork(self.led, self.tenant, project, state, new_project)
        return v.Forked(done.project, str(done.link), done.files, project, str(state.versionstamp))

    # files at a point, people's locks --------------------------------------------------
    def files_at(self, project: str, point: v.Point) -> files_.FilesAt:
        """The project's tree at ``point``, read from the log (no snapshot written)."""
        with refusals():
            vs = resolve(replay.Replayer(self.led, self.tenant, project), point)
            return files_.tree_at(self.led, self.tenant, project, vs)

    def file_at(self, project: str, point: v.Point, path: str) -> files_.FileAt:
        """``path``'s bytes at ``point`` (NOT_FOUND if it was not there then)."""
        with refusals():
            files_.check_path(path)
            vs = resolve(replay.Replayer(self.led, self.tenant, project), point)
            return files_.read_at(self.led, self.tenant, project, vs, path)

    def acquire_lock(self, project: str, path: str, holder: str, ttl_s: float) -> files_.HeldLock:
        """A person's lock on ``path`` (FAILED_PRECONDITION while another holds it)."""
        with refusals():
            files_.check_path(path)
            files_.check_holder(holder)
            self.led.project_info(self.tenant, project)  # an unknown project is NOT_FOUND
            return files_.held(self.led.acquire_lock(self.tenant, project, path, holder, ttl_s))

    def release_lock(self, project: str, path: str, holder: str, token: str) -> None:
        """Release the person's lock whose fencing token (hex) is ``token``."""
        with refusals():
            files_.check_path(path)
            files_.check_holder(holder)
            fencing = files_.fencing_token(token)
            self.led.release_lock(self.tenant, project, path, holder, fencing)


def resolve(r: replay.Replayer, point: v.Point) -> ledger.Versionstamp:
    """The event ``point`` names in ``r``'s project."""
    if point.mission is not None:
        return r.at_mission_step(point.mission, point.step)
    if point.text is None:
        return r.latest()
    vs = event_versionstamp(point.text)
    return r.at_event(vs) if vs is not None else r.at_time(point.text)
