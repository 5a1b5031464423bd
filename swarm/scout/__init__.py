"""The scout: a tree-sitter index of a repository that answers "where is X defined and used".

Python first, behind a per-language interface (:class:`LanguageIndexer`) so
JavaScript/TypeScript can follow. :class:`RepoIndex` walks a repository,
parses only new or changed files (a cache keyed by content hash and indexer
version, shared across processes through ``cache_dir``; with ``lazy=True``, only
the files a query needs, found by a byte search for the name), and answers usage
queries, the import graph, and which tests a change touches; :class:`Symbols`
resolves what a name, attribute or dotted string means (through re-exports).
"""

from __future__ import annotations

from swarm.scout._errors import (
    AmbiguousSymbol,
    NotInRepository,
    ScoutError,
    SymbolNotFound,
    UnknownFile,
    UnsupportedLanguage,
)
from swarm.scout._index import RepoIndex, check_syntax, is_test_file
from swarm.scout._python import PythonIndexer, Scan
from swarm.scout._symbols import Symbol, Symbols
from swarm.scout._types import KINDS, FileIndex, IndexStats, LanguageIndexer, Occurrence

__all__ = [
    "KINDS",
    "AmbiguousSymbol",
    "FileIndex",
    "IndexStats",
    "LanguageIndexer",
    "NotInRepository",
    "Occurrence",
    "PythonIndexer",
    "RepoIndex",
    "Scan",
    "ScoutError",
    "Symbol",
    "SymbolNotFound",
    "Symbols",
    "UnknownFile",
    "UnsupportedLanguage",
    "check_syntax",
    "is_test_file",
]
