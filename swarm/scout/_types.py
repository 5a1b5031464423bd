"""The scout's value objects and the per-language indexer port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: Occurrence kinds, in the order a reader meets them.
KINDS = (
    "definition",
    "reference",
    "import",
    "attribute",
    "all_entry",
    "keyword",
    "module",
    "string",
    "doc",
)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One place an identifier appears in a source file.

    ``kind`` is ``definition`` (def/class name, assignment target, parameter),
    ``reference`` (any other use of a bare name), ``import`` (a name in an
    import statement), ``attribute`` (the ``X`` of ``obj.X``; ``qualifier``
    holds ``obj``'s text), ``all_entry`` (a string in a module's ``__all__``)
    ``keyword`` (the ``x`` of a call's ``f(x=1)``, a parameter name) or
    ``module`` (a component of a module path in an import: ``a``/``b`` of
    ``import a.b``), kept apart so renaming a function never renames a module,
    ``string`` (one identifier of a dotted-path string such as ``"pkg.mod:name"``;
    ``qualifier`` holds the dotted text before it; with ``scope`` "getattr" it is
    the ``"x"`` of ``getattr(obj, "x")`` and ``qualifier`` holds ``obj``'s text) or
    ``doc`` (a code-like mention in a docstring; ``qualifier`` is the dotted
    text before it). An ``import`` whose ``scope`` is "alias" is the ``y`` of
    ``... as y``. ``owner`` is the qualified name of the enclosing scope
    (``"Class.method"``; "" at module level; comprehensions and lambdas are
    ``<comp@line:col>`` / ``<lambda@line:col>`` scopes of their own).
    """

    path: str  # repo-relative POSIX path
    line: int  # 1-based
    column: int  # 0-based, in characters of the line
    end_column: int
    name: str
    kind: str
    context: str  # the source line, stripped
    qualifier: str = ""  # attribute: the receiver's source text; import: the module it comes from
    scope: str = ""  # definition: where it binds, "module" | "class" | "local"
    owner: str = ""  # the enclosing scope's qualified name ("" = module level)


@dataclass(frozen=True, slots=True)
class FileIndex:
    """What the scout knows about one file at one content hash."""

    path: str
    sha256: bytes
    occurrences: tuple[Occurrence, ...]
    # Dotted module names imported. Relative imports are resolved against the
    # file's own package path; ``from a.b import c`` lists ``a.b`` and ``a.b.c``
    # (``c`` may be a submodule); the import graph keeps those that are repo files.
    imports: tuple[str, ...]
    syntax_errors: tuple[str, ...]  # empty when the file parses cleanly ("line:col message")
    # What the symbol resolver reads: imports with aliases, __all__, class bases,
    # instance bindings (see swarm.scout._python.Scan for the shapes).
    facts: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What one ``RepoIndex.refresh`` did."""

    files: int
    parsed: int
    cached: int
    seconds: float
    removed: int = 0


class LanguageIndexer(Protocol):
    """Indexes source files of one language; one implementation per language."""

    name: str
    suffixes: tuple[str, ...]
    version: str  # part of the cache key: bump it when the output for a given input changes

    def index(self, path: str, source: bytes) -> FileIndex:
        """Parse ``source`` (the content of repo path ``path``) and list what it holds."""
        ...
