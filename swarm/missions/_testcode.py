"""Which changed files are test code: the files that judge a change rather than make it.

Test code runs in the sandbox's interpreter beside the runner, so an edit to it
can make the runner report what it likes (ADR 0009, residual risk). The critic
therefore never lets such an edit vouch for itself (ADR 0007, "A change does not
judge itself"); this module says which files fall under that rule and checks the
one exception, a rename whose edits to test code are its word substitutions only.
"""

from __future__ import annotations

import configparser
import re
import tomllib

# What pytest reads as configuration at the root (pytest 9 also reads pytest.toml).
_PYTEST_CONFIG = ("pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml")
# A project's own copy of these replaces the sandbox's pinned runner outright.
_RUNNER_PACKAGES = ("pytest", "_pytest", "pluggy")
_TEST_DIRS = ("tests", "test")
_WORDS = re.compile(r"(\w+)")


def classify_test_code(path: str, before: bytes | None, after: bytes | None) -> str:
    """Why ``path`` (repo-relative, POSIX) is test code, or "" when it is not.

    ``before`` and ``after`` are its content before and after the change (None when
    absent): a packaging file counts when either version configures pytest.
    """
    parts = path.split("/")
    name = parts[-1]
    if name == "conftest.py":
        return "conftest.py (a pytest plugin)"
    if name.endswith(".py") and (name.startswith("test") or name.endswith("_test.py")):
        return "a test file"
    if any(d in _TEST_DIRS for d in parts[:-1]):
        return f"under a {next(d for d in parts[:-1] if d in _TEST_DIRS)}/ folder"
    if name in ("sitecustomize.py", "usercustomize.py"):
        return f"{name} (runs at interpreter start)"
    if name.endswith(".pth"):
        return "a .pth file (runs at interpreter start)"
    if any(d.startswith("pytest_") for d in parts[:-1]) or (
        name.startswith("pytest_") and name.endswith(".py")
    ):
        return "a pytest plugin module"
    top = parts[1] if parts[0] == "src" and len(parts) > 1 else parts[0]
    if top.removesuffix(".py") in _RUNNER_PACKAGES and (len(parts) > 1 or top.endswith(".py")):
        return f"the project's own {top.removesuffix('.py')} (replaces the test runner)"
    if name in _PYTEST_CONFIG:
        return f"{name} (pytest configuration)"
    section = {"pyproject.toml": "tool.pytest", "setup.cfg": "tool:pytest", "tox.ini": "pytest"}
    if name in section and any(_configures_pytest(name, d) for d in (before, after)):
        return f"{name} with a [{section[name]}] section (pytest configuration)"
    return ""


def _configures_pytest(name: str, data: bytes | None) -> bool:
    """Whether a packaging file's content configures pytest; unreadable content counts
    (pytest might read what we cannot parse, so the doubt goes to the rule)."""
    if data is None:
        return False
    try:
        text = data.decode("utf-8")
        if name == "pyproject.toml":
            return "pytest" in tomllib.loads(text).get("tool", {})
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read_string(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, configparser.Error, AttributeError):
        return True
    return parser.has_section("tool:pytest" if name == "setup.cfg" else "pytest")


def renames_only(before: bytes | None, after: bytes | None, old: str, new: str) -> bool:
    """Whether ``after`` is ``before`` with some whole words ``old`` replaced by ``new``
    and nothing else changed: no byte added, removed or moved, no other word touched.

    A rename's edits to test code pass this; an edit that adds a statement, an import
    or even a character does not. It needs no trust in the codemod that made the edit.
    """
    if before is None or after is None or not old or not new:
        return False
    try:
        a = _WORDS.split(before.decode("utf-8"))
        b = _WORDS.split(after.decode("utf-8"))
    except UnicodeDecodeError:
        return False
    if len(a) != len(b):
        return False
    # re.split with one group alternates: text between words at even indexes, words at odd.
    return all(
        x == y or (i % 2 == 1 and x == old and y == new)
        for i, (x, y) in enumerate(zip(a, b, strict=True))
    )


def owning_test_file(test_name: str, files: list[str]) -> str:
    """Which of ``files`` (repo paths of test files) a reported test id belongs to, or "".

    pytest ids and the plain runner's start with the file's path (``a/test_x.py::t``);
    unittest ids with its dotted module (``a.test_x.Case.test``), which may start at
    any folder, depending on ``__init__.py`` files.
    """
    head = test_name.split("::", 1)[0]
    if head in files:
        return head
    for path in files:
        parts = path.removesuffix(".py").split("/")
        for i in range(len(parts)):
            dotted = ".".join(parts[i:])
            if test_name == dotted or test_name.startswith(dotted + "."):
                return path
    return ""
