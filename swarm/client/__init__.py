"""One client surface: every ``swarm`` command is written once, against ``Client``.

::

    from swarm.client import GrpcClient, LocalClient

    client = LocalClient(led, "local")           # the embedded ledger, in this process
    client = GrpcClient(remote)                  # a `swarm serve` (remote: swarm.client.Remote)
    for m in client.list_missions("shop"):
        print(m.mission_id, m.state, m.verdict)
    rows = client.query_audit("shop", Query(agent="coder-1"))

Both return the value types of ``swarm.client._types`` (frozen dataclasses;
audit answers are ``ops``' own) and raise only ``ClientError`` (its ``code``
is the gRPC status the daemon answers with, on both). The daemon's servicer
reads missions through the same functions (``_reads``) and encodes them with
the one codec per type (``_wire``), so the two clients give equal results.

``GrpcClient`` also has the browsing reads mission control (``swarm.web``) is
written against (``_browse``: ``list_projects``, ``list_files``, ``read_file``,
``mission_events``, ``follow``, ``evidence``), typed as ``ProjectInfo``,
``Tree``, ``EventInfo`` and ``Evidence`` (its own file types stay in ``_browse``).
"""

from __future__ import annotations

from swarm.client._browse import (
    DecisionInfo,
    EventInfo,
    Evidence,
    ProjectInfo,
    TestItem,
    Tree,
)
from swarm.client._errors import ClientError, Detached
from swarm.client._files import FileAt, FileEntry, FilesAt, HeldLock
from swarm.client._grpc import STREAM_BATCH, GrpcClient, Remote, stream_records
from swarm.client._local import LocalClient
from swarm.client._protocol import Client
from swarm.client._types import (
    AuditRow,
    ChangeWhy,
    Forked,
    Mission,
    MissionReport,
    MissionRun,
    MissionStory,
    Point,
    Problem,
    Progress,
    Query,
    Replayed,
    StoryLine,
    TicketInfo,
    VerifyReport,
)

__all__ = [
    "STREAM_BATCH",
    "AuditRow",
    "ChangeWhy",
    "Client",
    "ClientError",
    "DecisionInfo",
    "Detached",
    "EventInfo",
    "Evidence",
    "FileAt",
    "FileEntry",
    "FilesAt",
    "Forked",
    "GrpcClient",
    "HeldLock",
    "LocalClient",
    "Mission",
    "MissionReport",
    "MissionRun",
    "MissionStory",
    "Point",
    "Problem",
    "Progress",
    "ProjectInfo",
    "Query",
    "Remote",
    "Replayed",
    "StoryLine",
    "TestItem",
    "TicketInfo",
    "Tree",
    "VerifyReport",
    "stream_records",
]
