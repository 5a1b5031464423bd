"""Symbol resolution over a RepoIndex: which definition a name, an attribute or a string means.

A :class:`Symbol` is one definition: a module-level name or a class member,
identified by its module's *stem* (repo path without ``.py``/``.pyi``, so a
module and its stub are one) and its qualified name (``peekable.prepend``).

:class:`Symbols` answers, for one occurrence, what it resolves to, following
what Python does at import time:

* ``from .x import name``, ``from pkg import name`` and ``from .x import *``
  (honouring ``__all__``, else the public names) re-export a binding, through
  any number of ``__init__`` hops; ``import pkg`` / ``import pkg as alias`` bind
  a module, and ``alias.name`` is the module's binding of ``name`` (or its
  submodule);
* a bare name looks in its function scopes (parameters, assignments, local
  imports, ``global``), skips class bodies as Python does, then the module;
* ``obj.name`` resolves ``obj`` first: a module, a class (members looked up
  through the repo's base classes), an instance (``self``/``cls`` in a method,
  ``x = Class(...)``, ``x: Class``, ``Class(...)`` itself), or unknown.

Nothing here guesses: where a receiver's type is unknown the answer is
"unknown" and the caller (the rules brain) applies its documented rule.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from swarm.scout._errors import AmbiguousSymbol, SymbolNotFound
from swarm.scout._python import resolve_module
from swarm.scout._types import FileIndex, Occurrence

_CHAIN = re.compile(r"[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*")
_LITERAL_START = tuple("\"'[{(0123456789")


@dataclass(frozen=True, slots=True, order=True)
class Symbol:
    """One definition: ``stem`` (module path without suffix) and ``qualname``."""

    stem: str
    qualname: str
    module: str = field(compare=False, default="")  # dotted module name, for people
    kind: str = field(compare=False, default="")  # "function" | "class" | "variable"

    @property
    def name(self) -> str:
        """The last component: what the source spells."""
        return self.qualname.rsplit(".", 1)[-1]

    @property
    def owner(self) -> str:
        """The class qualname holding a member ("" for a module-level symbol)."""
        return self.qualname.rsplit(".", 1)[0] if "." in self.qualname else ""

    def __str__(self) -> str:
        return f"{self.module}:{self.qualname}"


@dataclass(frozen=True, slots=True)
class _Value:
    """What an expression resolves to."""

    kind: str  # "module" | "symbol" | "instance" | "external" | "unknown"
    stem: str = ""
    qualname: str = ""
    alias: bool = False  # reached through ``import x as y``: the spelling is not the symbol's


_UNKNOWN = _Value("unknown")
_EXTERNAL = _Value("external")


@dataclass(slots=True)
class _FileFacts:
    """One file's facts, arranged for lookups."""

    path: str
    stem: str
    module_defs: dict[str, str] = field(default_factory=dict)  # name -> kind
    members: dict[str, dict[str, str]] = field(default_factory=dict)  # class -> name -> kind
    classes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # qualname -> base texts
    local_defs: dict[str, dict[str, int]] = field(default_factory=dict)  # owner -> name -> count
    globals_: dict[str, set[str]] = field(default_factory=dict)
    froms: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # owner -> rows
    imports: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # owner -> rows
    all_names: tuple[str, ...] | None = None
    inst: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def _def_kind(context: str) -> str:
    if context.startswith("class "):
        return "class"
    if context.startswith(("def ", "async def ")):
        return "function"
    return "variable"


def _facts_of(fi: FileIndex, stem: str) -> _FileFacts:
    ff = _FileFacts(fi.path, stem)
    for o in fi.occurrences:
        if o.kind != "definition":
            continue
        kind = _def_kind(o.context)
        if o.scope == "module":
            if ff.module_defs.get(o.name) not in ("class", "function"):
                ff.module_defs[o.name] = kind
        elif o.scope == "class":
            slot = ff.members.setdefault(o.owner, {})
            if slot.get(o.name) not in ("class", "function"):
                slot[o.name] = kind
        elif o.context.startswith("global "):
            ff.globals_.setdefault(o.owner, set()).add(o.name)
        elif not o.context.startswith("nonlocal "):
            counts = ff.local_defs.setdefault(o.owner, {})
            counts[o.name] = counts.get(o.name, 0) + 1
    package = fi.path.split("/")[:-1]
    for fact in fi.facts:
        head = fact[0]
        if head == "from":
            spec, name, asname, owner = fact[1:5]
            ff.froms.setdefault(owner, []).append((resolve_module(spec, package), name, asname))
        elif head == "import":
            dotted, asname, owner = fact[1:4]
            ff.imports.setdefault(owner, []).append((dotted, asname))
        elif head == "all":
            ff.all_names = (*(ff.all_names or ()), *fact[1:])
        elif head == "class":
            ff.classes[fact[1]] = tuple(fact[2:])
        elif head == "inst":
            ff.inst.setdefault((fact[1], fact[2]), []).append(fact[3])
    return ff


class Symbols:
    """Resolution over one state of a RepoIndex (build a new one after the index changes)."""

    def __init__(
        self,
        files: Mapping[str, FileIndex],
        *,
        mentioning: Callable[[str], Iterable[str]] | None = None,
    ) -> None:
        # ``mentioning(name)``: a superset of the paths whose occurrences include
        # ``name`` (a lazy index reads each file only when asked); None: every path.
        self._index = files
        self._mentioning = mentioning
        self._facts: dict[str, _FileFacts] = {}
        self._bindings: dict[tuple[str, str], _Value] = {}
        self._definitions: list[Symbol] | None = None
        self._stems: dict[str, list[str]] = {}
        for path in sorted(files):
            if path.endswith((".py", ".pyi")):
                self._stems.setdefault(path.rsplit(".", 1)[0], []).append(path)
        for paths in self._stems.values():
            paths.sort(key=lambda p: (p.endswith(".pyi"), p))  # the .py first
        self._dotted = self._module_names()
        self._names_of_stem: dict[str, str] = {}
        for dotted, stem in sorted(self._dotted.items(), key=lambda kv: (len(kv[0]), kv[0])):
            self._names_of_stem.setdefault(stem, dotted)

    # -- modules ------------------------------------------------------------------

    def _module_names(self) -> dict[str, str]:
        """dotted module name -> stem, from every import root (a folder without __init__.py).

        ``src/pkg/core.py`` answers to ``pkg.core`` (root ``src``) and
        ``src.pkg.core``; ``pkg/json.py`` never answers to ``json`` because
        ``pkg`` is a package, not a root. The shortest root wins a clash.
        """
        inits = {
            posixpath.dirname(s) for s in self._stems if s.endswith("/__init__") or s == "__init__"
        }
        table: dict[str, tuple[int, str]] = {}
        for stem in self._stems:
            parts = stem.split("/")
            mod_parts = parts[:-1] if parts[-1] == "__init__" else parts
            for depth in range(len(parts)):
                root = "/".join(parts[:depth])
                if depth and root in inits:
                    continue
                dotted = ".".join(mod_parts[depth:])
                if not dotted:
                    continue
                prev = table.get(dotted)
                if prev is None or (depth, stem) < prev:
                    table[dotted] = (depth, stem)
        return {d: s for d, (_, s) in table.items()}

    def module_stem(self, dotted: str) -> str | None:
        """The stem of repo module ``dotted``; None when it is not a repository module."""
        return self._dotted.get(dotted)

    def module_of(self, stem: str) -> str:
        """The dotted name people import ``stem`` by."""
        return self._names_of_stem.get(stem, stem.replace("/", "."))

    def stem_of(self, path: str) -> str:
        return path.rsplit(".", 1)[0]

    def paths_of(self, stem: str) -> list[str]:
        """The files of one module: its ``.py`` then its ``.pyi`` stub."""
        return list(self._stems.get(stem, ()))

    def _file(self, path: str) -> _FileFacts:
        ff = self._facts.get(path)
        if ff is None:
            ff = _facts_of(self._index[path], self.stem_of(path))
            self._facts[path] = ff
        return ff

    def _primary(self, stem: str) -> _FileFacts | None:
        paths = self._stems.get(stem)
        return self._file(paths[0]) if paths else None

    def _submodule(self, stem: str, name: str) -> str | None:
        base = stem[: -len("/__init__")] if stem.endswith("/__init__") else None
        if base is None and stem == "__init__":
            base = ""
        if base is None:
            return None
        for candidate in (
            f"{base}/{name}" if base else name,
            f"{base}/{name}/__init__" if base else f"{name}/__init__",
        ):
            if candidate in self._stems:
                return candidate
        return None

    # -- bindings -----------------------------------------------------------------

    def binding(self, path: str, name: str) -> _Value:
        """What module-level ``name`` is bound to in file ``path``."""
        key = (path, name)
        cached = self._bindings.get(key)
        if cached is not None:
            return cached
        self._bindings[key] = _UNKNOWN  # a cycle of star imports resolves to unknown
        value = self._binding(self._file(path), name)
        self._bindings[key] = value
        return value

    def _binding(self, ff: _FileFacts, name: str) -> _Value:
        explicit = self._imported(ff, "", name)
        if explicit is not None and (explicit.kind != "external" or name not in ff.module_defs):
            return explicit
        if name in ff.module_defs:
            return _Value("symbol", ff.stem, name)
        for spec, imported, _as in ff.froms.get("", ()):
            if imported != "*":
                continue
            stem = self.module_stem(spec)
            if stem is None:
                continue
            if self._exports(stem, name):
                return self.attr_of_module(stem, name)
        return _UNKNOWN

    def _imported(self, ff: _FileFacts, owner: str, name: str) -> _Value | None:
        """The value an import statement in scope ``owner`` binds to ``name``, if one does."""
        found: _Value | None = None
        for spec, imported, asname in ff.froms.get(owner, ()):
            if imported == "*" or (asname or imported) != name:
                continue
            stem = self.module_stem(spec)
            if stem is None:
                found = _EXTERNAL
                continue
            value = self.attr_of_module(stem, imported)
            aliased = bool(asname) and asname != imported
            found = _Value(value.kind, value.stem, value.qualname, value.alias or aliased)
        for dotted, asname in ff.imports.get(owner, ()):
            if asname:
                if asname != name:
                    continue
                stem = self.module_stem(dotted)
            else:
                head = dotted.split(".", 1)[0]
                if head != name:
                    continue
                stem = self.module_stem(head)
            found = _Value("module", stem) if stem is not None else _EXTERNAL
        return found

    def _exports(self, stem: str, name: str) -> bool:
        """Whether ``from <stem> import *`` binds ``name``."""
        ff = self._primary(stem)
        if ff is None:
            return False
        if ff.all_names is not None:
            return name in ff.all_names
        return not name.startswith("_") and self.binding(ff.path, name).kind != "unknown"

    def attr_of_module(self, stem: str, name: str) -> _Value:
        """``module.name``: the module's binding, else its submodule ``name``."""
        ff = self._primary(stem)
        value = self.binding(ff.path, name) if ff is not None else _UNKNOWN
        if value.kind == "unknown":
            sub = self._submodule(stem, name)
            if sub is not None:
                return _Value("module", sub)
        return value

    # -- scopes and expressions ---------------------------------------------------

    def name_value(self, path: str, owner: str, name: str) -> _Value:
        """What a bare ``name`` used in scope ``owner`` of ``path`` resolves to."""
        ff = self._file(path)
        scope = owner
        first = True
        while scope:
            if scope in ff.classes:
                if first and name in ff.members.get(scope, {}):
                    return _Value("symbol", ff.stem, f"{scope}.{name}")
            else:
                if name in ff.globals_.get(scope, set()):
                    return self.binding(path, name)
                imported = self._imported(ff, scope, name)
                if imported is not None:
                    return imported
                if name in ff.local_defs.get(scope, {}):
                    return self._local(ff, scope, name)
            first = False
            scope = scope.rsplit(".", 1)[0] if "." in scope else ""
        return self.binding(path, name)

    def _local(self, ff: _FileFacts, scope: str, name: str) -> _Value:
        parent = scope.rsplit(".", 1)[0] if "." in scope else ""
        if name in ("self", "cls") and parent in ff.classes:
            cls = _Value("symbol", ff.stem, parent)
            return cls if name == "cls" else _Value("instance", ff.stem, parent)
        return self._typed(ff, scope, name, ff.local_defs[scope][name])

    def _typed(self, ff: _FileFacts, scope: str, name: str, bindings: int) -> _Value:
        """An instance of a class when every binding of ``name`` in ``scope`` says so."""
        types = ff.inst.get((scope, name), [])
        if not types or len(types) < bindings:
            return _UNKNOWN
        values = {self._held(ff.path, scope, t) for t in types}
        if len(values) == 1:
            (value,) = values
            if value.kind in ("instance", "module"):
                return value
        return _UNKNOWN

    def _held(self, path: str, scope: str, type_text: str) -> _Value:
        if type_text.startswith("module:"):
            stem = self.module_stem(type_text[len("module:") :])
            return _Value("module", stem) if stem is not None else _EXTERNAL
        return self.instance_of(self.expr_value(path, scope, type_text))

    def instance_of(self, value: _Value) -> _Value:
        """The instance a call of ``value`` makes, when ``value`` is a repo class."""
        if value.kind == "symbol" and self.kind_of(value.stem, value.qualname) == "class":
            return _Value("instance", value.stem, value.qualname)
        return _UNKNOWN

    def kind_of(self, stem: str, qualname: str) -> str:
        """ "class" | "function" | "variable" ("" when no file of ``stem`` defines it)."""
        owner, _, name = qualname.rpartition(".")
        for path in self._stems.get(stem, ()):
            ff = self._file(path)
            table = ff.members.get(owner, {}) if owner else ff.module_defs
            if name in table:
                return table[name]
        return ""

    def expr_value(self, path: str, owner: str, text: str) -> _Value:
        """What the expression ``text`` (a receiver) evaluates to in scope ``owner``."""
        text = text.strip()
        if not text or text.startswith(_LITERAL_START):
            return _EXTERNAL if text else _UNKNOWN
        if text.endswith(")"):
            callee = _callee(text)
            if callee is None:
                return _UNKNOWN
            if callee == "super":
                return self._super(path, owner)
            return self.instance_of(self.expr_value(path, owner, callee))
        if not _CHAIN.fullmatch(text):
            return _UNKNOWN
        head, *rest = [p.strip() for p in text.split(".")]
        value = self.name_value(path, owner, head)
        for part in rest:
            value = self.attr_value(value, part)
        return value

    def _super(self, path: str, owner: str) -> _Value:
        ff = self._file(path)
        cls = owner.rsplit(".", 1)[0] if "." in owner else ""
        if cls not in ff.classes:
            return _UNKNOWN
        return _Value("super", ff.stem, cls)

    def attr_value(self, value: _Value, name: str) -> _Value:
        """``value.name``."""
        if value.kind == "module":
            return self.attr_of_module(value.stem, name)
        if value.kind in ("instance", "super"):
            return self._member(value.stem, value.qualname, name, skip_self=value.kind == "super")
        if value.kind == "symbol":
            kind = self.kind_of(value.stem, value.qualname)
            if kind == "class":
                return self._member(value.stem, value.qualname, name)
            if kind == "variable" and "." not in value.qualname:
                ff = self._primary(value.stem)
                if ff is not None:
                    held = self._typed(ff, "", value.qualname, 1)
                    if held.kind in ("instance", "module"):
                        return self.attr_value(held, name)
            return _UNKNOWN
        return value  # external stays external, unknown stays unknown

    def _member(
        self, stem: str, cls: str, name: str, *, skip_self: bool = False, depth: int = 0
    ) -> _Value:
        """``name`` looked up on class ``cls`` and its repo bases (depth-first, like the MRO
        for single inheritance); unknown when no class on the chain defines it."""
        if depth > 20:
            return _UNKNOWN
        for path in self._stems.get(stem, ()):
            ff = self._file(path)
            if not skip_self and name in ff.members.get(cls, {}):
                return _Value("symbol", stem, f"{cls}.{name}")
        ff_primary = self._primary(stem)
        if ff_primary is None:
            return _UNKNOWN
        bases = ff_primary.classes.get(cls, ())
        owner = cls.rsplit(".", 1)[0] if "." in cls else ""
        for base in bases:
            bv = self.expr_value(ff_primary.path, owner, base)
            if bv.kind == "symbol" and self.kind_of(bv.stem, bv.qualname) == "class":
                found = self._member(bv.stem, bv.qualname, name, depth=depth + 1)
                if found.kind == "symbol":
                    return found
            elif bv.kind == "unknown":
                return _UNKNOWN
        # Not a class member anywhere on the chain: an instance attribute set in a method,
        # or something an external base provides. Either way the type is not known.
        return _UNKNOWN

    def dotted_value(self, dotted: str) -> _Value:
        """What a dotted path (``pkg.mod.Class``) names: its longest module prefix, then
        attributes."""
        parts = dotted.split(".")
        for k in range(len(parts), 0, -1):
            stem = self.module_stem(".".join(parts[:k]))
            if stem is not None:
                value = _Value("module", stem)
                for part in parts[k:]:
                    value = self.attr_value(value, part)
                return value
        return _EXTERNAL

    # -- what an occurrence means -------------------------------------------------

    def meaning(self, occ: Occurrence) -> _Value:
        """What one occurrence resolves to (``unknown`` when a receiver's type is not known)."""
        path, name = occ.path, occ.name
        kind = occ.kind
        if kind == "definition":
            if occ.scope == "module":
                return self.binding(path, name)
            if occ.scope == "class":
                return _Value("symbol", self.stem_of(path), f"{occ.owner}.{name}")
            value = self.name_value(path, occ.owner, name)
            return value if value.kind == "symbol" else _EXTERNAL
        if kind == "reference":
            return self.name_value(path, occ.owner, name)
        if kind == "import":
            if occ.scope == "alias":
                return _EXTERNAL
            stem = self.module_stem(occ.qualifier)
            return self.attr_of_module(stem, name) if stem is not None else _EXTERNAL
        if kind == "all_entry":
            return self.binding(path, name)
        if kind == "attribute":
            return self.attr_value(self.expr_value(path, occ.owner, occ.qualifier), name)
        if kind == "string":
            if occ.scope == "getattr":
                return self.attr_value(self.expr_value(path, occ.owner, occ.qualifier), name)
            return (
                self.attr_value(self.dotted_value(occ.qualifier), name)
                if occ.qualifier
                else _EXTERNAL
            )
        if kind == "doc":
            if not occ.qualifier:
                return self.name_value(path, occ.owner, name)
            via_module = self.dotted_value(occ.qualifier)
            if via_module.kind == "external":
                via_module = self.expr_value(path, occ.owner, occ.qualifier)
            return self.attr_value(via_module, name)
        return _EXTERNAL

    def is_symbol(self, value: _Value, symbol: Symbol) -> bool:
        """True when ``value`` is ``symbol`` spelled by its own name (not through an alias)."""
        return (
            value.kind == "symbol"
            and not value.alias
            and value.stem == symbol.stem
            and value.qualname == symbol.qualname
        )

    # -- targets --------------------------------------------------------------------

    def definitions(self) -> list[Symbol]:
        """Every module-level and class-level definition in the repository, sorted."""
        if self._definitions is None:
            self._definitions = self._all_definitions()
        return list(self._definitions)

    def _all_definitions(self) -> list[Symbol]:
        out: set[Symbol] = set()
        for paths in self._stems.values():
            for path in paths:
                out.update(self._defined_in(path))
        return sorted(out)

    def _defined_in(self, path: str) -> set[Symbol]:
        ff = self._file(path)
        module = self.module_of(ff.stem)
        out = {Symbol(ff.stem, name, module, kind) for name, kind in ff.module_defs.items()}
        for cls, names in ff.members.items():
            if cls in ff.classes:
                out.update(Symbol(ff.stem, f"{cls}.{n}", module, k) for n, k in names.items())
        return out

    def _definitions_named(self, name: str) -> list[Symbol]:
        """The definitions whose last component is ``name``, sorted (only the files that
        may mention it are read)."""
        if self._mentioning is None or self._definitions is not None:
            return [s for s in self.definitions() if s.name == name]
        stems = {self.stem_of(p) for p in self._mentioning(name)}
        out: set[Symbol] = set()
        for path in (p for stem in stems for p in self._stems.get(stem, ())):
            out.update(s for s in self._defined_in(path) if s.name == name)
        return sorted(out)

    def symbol(self, stem: str, qualname: str) -> Symbol:
        return Symbol(stem, qualname, self.module_of(stem), self.kind_of(stem, qualname))

    def resolve_target(self, target: str) -> Symbol:
        """The one definition ``target`` names: ``name``, ``Class.attr``, ``pkg.mod.name``,
        ``pkg.mod.Class.attr`` or ``pkg.mod:Class.attr`` (through re-exports: ``pkg:name``
        works when ``pkg/__init__`` re-exports ``name``).

        Raises SymbolNotFound (with the closest names) or AmbiguousSymbol (with the candidates).
        """
        target = target.strip()
        if ":" in target:
            module, _, qual = target.partition(":")
            stem = self.module_stem(module)
            found = self._in_module(stem, qual) if stem is not None and qual else None
            if found is None:
                raise SymbolNotFound(target, self.suggestions(target))
            return found
        parts = target.split(".")
        for k in range(len(parts) - 1, 0, -1):
            stem = self.module_stem(".".join(parts[:k]))
            if stem is not None:
                found = self._in_module(stem, ".".join(parts[k:]))
                if found is not None:
                    return found
        matches = [
            s
            for s in self.definitions()
            if s.qualname == target or s.qualname.endswith("." + target)
        ]
        if not matches:
            raise SymbolNotFound(target, self.suggestions(target))
        if len(matches) > 1:
            raise AmbiguousSymbol(target, tuple(str(s) for s in matches))
        return matches[0]

    def _in_module(self, stem: str, qual: str) -> Symbol | None:
        head, *rest = qual.split(".")
        value = self.attr_of_module(stem, head)
        for part in rest:
            value = self.attr_value(value, part)
        if value.kind != "symbol" or not self.kind_of(value.stem, value.qualname):
            return None
        return self.symbol(value.stem, value.qualname)

    def suggestions(self, target: str, n: int = 3) -> tuple[str, ...]:
        """The closest spellings of ``target`` among the repository's definitions."""
        defs = self.definitions()
        spelled = {
            *(s.name for s in defs),
            *(s.qualname for s in defs),
            *(str(s) for s in defs),
            *(f"{s.module}.{s.qualname}" for s in defs),
        }
        return tuple(difflib.get_close_matches(target, sorted(spelled), n=n, cutoff=0.6))

    def others_named(self, symbol: Symbol) -> list[Symbol]:
        """Class members elsewhere that share ``symbol``'s name (what an unknown ``x.name``
        could also mean)."""
        return [
            s
            for s in self._definitions_named(symbol.name)
            if s.owner and (s.stem, s.owner) != (symbol.stem, symbol.owner)
        ]


def _callee(text: str) -> str | None:
    """``f(a, (b))`` -> ``f`` when the first ``(`` closes at the end; else None."""
    start = text.find("(")
    if start <= 0:
        return None
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[:start].strip() if i == len(text) - 1 else None
    return None


def occurrences_named(files: Iterable[FileIndex], name: str) -> list[Occurrence]:
    """Every occurrence spelled ``name`` in ``files`` (helper for callers)."""
    return [o for fi in files for o in fi.occurrences if o.name == name]
