"""One ledger watch per followed project, shared by every stream that tails it.

Why: a ledger ``Watch`` only offers a blocking ``wait``. Under the asyncio
server a stream must not hold a thread while it idles, so one thread per
*project* (not per stream) waits on the project's head and calls every
subscriber's waker when it moves. A thousand streams on one project cost one
thread; the thread ends when the project's last subscriber leaves.

The ordering that keeps a tail gap-free: ``subscribe`` returns only once a
watch is armed, and the thread arms the next watch *before* it calls the
wakers. A subscriber that reads the log after subscribing therefore either
sees an append in its read or is woken for it (at worst it is woken twice).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import ledger

Waker = Callable[[], None]
IDLE_WAIT_S = 30.0  # how long the thread waits before it looks at its subscribers again


class _Project:
    """The watcher of one project: its armed watch, its subscribers and its thread."""

    __slots__ = ("closed", "key", "subscribers", "watch")

    def __init__(self, key: tuple[str, str], watch: ledger.Watch) -> None:
        self.key = key
        self.watch = watch
        self.subscribers: dict[int, Waker] = {}
        self.closed = False


class ProjectWatchers:
    """Subscribe a waker to a project's appends; the waker must be cheap and thread-safe."""

    def __init__(self, led: ledger.Ledger) -> None:
        self._led = led
        self._lock = threading.Lock()
        self._projects: dict[tuple[str, str], _Project] = {}
        self._next_id = 0

    def subscribe(self, tenant: str, project: str, waker: Waker) -> Callable[[], None]:
        """Call ``waker`` after every append to the project from now on; returns the unsubscribe.

        Blocks for one ledger read when the project has no watcher yet (run it off
        the event loop). Raises the ledger's NotFound for an unknown project.
        """
        key = (tenant, project)
        with self._lock:
            self._next_id += 1
            sub_id = self._next_id
            current = self._projects.get(key)
            if current is not None:
                current.subscribers[sub_id] = waker
                return lambda: self._unsubscribe(current, sub_id)
        watch = self._led.watch(tenant, project)  # armed before we return: no gap
        fresh = _Project(key, watch)
        with self._lock:
            raced = self._projects.get(key)
            if raced is not None:  # another subscriber set one up meanwhile: join it
                watch.cancel()
                raced.subscribers[sub_id] = waker
                return lambda: self._unsubscribe(raced, sub_id)
            fresh.subscribers[sub_id] = waker
            self._projects[key] = fresh
        threading.Thread(
            target=self._run, args=(fresh,), name=f"swarm-watch:{tenant}/{project}", daemon=True
        ).start()
        return lambda: self._unsubscribe(fresh, sub_id)

    def close(self) -> None:
        """Stop every watcher thread (daemon shutdown)."""
        with self._lock:
            projects = list(self._projects.values())
            self._projects.clear()
            for p in projects:
                p.closed = True
            watches = [p.watch for p in projects]
        for w in watches:
            w.cancel()

    def watched(self) -> int:
        """How many projects have a watcher thread now."""
        with self._lock:
            return len(self._projects)

    def _unsubscribe(self, proj: _Project, sub_id: int) -> None:
        with self._lock:
            proj.subscribers.pop(sub_id, None)
            if proj.subscribers or proj.closed:
                return
            proj.closed = True
            if self._projects.get(proj.key) is proj:
                del self._projects[proj.key]
            watch = proj.watch  # read under the lock: the thread swaps it under the lock
        watch.cancel()  # wakes the thread, which sees it is closed and ends

    def _run(self, proj: _Project) -> None:
        while True:
            fired = proj.watch.wait(IDLE_WAIT_S)
            with self._lock:
                if proj.closed:
                    return
            if not fired:
                continue
            try:
                nxt = self._led.watch(*proj.key)  # the next watch first, then the wakers
            except ledger.LedgerError:
                nxt = None
            with self._lock:
                wakers = list(proj.subscribers.values())
                if nxt is None or proj.closed:
                    proj.closed = True
                    if self._projects.get(proj.key) is proj:
                        del self._projects[proj.key]
                else:
                    proj.watch = nxt
            for wake in wakers:  # woken subscribers re-read; a gone project ends their reads
                wake()
            if nxt is None:
                return
            if proj.closed:
                nxt.cancel()
                return
