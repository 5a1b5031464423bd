"""RulesBrain: deterministic codemods over the scout's index. No model.

A rename or add-param names one symbol (``name``, ``Class.attr``,
``pkg.mod.name``, ``pkg.mod.Class.attr`` or ``pkg.mod:Class.attr``); a bare
name that several definitions share is refused with the candidates, an
unknown one with the closest names (:func:`resolve_target`, which the
mission planner calls before anything runs).

What a rename changes: every occurrence the scout's resolver
(:class:`swarm.scout.Symbols`) resolves to that symbol and spells by its own
name: its definitions in the module and its ``.pyi`` stub, bare uses in any
scope that sees it, ``from m import name`` through any chain of re-exports
(``from .x import *`` honouring ``__all__``, ``from .x import name``),
``alias.name`` after ``import pkg as alias``, ``obj.name`` when ``obj``
resolves to the module, the class, a subclass or an instance, ``__all__``
entries, dotted-path strings (``mock.patch("pkg.mod.name")``,
``"pkg.mod:name"``, ``getattr(mod, "name")``) and entry points in
``pyproject.toml``/``setup.cfg``; with ``in_docs``, code-like mentions in
docstrings too (Sphinx roles, backticks, doctest lines).

Left alone: names bound under another name (``import name as other``
keeps ``other``), locals that shadow the symbol, keyword-argument names,
comments, and every use that resolves elsewhere (a same-named function in
another module, an attribute of an external object). The one judgement
call: ``x.name`` where ``x``'s type is unknown is changed only when no other
class in the repository defines ``name``; otherwise it is left and listed in
the rationale as uncertain.
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import tree_sitter_python
from tree_sitter import Language, Node, Parser

from swarm.brain._diff import apply_patch, parse_unified_diff
from swarm.brain._errors import AmbiguousSymbol, InvalidRequest, PatchDoesNotApply, UnknownSymbol
from swarm.brain._types import REQUEST_KINDS, EditRequest, FileEdit, Proposal
from swarm.scout import (
    AmbiguousSymbol as ScoutAmbiguous,
)
from swarm.scout import (
    NotInRepository,
    Occurrence,
    PythonIndexer,
    RepoIndex,
    Symbol,
    SymbolNotFound,
    Symbols,
)

_PARSER = Parser(Language(tree_sitter_python.language()))
_TARGET = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?::[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?")
_CONFIG_FILES = ("pyproject.toml", "setup.cfg")
_CONFIG_PATH = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?"
)
_TRUE = ("1", "true", "yes", "on")


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
        _target("old", p["old"])
        _identifier("new", p["new"])
        if _last(p["old"]) == p["new"]:
            raise InvalidRequest(f"rename: old and new are both {p['new']!r}")
        flag = p.get("in_docs", "")
        if flag and flag.lower() not in (*_TRUE, "0", "false", "no", "off"):
            raise InvalidRequest(f"rename: in_docs {flag!r} is not a yes/no value")
    elif request.kind == "add_param":
        _target("function", p["function"])
        _identifier("param", p["param"])
        for key in ("default", "value"):
            if key in p:
                try:
                    compile(p[key], "<request>", "eval", dont_inherit=True)  # no AST objects
                except (SyntaxError, ValueError):
                    raise InvalidRequest(
                        f"add_param: {key} {p[key]!r} is not a Python expression"
                    ) from None


def _identifier(key: str, value: str) -> None:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise InvalidRequest(f"{key} {value!r} is not a Python identifier")


def _target(key: str, value: str) -> None:
    if not _TARGET.fullmatch(value) or any(keyword.iskeyword(p) for p in re.split("[.:]", value)):
        raise InvalidRequest(
            f"{key} {value!r} is not a symbol: expected name, Class.attr, pkg.mod.name "
            "or pkg.mod:Class.attr"
        )


def _last(target: str) -> str:
    return re.split("[.:]", target)[-1]


def resolve_target(request: EditRequest, index: RepoIndex) -> Symbol | None:
    """The one symbol a rename/add_param request names (None for other kinds).

    Raises UnknownSymbol (with the closest names) or AmbiguousSymbol (with the
    qualified candidates), so a mistyped or ambiguous request is refused
    before anything runs.
    """
    validate(request)
    key = {"rename": "old", "add_param": "function"}.get(request.kind)
    if key is None:
        return None
    target = request.params[key]
    try:
        return index.symbols().resolve_target(target)
    except SymbolNotFound as exc:
        raise UnknownSymbol(target, exc.suggestions) from None
    except ScoutAmbiguous as exc:
        raise AmbiguousSymbol(target, exc.candidates) from None


def _in_docs(params: Mapping[str, str]) -> bool:
    return params.get("in_docs", "").lower() in _TRUE


class RulesBrain:
    """Deterministic codemods: rename, add a parameter, apply a diff. No model."""

    name = "rules"

    def __init__(self) -> None:
        # The last plan, for the index state it was made on: a mission's coders ask for
        # one file each, and resolving the symbol again per file would be O(files²).
        self._plan: tuple[object, tuple[str, ...], _RenamePlan | _AddParamPlan] | None = None

    def _cached(self, request: EditRequest, index: RepoIndex) -> _RenamePlan | _AddParamPlan | None:
        key = (request.kind, *sorted(f"{k}={v}" for k, v in request.params.items()))
        if self._plan is not None and self._plan[0] is index.symbols() and self._plan[1] == key:
            return self._plan[2]
        return None

    def _remember(
        self, request: EditRequest, index: RepoIndex, plan: _RenamePlan | _AddParamPlan
    ) -> None:
        key = (request.kind, *sorted(f"{k}={v}" for k, v in request.params.items()))
        self._plan = (index.symbols(), key, plan)

    def _rename_plan(self, request: EditRequest, index: RepoIndex) -> _RenamePlan:
        plan = self._cached(request, index)
        if not isinstance(plan, _RenamePlan):
            plan = _RenamePlan.of(request, index)
            self._remember(request, index, plan)
        return plan

    def _add_param_plan(self, request: EditRequest, index: RepoIndex) -> _AddParamPlan:
        plan = self._cached(request, index)
        if not isinstance(plan, _AddParamPlan):
            plan = _AddParamPlan(index, request.params)
            self._remember(request, index, plan)
        return plan

    def targets(self, request: EditRequest, index: RepoIndex) -> list[str]:
        """The repo paths this request changes, sorted."""
        validate(request)
        if request.kind == "patch":
            return sorted(
                {_normalise(index, fp.path) for fp in parse_unified_diff(request.params["diff"])}
            )
        if request.kind == "rename":
            return self._rename_plan(request, index).targets()
        if request.kind == "add_param":
            return self._add_param_plan(request, index).targets()
        raise InvalidRequest(
            f"the rules brain cannot answer {request.kind!r} requests: they need a model (openai)"
        )

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
        if request.kind == "rename":
            return self._rename_plan(request, index).edit(path, source)
        if request.kind == "add_param":
            plan_a = self._add_param_plan(request, index)
            fresh = PythonIndexer().index(path, source.encode())
            text, defs, calls = plan_a.apply(path, source, fresh.occurrences)
            return FileEdit(
                path,
                text,
                f"added {p['param']}={p['default']} to {defs} definition(s) of "
                f"{plan_a.symbol}, {calls} call(s)",
            )
        raise InvalidRequest(
            f"the rules brain cannot answer {request.kind!r} requests: they need a model (openai)"
        )

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


def _config_files(root: Path) -> list[str]:
    """Repo paths of the packaging files that may name entry points (hidden folders skipped)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d not in ("node_modules", "__pycache__")
        )
        for name in filenames:
            if name in _CONFIG_FILES:
                found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)


class _Uses:
    """Which occurrences in a file resolve to one symbol (shared by rename and add-param)."""

    def __init__(self, index: RepoIndex, symbol: Symbol, *, in_docs: bool, aliases: bool) -> None:
        self.index, self.symbol = index, symbol
        self.symbols: Symbols = index.symbols()
        self.in_docs = in_docs
        self.aliases = aliases  # add-param follows ``import f as g``; a rename must not
        self.names = {symbol.name}
        if aliases:
            self.names |= self._alias_names()
        # An unknown receiver ``x.name`` could mean these too (see the module docstring).
        self.rivals = self.symbols.others_named(symbol) if symbol.owner else []

    def _alias_names(self) -> set[str]:
        names: set[str] = set()
        for path in self.index.files():
            for o in self.index.file(path).occurrences:
                if o.kind == "import" and o.scope == "alias" and o.name not in self.names:
                    binding = self.symbols.binding(path, o.name)
                    if self._is(binding, allow_alias=True):
                        names.add(o.name)
        return names

    def _is(self, value: object, *, allow_alias: bool) -> bool:
        from swarm.scout._symbols import _Value

        if not isinstance(value, _Value) or value.kind != "symbol":
            return False
        if value.alias and not allow_alias:
            return False
        return (value.stem, value.qualname) == (self.symbol.stem, self.symbol.qualname)

    def candidates(self) -> list[str]:
        """Paths holding an occurrence spelled like the symbol (a superset of the targets)."""
        paths: set[str] = set()
        for name in self.names:
            paths.update(o.path for o in self.index.find(name))
        paths.update(self.symbols.paths_of(self.symbol.stem))
        return sorted(paths)

    def select(
        self, occurrences: Iterable[Occurrence]
    ) -> tuple[list[Occurrence], list[Occurrence]]:
        """(the occurrences that are the symbol, those that may be but cannot be told)."""
        chosen: list[Occurrence] = []
        unsure: list[Occurrence] = []
        for o in occurrences:
            if o.name not in self.names or o.kind in ("module", "keyword"):
                continue
            if o.kind == "doc" and not self.in_docs:
                continue
            if o.kind == "import" and o.scope == "alias" and not self.aliases:
                continue
            value = self.symbols.meaning(o)
            if self._is(value, allow_alias=self.aliases):
                chosen.append(o)
            elif (
                o.kind == "attribute"
                and self.symbol.owner
                and getattr(value, "kind", "") == "unknown"
            ):
                (unsure if self.rivals else chosen).append(o)
        return chosen, unsure


class _RenamePlan:
    """Which occurrences a rename changes, in Python files and in packaging files."""

    def __init__(self, index: RepoIndex, symbol: Symbol, new: str, *, in_docs: bool) -> None:
        self.index, self.symbol, self.new = index, symbol, new
        self.uses = _Uses(index, symbol, in_docs=in_docs, aliases=False)
        self._clash()

    @classmethod
    def of(cls, request: EditRequest, index: RepoIndex) -> _RenamePlan:
        symbol = resolve_target(request, index)
        assert symbol is not None
        return cls(index, symbol, request.params["new"], in_docs=_in_docs(request.params))

    def _clash(self) -> None:
        symbols = self.index.symbols()
        owner = self.symbol.owner
        taken = symbols.kind_of(self.symbol.stem, f"{owner}.{self.new}" if owner else self.new)
        if taken:
            where = f"class {owner} of {self.symbol.module}" if owner else self.symbol.module
            raise InvalidRequest(f"rename: {self.new!r} is already defined in {where}")

    def targets(self) -> list[str]:
        out = [
            p for p in self.uses.candidates() if self._select(p, self.index.file(p).occurrences)[0]
        ]
        for path in _config_files(self.index.root):
            text = (self.index.root / path).read_text("utf-8", errors="replace")
            if self._config_spans(text):
                out.append(path)
        return sorted(set(out))

    def _select(
        self, path: str, occs: Iterable[Occurrence]
    ) -> tuple[list[Occurrence], list[Occurrence]]:
        return self.uses.select(occs)

    def edit(self, path: str, source: str) -> FileEdit:
        name = self.symbol.name
        if path.rsplit("/", 1)[-1] in _CONFIG_FILES:
            spans = self._config_spans(source)
            text = _replace(source, [(ln, c, e, self.new) for ln, c, e in spans])
            return FileEdit(
                path,
                text,
                f"renamed {len(spans)} entry point(s) naming {self.symbol} to {self.new}",
            )
        fresh = PythonIndexer().index(path, source.encode())
        chosen, unsure = self._select(path, fresh.occurrences)
        text = _replace(source, [(o.line, o.column, o.end_column, self.new) for o in chosen])
        why = f"renamed {len(chosen)} occurrence(s) of {self.symbol} to {self.new}"
        if unsure:
            sites = ", ".join(f"{o.line}:{o.column} {o.qualifier}.{name}" for o in unsure[:10])
            why += (
                f"; left {len(unsure)} use(s) whose receiver's type is unknown while other "
                f"classes also define {name} ({sites})"
            )
        return FileEdit(path, text, why)

    def _config_spans(self, text: str) -> list[tuple[int, int, int]]:
        """(line, column, end) of the symbol's name in dotted paths of a packaging file."""
        symbols = self.index.symbols()
        spans: list[tuple[int, int, int]] = []
        for number, line in enumerate(text.split("\n"), 1):
            if self.symbol.name not in line:
                continue
            for m in _CONFIG_PATH.finditer(line):
                value = m.group(0)
                if "." not in value and ":" not in value:
                    continue
                for part in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", value):
                    if part.group(0) != self.symbol.name or part.start() == 0:
                        continue
                    prefix = value[: part.start() - 1].replace(":", ".")
                    meaning = symbols.attr_value(symbols.dotted_value(prefix), part.group(0))
                    if self.uses._is(meaning, allow_alias=False):
                        spans.append((number, m.start() + part.start(), m.start() + part.end()))
        return spans


class _AddParamPlan:
    """Where an added parameter goes: the definitions of the function, and its call sites."""

    def __init__(self, index: RepoIndex, params: Mapping[str, str]) -> None:
        self.param: str = params["param"]
        self.default: str = params["default"]
        self.value: str | None = params.get("value")
        self.index = index
        symbol = resolve_target(EditRequest("add_param", dict(params)), index)
        assert symbol is not None
        if symbol.kind != "function":
            raise InvalidRequest(
                f"add_param: {symbol} is a {symbol.kind or 'name'}, not a function"
            )
        self.symbol = symbol
        self.uses = _Uses(index, symbol, in_docs=False, aliases=True)
        self.homes = set(index.symbols().paths_of(symbol.stem))

    def targets(self) -> list[str]:
        out: list[str] = []
        for path in self.uses.candidates():
            chosen, _ = self.uses.select(self.index.file(path).occurrences)
            defines = path in self.homes and any(o.kind == "definition" for o in chosen)
            calls = self.value is not None and any(
                o.kind in ("reference", "attribute") for o in chosen
            )
            if defines or calls:
                out.append(path)
        return out

    def apply(
        self, path: str, source: str, occurrences: Iterable[Occurrence]
    ) -> tuple[str, int, int]:
        chosen_occ, _ = self.uses.select(occurrences)
        chosen = {(o.line, o.column) for o in chosen_occ}
        data = source.encode()
        tree = _PARSER.parse(data)
        inserts: list[tuple[int, str]] = []  # (byte offset, text)
        defs = calls = 0
        stub = path.endswith(".pyi")
        stack = [tree.root_node]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if node.type == "function_definition":
                name = node.child_by_field_name("name")
                params = node.child_by_field_name("parameters")
                if name is None or params is None or not _position_in(name, data, chosen):
                    continue
                if self.param in _param_names(params):
                    raise InvalidRequest(
                        f"add_param: {self.symbol} in {path} already has parameter {self.param!r}"
                    )
                default = "..." if stub else self.default  # stubs spell defaults as ...
                inserts.append(_param_insert(params, f"{self.param}={default}"))
                defs += 1
            elif node.type == "call" and self.value is not None:
                insert = self._call_insert(node, data, chosen)
                if insert is not None:
                    inserts.append(insert)
                    calls += 1
        for offset, text in sorted(inserts, reverse=True):
            data = data[:offset] + text.encode() + data[offset:]
        return data.decode(), defs, calls

    def _call_insert(
        self, node: Node, data: bytes, chosen: set[tuple[int, int]]
    ) -> tuple[int, str] | None:
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if fn is None or args is None or args.type != "argument_list":
            return None
        ident = fn if fn.type == "identifier" else fn.child_by_field_name("attribute")
        if ident is None or not _position_in(ident, data, chosen):
            return None
        if any(
            c.type == "keyword_argument" and _text(c.child_by_field_name("name")) == self.param
            for c in args.named_children
        ):
            return None
        named = [c for c in args.named_children if c.type != "comment"]
        if named:
            return named[-1].end_byte, f", {self.param}={self.value}"
        return args.end_byte - 1, f"{self.param}={self.value}"


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
    # Lines as the scout counts them: only "\n" ends one (a form feed or a lone "\r" does not).
    lines = source.split("\n")
    lines = [ln + "\n" for ln in lines[:-1]] + [lines[-1]]
    for line, col, end, text in sorted(set(spans), reverse=True):
        current = lines[line - 1]
        lines[line - 1] = current[:col] + text + current[end:]
    return "".join(lines)
