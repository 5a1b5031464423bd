"""The Python indexer (tree-sitter-python).

Identifiers are found with one tree-sitter query and classified by the
syntactic slot they sit in; import statements (few nodes) are walked by hand.
The scan of a file depends on its bytes only, so it is what the cache keeps;
resolving relative imports against the file's own package happens after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from swarm.scout._types import FileIndex, Occurrence

_LANGUAGE = Language(tree_sitter_python.language())

# One query; each capture name is the slot an identifier sits in. An identifier
# can be captured by several patterns: the most specific slot wins (see _RANK).
_QUERY_SOURCE = """
(identifier) @reference
(function_definition name: (identifier) @definition)
(class_definition name: (identifier) @definition)
(assignment left: (identifier) @definition)
(assignment left: (pattern_list (identifier) @definition))
(assignment left: (tuple_pattern (identifier) @definition))
(augmented_assignment left: (identifier) @definition)
(for_statement left: (identifier) @definition)
(for_statement left: (pattern_list (identifier) @definition))
(for_in_clause left: (identifier) @definition)
(as_pattern_target (identifier) @definition)
(parameters (identifier) @definition)
(lambda_parameters (identifier) @definition)
(default_parameter name: (identifier) @definition)
(typed_parameter (identifier) @definition)
(typed_default_parameter name: (identifier) @definition)
(list_splat_pattern (identifier) @definition)
(dictionary_splat_pattern (identifier) @definition)
(global_statement (identifier) @definition)
(nonlocal_statement (identifier) @definition)
(attribute attribute: (identifier) @attribute)
(keyword_argument name: (identifier) @keyword)
(import_statement) @import_stmt
(import_from_statement) @import_stmt
(future_import_statement) @import_stmt
(expression_statement
  (assignment left: (identifier) @all_name right: [(list) (tuple)] @all_list))
"""
_QUERY = Query(_LANGUAGE, _QUERY_SOURCE)
_RANK = {"reference": 0, "definition": 1, "keyword": 2, "attribute": 3, "import": 4, "module": 5}
_LOCAL_SCOPES = frozenset(
    {
        "parameters",
        "lambda_parameters",
        "lambda",
        "list_comprehension",
        "set_comprehension",
        "dictionary_comprehension",
        "generator_expression",
    }
)


@dataclass(frozen=True, slots=True)
class Scan:
    """What a file's bytes hold, before its path is known (the cached unit).

    rows: (line, column, end_column, name, kind, context, qualifier, scope);
    raw_imports: module specs as written, relative ones keep their dots ("..x.y").
    """

    rows: tuple[tuple[int, int, int, str, str, str, str, str], ...]
    raw_imports: tuple[str, ...]
    syntax_errors: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "imports": self.raw_imports, "errors": self.syntax_errors}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scan:
        rows = tuple(
            (int(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4]), str(r[5]), str(r[6]), str(r[7]))
            for r in data["rows"]
        )
        return cls(rows, tuple(data["imports"]), tuple(data["errors"]))


class PythonIndexer:
    """Indexes Python source with tree-sitter: definitions, references, imports, attributes,
    ``__all__`` entries and keyword-argument names."""

    name = "python"
    suffixes = (".py", ".pyi")
    version = "py-2"

    def __init__(self) -> None:
        self._parser = Parser(_LANGUAGE)

    def index(self, path: str, source: bytes) -> FileIndex:
        """Parse ``source`` (the content of repo path ``path``) and list what it holds."""
        import hashlib

        return materialise(path, hashlib.sha256(source).digest(), self.scan(source))

    def scan(self, source: bytes) -> Scan:
        """The path-independent part of indexing: parse and classify."""
        tree = self._parser.parse(source)
        root = tree.root_node
        lines = source.split(b"\n")
        best: dict[int, tuple[int, Node, str, str]] = {}  # node id -> (rank, node, kind, qualifier)
        imports: list[str] = []
        all_strings: list[Node] = []

        def put(node: Node, kind: str, qualifier: str = "") -> None:
            rank = _RANK[kind]
            prev = best.get(node.id)
            if prev is None or prev[0] < rank:
                best[node.id] = (rank, node, kind, qualifier)

        captures = QueryCursor(_QUERY).captures(root)
        for kind in ("reference", "definition", "keyword"):
            for node in captures.get(kind, ()):
                put(node, kind)
        for node in captures.get("attribute", ()):
            obj = node.parent.child_by_field_name("object") if node.parent else None
            put(node, "attribute", _text(obj) if obj is not None else "")
        for stmt in captures.get("import_stmt", ()):
            self._import(stmt, put, imports)
        names = captures.get("all_name", ())
        lists = captures.get("all_list", ())
        for name_node, list_node in zip(names, lists, strict=False):
            if _text(name_node) == "__all__" and _is_module_level(name_node):
                all_strings.extend(c for c in list_node.named_children if c.type == "string")

        rows: list[tuple[int, int, int, str, str, str, str, str]] = []
        for _rank, node, kind, qualifier in best.values():
            rows.append(
                _row(lines, node, kind, qualifier, _scope(node) if kind == "definition" else "")
            )
        for string in all_strings:
            content = [c for c in string.named_children if c.type == "string_content"]
            if len(content) == 1:
                rows.append(_row(lines, content[0], "all_entry", "", ""))
        rows.sort()
        errors = _syntax_errors(root) if root.has_error else ()
        return Scan(tuple(rows), tuple(dict.fromkeys(imports)), errors)

    @staticmethod
    def _import(stmt: Node, put: Any, imports: list[str]) -> None:
        if stmt.type == "future_import_statement":
            return
        if stmt.type == "import_statement":
            for item in stmt.named_children:
                dotted = item.child_by_field_name("name") if item.type == "aliased_import" else item
                if dotted is None:
                    continue
                for ident in dotted.named_children:
                    put(ident, "module")
                imports.append(_text(dotted))
                if item.type == "aliased_import":
                    alias = item.child_by_field_name("alias")
                    if alias is not None:
                        put(alias, "import", _text(dotted))
            return
        module = stmt.child_by_field_name("module_name")
        if module is None:
            return
        spec = _text(module)
        for ident in _identifiers(module):
            put(ident, "module")
        imports.append(spec)
        for item in stmt.children_by_field_name("name"):
            dotted = item.child_by_field_name("name") if item.type == "aliased_import" else item
            if dotted is None:
                continue
            for ident in dotted.named_children:
                put(ident, "import", spec)
            sep = "" if spec.endswith(".") else "."
            imports.append(spec + sep + _text(dotted))
            if item.type == "aliased_import":
                alias = item.child_by_field_name("alias")
                if alias is not None:
                    put(alias, "import", spec)


def materialise(path: str, sha256: bytes, scan: Scan) -> FileIndex:
    """A FileIndex for ``path`` from its path-independent scan."""
    package = _package_of(path)
    occurrences = tuple(
        Occurrence(
            path,
            line,
            col,
            end,
            name,
            kind,
            context,
            resolve_module(qualifier, package) or qualifier if kind == "import" else qualifier,
            scope,
        )
        for line, col, end, name, kind, context, qualifier, scope in scan.rows
    )
    imports: list[str] = []
    for spec in scan.raw_imports:
        resolved = resolve_module(spec, package)
        if resolved:
            imports.append(resolved)
    return FileIndex(path, sha256, occurrences, tuple(dict.fromkeys(imports)), scan.syntax_errors)


def module_name(path: str) -> str:
    """The dotted module name of a repo path from the repo root (``a/b/__init__.py`` -> ``a.b``)."""
    stem = path.rsplit(".", 1)[0]
    parts = stem.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_of(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return parts


def resolve_module(spec: str, package: list[str]) -> str:
    """An absolute dotted name for ``spec``; relative specs resolve against ``package``.

    Returns "" when a relative import climbs above the repository root.
    """
    if not spec.startswith("."):
        return spec
    level = len(spec) - len(spec.lstrip("."))
    rest = spec[level:]
    if level - 1 > len(package):
        return ""
    base = package[: len(package) - (level - 1)]
    parts = [*base, *([rest] if rest else [])]
    return ".".join(p for p in parts if p)


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _identifiers(node: Node) -> list[Node]:
    if node.type == "identifier":
        return [node]
    out: list[Node] = []
    for child in node.named_children:
        out.extend(_identifiers(child))
    return out


def _row(
    lines: list[bytes], node: Node, kind: str, qualifier: str, scope: str
) -> tuple[int, int, int, str, str, str, str, str]:
    row, col = node.start_point
    end_row, end_col = node.end_point
    line = lines[row] if row < len(lines) else b""
    if line.isascii():
        column, end_column = col, end_col if end_row == row else len(line)
        text = line.decode("ascii")
    else:
        column = len(line[:col].decode("utf-8", "replace"))
        end_column = len(
            line[: end_col if end_row == row else len(line)].decode("utf-8", "replace")
        )
        text = line.decode("utf-8", "replace")
    return (row + 1, column, end_column, _text(node), kind, text.strip(), qualifier, scope)


def _scope(ident: Node) -> str:
    """Where a definition binds its name: "module", "class" or "local"."""
    node = ident.parent
    if node is not None and node.type in ("function_definition", "class_definition"):
        node = node.parent  # the def's own name binds in the enclosing scope
    while node is not None:
        kind = node.type
        if kind == "module":
            return "module"
        if kind in _LOCAL_SCOPES:
            return "local"
        if kind == "block":
            owner = node.parent
            if owner is not None and owner.type == "class_definition":
                return "class"
            if owner is not None and owner.type == "function_definition":
                return "local"
        node = node.parent
    return "module"


def _is_module_level(ident: Node) -> bool:
    stmt = ident.parent.parent if ident.parent is not None else None
    return stmt is not None and stmt.parent is not None and stmt.parent.type == "module"


def _syntax_errors(root: Node) -> tuple[str, ...]:
    errors: list[str] = []
    stack = [root]
    while stack and len(errors) < 50:
        node = stack.pop()
        if node.is_missing:
            row, col = node.start_point
            errors.append(f"{row + 1}:{col} missing {node.type!r}")
            continue
        if node.is_error:
            row, col = node.start_point
            snippet = _text(node).split("\n", 1)[0][:40]
            errors.append(f"{row + 1}:{col} unexpected {snippet!r}")
            continue
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)
    return tuple(errors)
