"""RulesBrain: deterministic codemods over the scout's index. No model.

Rename precision (Python):

* renamed: module- and class-level definitions of ``old``, every bare-name
  use and local binding of ``old`` (by name: a local that shadows the symbol
  is renamed too, consistently, so behaviour holds), ``from m import old``
  when ``m`` is a repo module, ``old`` entries in ``__all__`` of a module
  that defines or imports it, and ``x.old`` when ``x`` is bound to a repo
  module defining ``old`` (``import a.m``, ``import a.m as x``,
  ``from a import m``) or when ``old`` is a method/class attribute somewhere
  in the repo (the receiver's type is not known, so any ``x.old`` is taken);
* left alone: strings and comments, keyword-argument names (``f(old=1)``
  names a parameter), module paths in imports, ``x.old`` on receivers that
  are not repo modules when no class defines ``old``, and every file that
  imports ``old`` from a module outside the repository (its ``old`` is
  someone else's).
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Callable, Iterable

import tree_sitter_python
from tree_sitter import Language, Node, Parser

from swarm.brain._diff import apply_patch, parse_unified_diff
from swarm.brain._errors import InvalidRequest, PatchDoesNotApply, UnknownSymbol
from swarm.brain._types import REQUEST_KINDS, EditRequest, FileEdit, Proposal
from swarm.scout import NotInRepository, Occurrence, PythonIndexer, RepoIndex

_PARSER = Parser(Language(tree_sitter_python.language()))


def validate(request: EditRequest) -> None:
    """Refuse a request whose kind or params are wrong, naming the problem."""
    if request.kind not in REQUEST_KINDS:
        raise InvalidRequest(
            f"unknown request kind {request.kind!r}; expected one of {', '.join(REQUEST_KINDS)}"
        )
    missing = [k for k in REQUEST_KINDS[request.kind] if not request.params.get(k, "").strip()]
    if missing:
        raise InvalidRequest(f"{request.kind} needs param(s): {', '.join(missing)}")
    p = request.params
    if request.kind == "rename":
        for key in ("old", "new"):
            _identifier(key, p[key])
        if p["old"] == p["new"]:
            raise InvalidRequest(f"rename: old and new are both {p['old']!r}")
    elif request.kind == "add_param":
        _identifier("function", p["function"])
        _identifier("param", p["param"])
        for key in ("default", "value"):
            if key in p:
                try:
                    ast.parse(p[key], mode="eval")
                except SyntaxError:
                    raise InvalidRequest(
                        f"add_param: {key} {p[key]!r} is not a Python expression"
                    ) from None


def _identifier(key: str, value: str) -> None:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise InvalidRequest(f"{key} {value!r} is not a Python identifier")


class RulesBrain:
    """Deterministic codemods: rename, add a parameter, apply a diff. No model."""

    name = "rules"

    def targets(self, request: EditRequest, index: RepoIndex) -> list[str]:
        """The repo paths this request changes, sorted."""
        validate(request)
        if request.kind == "patch":
            return sorted(
                {_normalise(index, fp.path) for fp in parse_unified_diff(request.params["diff"])}
            )
        if request.kind == "rename":
            plan = _RenamePlan(index, request.params["old"], request.params["new"])
            return [p for p in index.files() if plan.select(p, index.file(p).occurrences)]
        if request.kind == "add_param":
            plan_a = _AddParamPlan(index, request.params)
            return [p for p in index.files() if plan_a.touches(index.file(p).occurrences)]
        raise InvalidRequest("the rules brain cannot answer free-form 'ask' requests; use openai")

    def edit(self, request: EditRequest, path: str, source: str, index: RepoIndex) -> FileEdit:
        """The new content of ``path`` (whose current text is ``source``) under this request."""
        validate(request)
        p = request.params
        if request.kind == "patch":
            path = _normalise(index, path)
            patches = [
                fp for fp in parse_unified_diff(p["diff"]) if _normalise(index, fp.path) == path
            ]
            if not patches:
                raise InvalidRequest(f"the diff does not touch {path}")
            new: str | None = source
            for fp in patches:
                new = apply_patch(fp, new if fp.old_path is not None else None)
            return FileEdit(path, new, f"applied {sum(len(fp.hunks) for fp in patches)} hunk(s)")
        fresh = PythonIndexer().index(path, source.encode())
        if request.kind == "rename":
            plan = _RenamePlan(index, p["old"], p["new"])
            chosen = plan.select(path, fresh.occurrences)
            text = _replace(source, [(o.line, o.column, o.end_column, p["new"]) for o in chosen])
            return FileEdit(
                path, text, f"renamed {len(chosen)} occurrence(s) of {p['old']} to {p['new']}"
            )
        if request.kind == "add_param":
            plan_a = _AddParamPlan(index, p)
            text, defs, calls = plan_a.apply(path, source, fresh.occurrences)
            return FileEdit(
                path,
                text,
                f"added {p['param']}={p['default']} to {defs} definition(s), {calls} call(s)",
            )
        raise InvalidRequest("the rules brain cannot answer free-form 'ask' requests; use openai")

    def propose(
        self, request: EditRequest, index: RepoIndex, read: Callable[[str], str]
    ) -> Proposal:
        """Every file's edit at once (no model, so the transcript is empty)."""
        edits: list[FileEdit] = []
        for path in self.targets(request, index):
            try:
                source = read(path)
            except (FileNotFoundError, KeyError):
                if request.kind != "patch":
                    raise
                source = None  # a diff may create the file
            if source is None:
                creating = [
                    fp
                    for fp in parse_unified_diff(request.params["diff"])
                    if _normalise(index, fp.path) == path and fp.old_path is None
                ]
                if not creating:
                    raise PatchDoesNotApply(path, 1, "", "the file does not exist")
                edits.append(FileEdit(path, apply_patch(creating[0], None), "created by the diff"))
                continue
            edits.append(self.edit(request, path, source, index))
        return Proposal(tuple(edits), f"{request.kind}: {len(edits)} file(s)", ())


def _normalise(index: RepoIndex, path: str) -> str:
    try:
        return index.normalise(path)
    except NotInRepository as exc:
        raise InvalidRequest(f"path {path!r} is outside the repository") from exc


class _RenamePlan:
    """Which occurrences of ``old`` a rename changes (see the module docstring)."""

    def __init__(self, index: RepoIndex, old: str, new: str) -> None:
        self.index, self.old, self.new = index, old, new
        defs = index.defines(old)
        if not defs:
            raise UnknownSymbol(old)
        self.module_defs = {o.path for o in defs if o.scope == "module"}
        self.class_member = any(o.scope == "class" for o in defs)
        clashes = sorted({o.path for o in index.defines(new)} & {o.path for o in defs})
        if clashes:
            raise InvalidRequest(f"rename: {new!r} is already defined in {', '.join(clashes)}")

    def _repo_module_defining(self, dotted: str) -> bool:
        path = self.index.module_path(dotted) if dotted else None
        return path is not None and path in self.module_defs

    def select(self, path: str, occurrences: Iterable[Occurrence]) -> list[Occurrence]:
        occs = list(occurrences)
        mine = [o for o in occs if o.name == self.old]
        if not mine:
            return []
        imports = [o for o in mine if o.kind == "import"]
        if any(self.index.module_path(o.qualifier) is None for o in imports):
            return []  # this file's `old` comes from outside the repository
        bindings: dict[str, list[str]] = {}
        for o in occs:
            if o.kind == "import":
                bindings.setdefault(o.name, []).extend([o.qualifier, f"{o.qualifier}.{o.name}"])
        has_symbol = path in self.module_defs or bool(imports)
        chosen: list[Occurrence] = []
        for o in mine:
            plain = o.kind in ("definition", "reference", "import")
            if plain or (o.kind == "all_entry" and has_symbol):
                chosen.append(o)
            elif o.kind == "attribute":
                candidates = [o.qualifier, *bindings.get(o.qualifier, [])]
                if self.class_member or any(self._repo_module_defining(c) for c in candidates):
                    chosen.append(o)
        return chosen


class _AddParamPlan:
    """Where an added parameter goes: the definitions of ``function``, and its call sites."""

    def __init__(self, index: RepoIndex, params: object) -> None:
        p = dict(params)  # type: ignore[call-overload]
        self.function: str = p["function"]
        self.param: str = p["param"]
        self.default: str = p["default"]
        self.value: str | None = p.get("value")
        functions = [
            o for o in index.defines(self.function) if o.context.startswith(("def ", "async def "))
        ]
        if not functions:
            raise UnknownSymbol(self.function)
        self.rename = _RenamePlan.__new__(_RenamePlan)
        self.rename.index, self.rename.old, self.rename.new = index, self.function, self.function
        self.rename.module_defs = {o.path for o in functions if o.scope == "module"}
        self.rename.class_member = any(o.scope == "class" for o in functions)

    def touches(self, occurrences: Iterable[Occurrence]) -> bool:
        chosen = [o for o in occurrences if o.name == self.function]
        if any(
            o.kind == "definition" and o.context.startswith(("def ", "async def ")) for o in chosen
        ):
            return True
        return self.value is not None and any(o.kind in ("reference", "attribute") for o in chosen)

    def apply(
        self, path: str, source: str, occurrences: Iterable[Occurrence]
    ) -> tuple[str, int, int]:
        chosen = {(o.line, o.column) for o in self.rename.select(path, occurrences)}
        data = source.encode()
        tree = _PARSER.parse(data)
        inserts: list[tuple[int, str]] = []  # (byte offset, text)
        defs = calls = 0
        stack = [tree.root_node]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if node.type == "function_definition":
                name = node.child_by_field_name("name")
                params = node.child_by_field_name("parameters")
                if name is None or params is None or _text(name) != self.function:
                    continue
                if not _position_in(name, data, chosen):
                    continue
                if self.param in _param_names(params):
                    raise InvalidRequest(
                        f"add_param: {self.function} in {path} already has parameter {self.param!r}"
                    )
                inserts.append(_param_insert(params, f"{self.param}={self.default}"))
                defs += 1
            elif node.type == "call" and self.value is not None:
                fn = node.child_by_field_name("function")
                args = node.child_by_field_name("arguments")
                if fn is None or args is None or args.type != "argument_list":
                    continue
                ident = fn if fn.type == "identifier" else fn.child_by_field_name("attribute")
                if (
                    ident is None
                    or _text(ident) != self.function
                    or not _position_in(ident, data, chosen)
                ):
                    continue
                if any(
                    c.type == "keyword_argument"
                    and _text(c.child_by_field_name("name")) == self.param
                    for c in args.named_children
                ):
                    continue
                named = [c for c in args.named_children if c.type != "comment"]
                if named:
                    inserts.append((named[-1].end_byte, f", {self.param}={self.value}"))
                else:
                    inserts.append((args.end_byte - 1, f"{self.param}={self.value}"))
                calls += 1
        for offset, text in sorted(inserts, reverse=True):
            data = data[:offset] + text.encode() + data[offset:]
        return data.decode(), defs, calls


def _text(node: Node | None) -> str:
    return node.text.decode() if node is not None and node.text is not None else ""


def _position_in(ident: Node, data: bytes, chosen: set[tuple[int, int]]) -> bool:
    row, col = ident.start_point
    line_start = data.rfind(b"\n", 0, ident.start_byte) + 1
    column = len(data[line_start : line_start + col].decode("utf-8", "replace"))
    return (row + 1, column) in chosen


def _param_names(params: Node) -> set[str]:
    names: set[str] = set()
    for child in params.named_children:
        if child.type == "identifier":
            names.add(_text(child))
        else:
            name = child.child_by_field_name("name")
            if name is not None:
                names.add(_text(name))
            else:
                names.update(_text(c) for c in child.named_children if c.type == "identifier")
    return names


def _param_insert(params: Node, text: str) -> tuple[int, str]:
    """Before ``**kwargs`` if present, else after the last parameter (keyword-only after ``*``)."""
    named = [c for c in params.named_children if c.type != "comment"]
    for child in named:
        if child.type == "dictionary_splat_pattern":
            return child.start_byte, f"{text}, "
    if named:
        return named[-1].end_byte, f", {text}"
    return params.end_byte - 1, text


def _replace(source: str, spans: list[tuple[int, int, int, str]]) -> str:
    """Replace (line, column, end_column) character spans with new text."""
    lines = source.splitlines(keepends=True)
    for line, col, end, text in sorted(spans, reverse=True):
        current = lines[line - 1]
        lines[line - 1] = current[:col] + text + current[end:]
    return "".join(lines)
