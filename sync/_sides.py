"""The two ledgers a sync touches, behind one retry policy and one error mapping.

Every call goes through ``hub`` or ``edge``: transient ledger errors are
retried (``RetryPolicy``), permanent ones become ``ShipRefused`` naming the
operation, so a caller never sees a ledger exception unwrapped (except the
``passthrough`` ones it handles itself).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import ledger
from ledger import Ledger, Versionstamp
from sync._errors import ShipRefused
from sync._retry import RetryPolicy

T = TypeVar("T")


class Sides:
    """The edge and the hub, and how calls on them are retried and reported."""

    def __init__(self, edge: Ledger, hub: Ledger, retry: RetryPolicy) -> None:
        self.edge = edge
        self.hub = hub
        self.retry = retry

    def hub_call(
        self,
        operation: str,
        tenant: str,
        project: str,
        fn: Callable[[], T],
        passthrough: tuple[type[ledger.LedgerError], ...] = (),
    ) -> T:
        try:
            return self.retry.run(operation, fn)
        except passthrough:
            raise
        except ledger.LedgerError as exc:
            raise ShipRefused(tenant, project or "*", operation, str(exc)) from exc

    def edge_call(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return self.retry.run(operation, fn)
        except ledger.LedgerError as exc:
            raise ShipRefused("edge", "*", operation, str(exc)) from exc

    def hub_event(self, tenant: str, event_id: str) -> tuple[str, Versionstamp] | None:
        """Where the hub holds ``event_id`` (project, versionstamp), if it does."""
        return self.hub_call(
            "look up an event", tenant, "", partial(self.hub.find_event, tenant, event_id)
        )
