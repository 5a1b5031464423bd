"""Symbol resolution: what a name, attribute or string means, through re-exports and scopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarm.scout import AmbiguousSymbol, Occurrence, RepoIndex, SymbolNotFound
from tests.swarm.scout.conftest import write_repo

FILES = {
    "src/pkg/__init__.py": "from .core import *\nfrom .core import helper as assist\nfrom . import sub\n",
    "src/pkg/core.py": (
        '__all__ = ["run", "Box"]\n\n'
        "def run(x):\n    return x\n\n"
        "def _hidden():\n    pass\n\n"
        "class Box:\n"
        "    def run(self):\n        return self.run()\n\n"
        "    def other(self):\n        return run(1)\n\n"
        "def helper():\n    pass\n"
    ),
    "src/pkg/sub/__init__.py": "",
    "src/pkg/sub/deep.py": "from ..core import run\n\nVALUE = run(2)\n",
    "src/pkg/json.py": "def dumps(x):\n    return x\n",
    "app/use.py": (
        "import json\nimport pkg as p\nfrom pkg import Box, run\nimport pkg.sub.deep\n\n"
        "def f(box: Box, thing):\n"
        "    run = 3\n"
        "    b = Box()\n"
        "    return p.run(1), box.run(), b.run(), thing.run(), run, json.dumps(1), p.assist()\n\n"
        "def g():\n    return run(4), pkg.sub.deep.VALUE, p.sub\n"
    ),
}


@pytest.fixture
def index(tmp_path: Path) -> RepoIndex:
    idx = RepoIndex(write_repo(tmp_path / "repo", FILES))
    idx.refresh()
    return idx


def _meaning(index: RepoIndex, path: str, line: int, name: str, nth: int = 0) -> str:
    occs: list[Occurrence] = [
        o for o in index.file(path).occurrences if o.line == line and o.name == name
    ]
    value = index.symbols().meaning(occs[nth])
    return f"{value.kind}:{value.stem}:{value.qualname}"


def test_modules_answer_to_their_import_names_from_each_root(index: RepoIndex) -> None:
    symbols = index.symbols()
    assert symbols.module_stem("pkg.core") == "src/pkg/core"
    assert symbols.module_stem("pkg") == "src/pkg/__init__"
    assert symbols.module_stem("json") is None  # pkg/json.py is pkg.json, not the stdlib's
    assert symbols.module_of("src/pkg/core") == "pkg.core"


def test_star_imports_honour_all_and_aliases_are_marked(index: RepoIndex) -> None:
    symbols = index.symbols()
    init = "src/pkg/__init__.py"
    assert symbols.binding(init, "run").qualname == "run"
    assert symbols.binding(init, "_hidden").kind == "unknown"  # not in __all__
    assert symbols.binding(init, "assist").alias
    assert symbols.attr_of_module("src/pkg/__init__", "sub").kind == "module"


def test_uses_resolve_through_aliases_scopes_and_instances(index: RepoIndex) -> None:
    use = "app/use.py"
    run = "symbol:src/pkg/core:run"
    method = "symbol:src/pkg/core:Box.run"
    assert _meaning(index, use, 3, "run") == run  # from pkg import run (re-exported)
    assert _meaning(index, use, 9, "run", 0) == run  # p.run: the package alias
    assert _meaning(index, use, 9, "run", 1) == method  # box: Box
    assert _meaning(index, use, 9, "run", 2) == method  # b = Box()
    assert _meaning(index, use, 9, "run", 3).startswith("unknown")  # thing: no type
    assert _meaning(index, use, 9, "run", 4).startswith("unknown")  # the local run = 3
    assert _meaning(index, use, 12, "run") == run  # g sees the module's run
    assert _meaning(index, use, 9, "dumps").startswith("external")  # the stdlib's json
    assert _meaning(index, "src/pkg/core.py", 11, "run") == method  # self.run in Box
    assert _meaning(index, "src/pkg/core.py", 14, "run") == run  # methods skip the class scope
    assert _meaning(index, "src/pkg/sub/deep.py", 1, "run") == run  # from ..core import run


def test_targets_resolve_by_any_spelling_and_refuse_ambiguity(index: RepoIndex) -> None:
    symbols = index.symbols()
    for spelled in ("pkg.core:run", "pkg.core.run", "pkg:run", "pkg.run"):
        assert str(symbols.resolve_target(spelled)) == "pkg.core:run"
    assert str(symbols.resolve_target("Box.run")) == "pkg.core:Box.run"
    assert str(symbols.resolve_target("pkg:Box.run")) == "pkg.core:Box.run"
    with pytest.raises(AmbiguousSymbol) as amb:
        symbols.resolve_target("run")
    assert amb.value.candidates == ("pkg.core:Box.run", "pkg.core:run")
    with pytest.raises(SymbolNotFound) as missing:
        symbols.resolve_target("pkg.core:rn")
    assert "pkg.core:run" in missing.value.suggestions
