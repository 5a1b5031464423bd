"""Missions this server submitted, each followed to its end on a thread of its own.

An MCP tool call must answer soon, and a mission takes seconds to minutes, so
``submit`` starts ``Client.run_mission`` (the CLI's one call: local, it runs the
mission here; through a daemon, it submits and follows) on a thread, returns
the mission's id as soon as the client has one, and keeps the report for
``result``. A mission refused before it has an id is the caller's error,
raised from ``submit`` as the ``ClientError`` the client raised.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from swarm.client import Client, ClientError, MissionReport, MissionRun


@dataclass
class _Run:
    """One submitted mission as this server follows it."""

    project: str
    mission_id: str = ""
    report: MissionReport | None = None
    error: ClientError | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Runs:
    """The missions this server submitted, by id."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}

    def submit(self, project: str, run: MissionRun) -> str:
        """Start ``run`` on ``project``; its id once the client has one (or its refusal)."""
        state = _Run(project)
        named = threading.Event()

        def started(mission_id: str) -> None:
            state.mission_id = mission_id
            with self._lock:
                self._runs[mission_id] = state
            named.set()

        def body() -> None:
            try:
                state.report = self._client.run_mission(
                    project, run, progress=_quiet, started=started
                )
            except ClientError as exc:
                state.error = exc
            except Exception as exc:  # the thread must report, not die silently
                state.error = ClientError("INTERNAL", f"{type(exc).__name__}: {exc}")
            finally:
                state.done.set()
                named.set()

        threading.Thread(target=body, name="swarm-mcp-mission", daemon=True).start()
        named.wait()
        if not state.mission_id:
            assert state.error is not None
            raise state.error
        return state.mission_id

    def running(self, mission_id: str) -> bool:
        """Whether this server is still running (or following) ``mission_id``."""
        with self._lock:
            state = self._runs.get(mission_id)
        return state is not None and not state.done.is_set()

    def outcome(self, mission_id: str) -> tuple[MissionReport | None, ClientError | None]:
        """The report (or the error) of a mission this server ran to its end; (None, None)."""
        with self._lock:
            state = self._runs.get(mission_id)
        if state is None or not state.done.is_set():
            return None, None
        return state.report, state.error


def _quiet(phase: str, done: int, total: int) -> None:
    """Progress goes nowhere: stdout is the protocol's, and the caller follows by events."""
