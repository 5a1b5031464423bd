"""The Python indexer (tree-sitter-python).

Identifiers are found with one tree-sitter query and classified by the
syntactic slot they sit in; import statements (few nodes), ``__all__``,
strings and docstrings are walked by hand from nodes the query or the
module's top level hands over. Nothing pairs the captures of two patterns:
tree-sitter does not promise their order, and a scan must be a pure function
of the bytes (rows are sorted before they leave).

Besides the rows (one per identifier occurrence) a scan keeps *facts* the
symbol resolver needs: imports with their aliases and the scope they sit in,
``from x import *``, ``__all__``, class bases, and ``var = Class(...)`` /
``var: Class`` bindings.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from swarm.scout._types import FileIndex, Occurrence

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
(class_definition) @class
(string) @string
(function_definition) @scope
(lambda) @scope
(list_comprehension) @scope
(set_comprehension) @scope
(dictionary_comprehension) @scope
(generator_expression) @scope
"""


@functools.cache
def _grammar() -> tuple[Language, Query]:
    """The language and its compiled query, built once per process on the first parse.

    Compiling the query costs about 10 ms; a process whose scans all come from the
    cache (or that never scans, such as ``check_syntax`` alone) does not pay it.
    """
    language = Language(tree_sitter_python.language())
    return language, Query(language, _QUERY_SOURCE)


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
_COMPREHENSIONS = frozenset(
    {"list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"}
)
# A string that names code: ``pkg.mod.name`` or ``pkg.mod:name.attr`` (ASCII identifiers).
_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED_STRING = re.compile(rf"{_ID}(?:\.{_ID})*(?::{_ID}(?:\.{_ID})*)?")
_CHAIN = re.compile(rf"{_ID}(?:\.{_ID})*")
_ROLE = re.compile(rf":[a-z]+(?::[a-z]+)?:`[~!]?({_ID}(?:\.{_ID})*)(?:\(\))?`")
# getattr(obj, "name") and mock.patch.object(obj, "name") name an attribute of obj.
_ATTR_CALLS = frozenset({"getattr", "hasattr", "setattr", "delattr"})

Row = tuple[int, int, int, str, str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Scan:
    """What a file's bytes hold, before its path is known (the cached unit).

    rows: (line, column, end_column, name, kind, context, qualifier, scope, owner);
    raw_imports: module specs as written, relative ones keep their dots ("..x.y");
    facts: tuples of strings, the first naming the fact (see ``Occurrence``'s module):
    ``("from", spec, name, asname, owner)`` (name ``*`` for a star import),
    ``("import", dotted, asname, owner)``, ``("all", *names)``,
    ``("class", qualname, *base_texts)``, ``("inst", owner, var, type_text)`` (type_text
    ``module:pkg.mod`` for ``var = importlib.import_module("pkg.mod")``).
    """

    rows: tuple[Row, ...]
    raw_imports: tuple[str, ...]
    syntax_errors: tuple[str, ...]
    facts: tuple[tuple[str, ...], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imports": self.raw_imports,
            "errors": self.syntax_errors,
            "facts": self.facts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scan:
        rows = tuple(
            (
                int(r[0]),
                int(r[1]),
                int(r[2]),
                str(r[3]),
                str(r[4]),
                str(r[5]),
                str(r[6]),
                str(r[7]),
                str(r[8]),
            )
            for r in data["rows"]
        )
        facts = tuple(tuple(str(x) for x in f) for f in data["facts"])
        return cls(rows, tuple(data["imports"]), tuple(data["errors"]), facts)


class _RecentScans:
    """The last scans of this process by the sha256 of their bytes (least recently used
    forgotten first), shared by every indexer and index in it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._scans: OrderedDict[bytes, Scan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sha: bytes) -> Scan | None:
        with self._lock:
            scan = self._scans.get(sha)
            if scan is not None:
                self._scans.move_to_end(sha)
            return scan

    def put(self, sha: bytes, scan: Scan) -> None:
        with self._lock:
            self._scans[sha] = scan
            self._scans.move_to_end(sha)
            while len(self._scans) > self._size:
                self._scans.popitem(last=False)


RECENT = _RecentScans(8192)


class PythonIndexer:
    """Indexes Python source with tree-sitter: definitions, references, imports, attributes,
    ``__all__`` entries, keyword-argument names, dotted-path strings and docstring mentions."""

    name = "python"
    suffixes = (".py", ".pyi")
    version = "py-3"

    def __init__(self) -> None:
        self._parser: Parser | None = None  # made on the first scan (see _grammar)

    def index(self, path: str, source: bytes) -> FileIndex:
        """Parse ``source`` (the content of repo path ``path``) and list what it holds.

        Bytes this process scanned lately (here or in a RepoIndex) are not parsed again:
        a scan is a pure function of the bytes (an edit re-reads what the index read).
        """
        sha = hashlib.sha256(source).digest()
        scan = RECENT.get(sha)
        if scan is None:
            scan = self.scan(source)
            RECENT.put(sha, scan)
        return materialise(path, sha, scan)

    def scan(self, source: bytes) -> Scan:
        """The path-independent part of indexing: parse and classify."""
        language, query = _grammar()
        if self._parser is None:
            self._parser = Parser(language)
        root = self._parser.parse(source).root_node
        walk = _Walk(source.split(b"\n"))
        captures = QueryCursor(query).captures(root)
        walk.set_scopes([n for kind in ("class", "scope") for n in captures.get(kind, ())])
        for kind in ("reference", "definition", "keyword"):
            for node in captures.get(kind, ()):
                walk.put(node, kind)
        for node in captures.get("attribute", ()):
            obj = node.parent.child_by_field_name("object") if node.parent else None
            walk.put(node, "attribute", _text(obj) if obj is not None else "")
        imports: list[str] = []
        for stmt in sorted(captures.get("import_stmt", ()), key=lambda n: n.start_byte):
            _import(stmt, walk, imports)
        for cls in captures.get("class", ()):
            walk.class_fact(cls)
        for string in captures.get("string", ()):
            walk.string(string)
        walk.module_all(root)
        walk.docstrings(root)
        rows = walk.rows()
        errors = _syntax_errors(root) if root.has_error else ()
        facts = tuple(sorted(set(walk.facts)))
        return Scan(tuple(rows), tuple(dict.fromkeys(imports)), errors, facts)


class _Walk:
    """The rows and facts of one scan, gathered from the nodes handed to it."""

    def __init__(self, lines: list[bytes]) -> None:
        self.lines = lines
        self.best: dict[tuple[int, int], tuple[int, Node, str, str, str]] = {}
        self.extra: list[Row] = []
        self.facts: list[tuple[str, ...]] = []
        self._scopes: list[tuple[int, int, str, int]] = []  # start, end, qualname, parent index
        self._starts: list[int] = []

    def put(self, node: Node, kind: str, qualifier: str = "", scope: str = "") -> None:
        rank = _RANK[kind]
        key = (node.start_byte, node.end_byte)
        prev = self.best.get(key)
        if prev is None or prev[0] < rank:
            self.best[key] = (rank, node, kind, qualifier, scope)

    def rows(self) -> list[Row]:
        out = list(self.extra)
        for _rank, node, kind, qualifier, scope in self.best.values():
            if kind == "definition":
                scope = _scope(node)
                self._inst_fact(node)
            out.append(_row(self.lines, node, kind, qualifier, scope, self.owner(node)))
        out.sort()
        return out

    def owner(self, node: Node) -> str:
        """The qualified name of the scope ``node`` sits in ("" = module level).

        A def's or class's own name sits before the scope's interval (which starts
        at the parameters or the body), so it belongs to the enclosing scope.
        """
        pos = node.start_byte
        i = bisect.bisect_right(self._starts, pos) - 1
        while i >= 0:
            start, end, name, parent = self._scopes[i]
            if start <= pos < end:
                return name
            i = parent
        return ""

    def set_scopes(self, nodes: list[Node]) -> None:
        """Scope intervals from the def/class/lambda/comprehension nodes, nested by position."""
        intervals: list[tuple[int, int, Node]] = []
        for node in nodes:
            inner = (
                node.child_by_field_name("parameters")
                if node.type == "function_definition"
                else node.child_by_field_name("body")
                if node.type == "class_definition"
                else node
            )
            if inner is not None:
                intervals.append((inner.start_byte, node.end_byte, node))
        intervals.sort(key=lambda t: (t[0], -t[1]))
        stack: list[int] = []
        for start, end, node in intervals:
            while stack and self._scopes[stack[-1]][1] <= start:
                stack.pop()
            parent = stack[-1] if stack else -1
            outer = self._scopes[parent][2] if parent >= 0 else ""
            if node.type in ("function_definition", "class_definition"):
                own = _text(node.child_by_field_name("name"))
            else:
                row, col = node.start_point
                own = f"<{'lambda' if node.type == 'lambda' else 'comp'}@{row + 1}:{col}>"
            self._scopes.append((start, end, f"{outer}.{own}" if outer else own, parent))
            stack.append(len(self._scopes) - 1)
        self._starts = [sc[0] for sc in self._scopes]

    def _inst_fact(self, ident: Node) -> None:
        """``var = Callee(...)``, ``var: T = ...`` and ``param: T``: what ``var`` may hold."""
        parent = ident.parent
        if parent is None:
            return
        type_node: Node | None = None
        if parent.type == "assignment" and parent.child_by_field_name("left") == ident:
            type_node = parent.child_by_field_name("type")
            right = parent.child_by_field_name("right")
            if type_node is None and right is not None and right.type == "call":
                callee = right.child_by_field_name("function")
                if callee is not None and callee.type in ("identifier", "attribute"):
                    held = _text(callee)
                    if held.rsplit(".", 1)[-1] == "import_module":
                        held = _imported_module(right) or held
                    self.facts.append(("inst", self.owner(ident), _text(ident), held))
                return
        elif parent.type in ("typed_parameter", "typed_default_parameter"):
            type_node = parent.child_by_field_name("type")
        if type_node is not None:
            text = _text(type_node).strip().strip("'\"").split("[", 1)[0].strip()
            if _CHAIN.fullmatch(text):
                self.facts.append(("inst", self.owner(ident), _text(ident), text))

    def class_fact(self, cls: Node) -> None:
        name = cls.child_by_field_name("name")
        if name is None:
            return
        owner = self.owner(name)
        qualname = f"{owner}.{_text(name)}" if owner else _text(name)
        bases = cls.child_by_field_name("superclasses")
        texts = [
            _text(b)
            for b in (bases.named_children if bases is not None else ())
            if b.type in ("identifier", "attribute")
        ]
        self.facts.append(("class", qualname, *texts))

    def string(self, node: Node) -> None:
        """Dotted-path strings, and the attribute names of getattr-like calls, as rows."""
        content = _plain_content(node)
        if content is None:
            return
        text = _text(content)
        arg0 = _attr_call_receiver(node)
        if arg0 is not None and _CHAIN.fullmatch(text) and "." not in text:
            row = self._row_at(content, 0, len(text), text, "string", arg0, "getattr")
            self.extra.append(row)
            return
        if ("." not in text and ":" not in text) or not _DOTTED_STRING.fullmatch(text):
            return
        for start, end in _components(text):
            prefix = text[: max(start - 1, 0)].replace(":", ".")
            self.extra.append(self._row_at(content, start, end, text[start:end], "string", prefix))

    def module_all(self, root: Node) -> None:
        """``__all__ = [...]`` / ``__all__ += [...]`` at module level: entries and a fact."""
        names: list[str] = []
        for stmt in root.named_children:
            if stmt.type != "expression_statement" or not stmt.named_children:
                continue
            assign = stmt.named_children[0]
            if assign.type not in ("assignment", "augmented_assignment"):
                continue
            left, right = assign.child_by_field_name("left"), assign.child_by_field_name("right")
            if _text(left) != "__all__" or right is None or right.type not in ("list", "tuple"):
                continue
            for item in right.named_children:
                content = _plain_content(item) if item.type == "string" else None
                if content is not None:
                    value = _text(content)
                    names.append(value)
                    self.extra.append(self._row_at(content, 0, len(value), value, "all_entry", ""))
        if names:
            self.facts.append(("all", *names))

    def docstrings(self, root: Node) -> None:
        """Code-like mentions in docstrings (module, class, def) as ``doc`` rows."""
        stack = [root]
        while stack:
            node = stack.pop()
            body = node if node.type == "module" else node.child_by_field_name("body")
            if body is not None:
                first = body.named_children[0] if body.named_children else None
                if first is not None and first.type == "expression_statement":
                    string = first.named_children[0] if first.named_children else None
                    if string is not None and string.type == "string":
                        self._doc(string)
                stack.extend(
                    c
                    for c in _walk_defs(body)
                    if c.type in ("function_definition", "class_definition")
                )

    def _doc(self, string: Node) -> None:
        content = _plain_content(string, multiline=True)
        if content is None:
            return
        text = _text(content)
        for start, end in _doc_mentions(text):
            chain = text[start:end]
            offset = start
            for part in chain.split("."):
                prefix = text[start:offset].rstrip(".")
                self.extra.append(
                    self._row_at(content, offset, offset + len(part), part, "doc", prefix)
                )
                offset += len(part) + 1

    def _row_at(
        self,
        content: Node,
        start: int,
        end: int,
        name: str,
        kind: str,
        qualifier: str,
        scope: str = "",
    ) -> Row:
        """A row for characters ``start:end`` of ``content``'s text (which may span lines)."""
        text = _text(content)
        row0, col0 = content.start_point
        before = text[:start]
        newlines = before.count("\n")
        row = row0 + newlines
        line = self.lines[row] if row < len(self.lines) else b""
        line_text = line.decode("utf-8", "replace")
        if newlines:
            column = start - (before.rfind("\n") + 1)
        else:
            column = len(line[:col0].decode("utf-8", "replace")) + start
        context = line_text.strip()
        return (
            row + 1,
            column,
            column + (end - start),
            name,
            kind,
            context,
            qualifier,
            scope,
            self.owner(content),
        )


def _walk_defs(body: Node) -> list[Node]:
    """Defs and classes directly in ``body``, looking through decorators and if/try blocks."""
    out: list[Node] = []
    stack = list(body.named_children)
    while stack:
        node = stack.pop()
        if node.type == "decorated_definition":
            inner = node.child_by_field_name("definition")
            if inner is not None:
                out.append(inner)
        elif node.type in ("function_definition", "class_definition"):
            out.append(node)
        elif node.type in (
            "if_statement",
            "try_statement",
            "block",
            "else_clause",
            "elif_clause",
            "except_clause",
            "finally_clause",
            "with_statement",
        ):
            stack.extend(node.named_children)
    return out


def _plain_content(string: Node, *, multiline: bool = False) -> Node | None:
    """The one ``string_content`` of a plain (not f-, not bytes) string, else None."""
    if string.type != "string":
        return None
    start = string.named_children[0] if string.named_children else None
    if start is None or start.type != "string_start":
        return None
    prefix = _text(start).lower()
    if "f" in prefix or "b" in prefix:
        return None
    contents = [c for c in string.named_children if c.type not in ("string_start", "string_end")]
    if len(contents) != 1 or contents[0].type != "string_content":
        return None
    content = contents[0]
    if not multiline and content.start_point[0] != content.end_point[0]:
        return None
    return content


def _imported_module(call: Node) -> str | None:
    """``module:pkg.mod`` for ``importlib.import_module("pkg.mod")``, else None."""
    args = call.child_by_field_name("arguments")
    first = args.named_children[0] if args is not None and args.named_children else None
    content = _plain_content(first) if first is not None else None
    text = _text(content) if content is not None else ""
    return f"module:{text}" if _CHAIN.fullmatch(text) else None


def _attr_call_receiver(string: Node) -> str | None:
    """The first argument's text when ``string`` is the second of getattr(obj, "x")-like calls."""
    args = string.parent
    if args is None or args.type != "argument_list":
        return None
    call = args.parent
    if call is None or call.type != "call":
        return None
    fn = _text(call.child_by_field_name("function"))
    if fn not in _ATTR_CALLS and not fn.endswith("patch.object"):
        return None
    positional = [c for c in args.named_children if c.type not in ("keyword_argument", "comment")]
    if len(positional) < 2 or positional[1] != string:
        return None
    return _text(positional[0])


def _components(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each identifier of ``a.b:c.d``."""
    return [(m.start(), m.end()) for m in re.finditer(_ID, text)]


def _doc_mentions(text: str) -> list[tuple[int, int]]:
    """Spans of the dotted names a docstring mentions as code.

    Code-like: inside a Sphinx role or backticks, on a doctest line (``>>>``,
    ``...``), followed by ``(``, dotted, or spelled like code (an underscore, a
    digit, an inner capital). A plain lowercase word in prose is not a mention.
    """
    spans: set[tuple[int, int]] = set()
    for m in _ROLE.finditer(text):
        spans.add((m.start(1), m.end(1)))
    for m in re.finditer(r"``?([^`\n]+)``?", text):
        for c in _CHAIN.finditer(m.group(1)):
            spans.add((m.start(1) + c.start(), m.start(1) + c.end()))
    offset = 0
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith((">>> ", "... ")):
            for c in _CHAIN.finditer(line):
                spans.add((offset + c.start(), offset + c.end()))
        offset += len(line) + 1
    for c in _CHAIN.finditer(text):
        word = c.group(0)
        after = text[c.end() : c.end() + 1]
        if (
            "." in word
            or after == "("
            or "_" in word.strip("_")
            or any(ch.isdigit() for ch in word)
            or any(ch.isupper() for ch in word[1:])
        ):
            spans.add((c.start(), c.end()))
    # A chain found both whole and in part keeps the whole (no overlapping rows).
    kept: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if kept and span[0] < kept[-1][1]:
            continue
        if span[0] > 0 and (text[span[0] - 1].isalnum() or text[span[0] - 1] in "_."):
            continue
        kept.append(span)
    return kept


def _import(stmt: Node, walk: _Walk, imports: list[str]) -> None:
    if stmt.type == "future_import_statement":
        return
    owner = walk.owner(stmt)
    if stmt.type == "import_statement":
        for item in stmt.named_children:
            dotted = item.child_by_field_name("name") if item.type == "aliased_import" else item
            if dotted is None:
                continue
            for ident in dotted.named_children:
                walk.put(ident, "module")
            imports.append(_text(dotted))
            asname = ""
            if item.type == "aliased_import":
                alias = item.child_by_field_name("alias")
                if alias is not None:
                    walk.put(alias, "import", _text(dotted), "alias")
                    asname = _text(alias)
            walk.facts.append(("import", _text(dotted), asname, owner))
        return
    module = stmt.child_by_field_name("module_name")
    if module is None:
        return
    spec = _text(module)
    for ident in _identifiers(module):
        walk.put(ident, "module")
    imports.append(spec)
    if any(c.type == "wildcard_import" for c in stmt.children):
        walk.facts.append(("from", spec, "*", "", owner))
    for item in stmt.children_by_field_name("name"):
        dotted = item.child_by_field_name("name") if item.type == "aliased_import" else item
        if dotted is None:
            continue
        for ident in dotted.named_children:
            walk.put(ident, "import", spec)
        sep = "" if spec.endswith(".") else "."
        imports.append(spec + sep + _text(dotted))
        asname = ""
        if item.type == "aliased_import":
            alias = item.child_by_field_name("alias")
            if alias is not None:
                walk.put(alias, "import", spec, "alias")
                asname = _text(alias)
        walk.facts.append(("from", spec, _text(dotted), asname, owner))


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
            owner,
        )
        for line, col, end, name, kind, context, qualifier, scope, owner in scan.rows
    )
    imports: list[str] = []
    for spec in scan.raw_imports:
        resolved = resolve_module(spec, package)
        if resolved:
            imports.append(resolved)
    return FileIndex(
        path,
        sha256,
        occurrences,
        tuple(dict.fromkeys(imports)),
        scan.syntax_errors,
        scan.facts,
    )


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


def _row(lines: list[bytes], node: Node, kind: str, qualifier: str, scope: str, owner: str) -> Row:
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
    return (row + 1, column, end_column, _text(node), kind, text.strip(), qualifier, scope, owner)


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
