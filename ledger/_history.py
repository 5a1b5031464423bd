"""The history of one file, agent or mission (through the index), and the file heads.

A file's head (``('file', path)``: its content hash, size and the event that
set it) is what the last StateChange to it left; ``files`` is the
materialised head of the whole project.
"""

from __future__ import annotations

from ledger import _codec as codec
from ledger import _index as index
from ledger import _validate as validate
from ledger._errors import CorruptStore, InvalidArgument
from ledger._keys import IX_AGENT, IX_MISSION, IX_PATH, strinc, vs_element
from ledger._log import check_limit, event_at
from ledger._port import Engine, Transaction
from ledger._scope import ProjectScope
from ledger._types import FileState, RecordedEvent, Versionstamp


def index_of(path: str | None, agent: str | None, mission: str | None) -> tuple[str, str]:
    """The one (index kind, value) a history query names, checked."""
    chosen = [
        (k, v)
        for k, v in ((IX_PATH, path), (IX_AGENT, agent), (IX_MISSION, mission))
        if v is not None
    ]
    if len(chosen) != 1:
        raise InvalidArgument("history needs exactly one of path, agent or mission")
    kind, value = chosen[0]
    if kind == IX_PATH:
        validate.file_path(value)
    elif kind == IX_AGENT:
        validate.agent_id(value)
    return kind, value


def history(
    engine: Engine,
    scope: ProjectScope,
    which: tuple[str, str],
    after: Versionstamp | None,
    before: Versionstamp | None,
    limit: int,
    reverse: bool,
) -> list[RecordedEvent]:
    """Events of ``which`` = (kind, value) from ``index_of``, through its index."""
    kind, value = which
    check_limit(limit)
    prefix = scope.keys.index_prefix(kind, value)
    end = strinc(prefix) if before is None else prefix + vs_element(before)

    def fn(tr: Transaction) -> list[RecordedEvent]:
        scope.require(tr)
        found: list[RecordedEvent] = []
        for vs in index.stamps(tr, scope.keys, kind, value, after, end, limit, reverse):
            if (after is not None and vs <= after) or (before is not None and vs >= before):
                continue
            event = event_at(tr, scope, vs)
            if event is None:
                raise CorruptStore(f"index {kind}={value}", f"points at missing event {vs}")
            found.append(event)
            if limit and len(found) >= limit:
                break
        return found

    return engine.read(fn)


def file_state(engine: Engine, scope: ProjectScope, path: str) -> FileState | None:
    """The head of ``path``, or None if no live file has it."""
    validate.file_path(path)

    def fn(tr: Transaction) -> FileState | None:
        scope.require(tr)
        raw = tr.get(scope.keys.file(path))
        return codec.decode_file(path, raw) if raw is not None else None

    return engine.read(fn)


def files(engine: Engine, scope: ProjectScope) -> list[FileState]:
    """The materialised head: every live file, in path order."""
    pk = scope.keys

    def fn(tr: Transaction) -> list[FileState]:
        scope.require(tr)
        rows = tr.get_range(pk.files, strinc(pk.files))
        return [codec.decode_file(pk.path_of(k, pk.files), v) for k, v in rows]

    return engine.read(fn)
