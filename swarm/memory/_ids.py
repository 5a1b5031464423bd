"""Deterministic point ids: the same ledger gives the same ids, so re-indexing is idempotent."""

from __future__ import annotations

import hashlib
import uuid

#: The namespace of every memory point id (uuid5 of a fixed name: never change it).
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "swarm-ledger:memory:v1")


def point_id(tenant: str, project: str, kind: str, path: str, symbol: str, text: str) -> str:
    """uuid5 over (tenant, project, kind, path, symbol, sha256(text)), NUL-separated
    (none of the parts may hold NUL: ids, repo paths and identifiers never do)."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    name = "\0".join((tenant, project, kind, path, symbol, digest))
    return str(uuid.uuid5(NAMESPACE, name))


def cursor_id(tenant: str, project: str) -> str:
    """The id of the point that holds a project's indexing cursor."""
    return str(uuid.uuid5(NAMESPACE, "\0".join(("cursor", tenant, project))))
