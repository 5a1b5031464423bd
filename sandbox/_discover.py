"""What the host knows about a project's tests before the guest runs them.

Two jobs, both from the files alone (no import, no execution): which runner the
tests need (``choose_framework``), and a lower bound on the tests the report
must name (``expected_tests``), which the host checks the guest's report against.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ._guest_runner import SKIP_DIRS, module_name, test_files

_PYTEST_IMPORT = re.compile(rb"^\s*(?:import|from)\s+_?pytest\b", re.MULTILINE)
_READ_CAP = 1 << 20  # bytes of a file read to look for a pytest import or section
_PARSE_CAP = 8 << 20  # a test file larger than this is not parsed (its tests are not listed)


@dataclass(frozen=True, slots=True)
class ExpectedTest:
    """A test the host found in a file: the report must name it (or the whole file)."""

    file: str  # relative to the project root, "/"-separated: "tests/test_cart.py"
    module: str  # dotted name as imported: "tests.test_cart"
    cls: str | None  # the class it is a method of, if any
    name: str  # "test_total"

    @property
    def node_id(self) -> str:
        """The test as pytest names it: "tests/test_cart.py::CartTest::test_total"."""
        return f"{self.file}::{self.cls}::{self.name}" if self.cls else f"{self.file}::{self.name}"

    def matches(self, item: str) -> bool:
        """Whether a report item's name is this test (pytest node id or unittest id)."""
        node = self.node_id
        if item == node or item.startswith(node + "["):
            return True
        return self.cls is not None and item == f"{self.module}.{self.cls}.{self.name}"


def choose_framework(root: Path, framework: str) -> str:
    """``framework``, or for "auto" pytest when the tests need it, else "unittest".

    pytest is needed when the project carries it, has a ``conftest.py``, pytest
    configuration (``pytest.ini``, ``[tool.pytest...]``, ``[tool:pytest]``,
    tox's ``[pytest]``), or a test file that imports pytest.
    """
    if framework != "auto":
        return framework
    if any((base / "pytest").exists() or (base / "pytest.py").exists() for base in _bases(root)):
        return "pytest"
    if (root / "pytest.ini").is_file():
        return "pytest"
    for name, section in (
        ("pyproject.toml", b"[tool.pytest"),
        ("setup.cfg", b"[tool:pytest]"),
        ("tox.ini", b"[pytest]"),
    ):
        if section in _head(root / name):
            return "pytest"
    for path in test_files(str(root)):
        if _PYTEST_IMPORT.search(_head(Path(path))):
            return "pytest"
    if _has_conftest(root):
        return "pytest"
    return "unittest"


def expected_tests(root: Path, framework: str) -> dict[str, list[ExpectedTest] | None]:
    """For each test file ``framework`` collects, the tests it defines at top level.

    A lower bound: tests made by inheritance, parametrisation or generation
    come on top; classes pytest would not collect (with ``__init__`` or
    ``__test__``) and fixtures named ``test_*`` are left out. A file that
    does not parse maps to None: the report must still say something about it.
    """
    out: dict[str, list[ExpectedTest] | None] = {}
    for path in test_files(str(root), framework):
        rel = Path(path).relative_to(root).as_posix()
        if os.path.islink(path):
            continue  # never read through a link: it may point out of the folder
        _, dotted = module_name(path, str(root))
        source = _head(Path(path), cap=_PARSE_CAP + 1)
        try:
            if len(source) > _PARSE_CAP:
                raise ValueError("too large to parse")
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            # Crafted sources can exhaust the parser: the file must still appear in the report.
            out[rel] = None
            continue
        if _sets_dunder_test(tree.body):
            continue
        out[rel] = [ExpectedTest(rel, dotted, cls, name) for cls, name in _defined_tests(tree)]
    return out


def _defined_tests(tree: ast.Module) -> list[tuple[str | None, str]]:
    found: dict[tuple[str | None, str], None] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("test") and not _is_fixture(node):
                found[(None, node.name)] = None
        elif isinstance(node, ast.ClassDef) and _collected_class(node):
            for member in node.body:
                if (
                    isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
                    and member.name.startswith("test")
                    and not _is_fixture(member)
                ):
                    found[(node.name, member.name)] = None
    return list(found)


def _collected_class(node: ast.ClassDef) -> bool:
    bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases]
    if not (node.name.startswith("Test") or any(str(b).endswith("TestCase") for b in bases)):
        return False
    if _sets_dunder_test(node.body):
        return False
    return not any(
        isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name == "__init__"
        for m in node.body
    )


def _sets_dunder_test(body: list[ast.stmt]) -> bool:
    return any(
        isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__test__" for t in stmt.targets)
        for stmt in body
    )


def _is_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any("fixture" in ast.unparse(d) for d in node.decorator_list)


def _bases(root: Path) -> list[Path]:
    return [root, root / "src"]


def _head(path: Path, cap: int = _READ_CAP) -> bytes:
    """The first ``cap`` bytes, never through a symlink; b"" if unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        with os.fdopen(fd, "rb") as handle:
            return handle.read(cap)
    except OSError:
        return b""


def _has_conftest(root: Path) -> bool:
    for _, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        if "conftest.py" in filenames:
            return True
    return False
