"""Semantic memory: the swarm remembers what it tried and finds code by meaning.

A projection of the ledger into Qdrant, never a source of truth. The
``Indexer`` follows each project's log from a durable cursor and writes two
kinds of point, each in its own collection with every tenant in it (payload
partitioning on a ``tenant`` index):

- ``code``: a file's module docstring and each class and function (tree-sitter);
- ``lesson``: what a mission asked, edited, had rejected and how it ended.

``Memory`` searches them (dense all-MiniLM-L6-v2 vectors fused with BM25
sparse vectors) and gives a coder its context (``context_for``). Everything
here imports without the optional ``memory`` extra; using it without the extra
raises ``MemoryUnavailable``. Errors derive from ``MemoryFailure``
(tree in ``swarm.memory._errors``). ADR 0015 (memory) has the decisions.
"""

from __future__ import annotations

from swarm.memory._errors import (
    BadMemoryLocation,
    InvalidMemoryQuery,
    MemoryBusy,
    MemoryFailure,
    MemoryUnavailable,
)
from swarm.memory._indexer import Indexer, IndexStats
from swarm.memory._memory import (
    Memory,
    attach,
    attached,
    candidate_files,
    context_for,
    default_location,
)
from swarm.memory._store import MODES, MemoryStore
from swarm.memory._types import KINDS, CodeChunk, Hit, Lesson

__all__ = [
    "KINDS",
    "MODES",
    "BadMemoryLocation",
    "CodeChunk",
    "Hit",
    "IndexStats",
    "Indexer",
    "InvalidMemoryQuery",
    "Lesson",
    "Memory",
    "MemoryBusy",
    "MemoryFailure",
    "MemoryStore",
    "MemoryUnavailable",
    "attach",
    "attached",
    "candidate_files",
    "context_for",
    "default_location",
]
