"""The test runner that runs *inside* the sandbox (CPython 3.11 or 3.12 on WASI).

The host reads this file's source and runs it with ``python -c``; it must use
only the standard library (and pytest: the project's own, or the pinned one
the host mounts read-only). The host also imports it for ``test_files`` and
``module_name``, so that both sides find the same tests.

The protocol (ADR 0009): the runner is started with ``python -I`` (no
``sitecustomize`` or ``PYTHON*`` variable of the project runs first). Before
any test code is imported it opens ``REPORT_PATH`` (the host allows one
open) and reads the host's JSON header line from stdin,
``{"nonce": ..., "framework": "pytest"|"unittest", "paths": [...]}``, leaving
stdin at EOF; the nonce stays in a local of ``main``, never in the
environment or a file. At the end the runner writes one frame to the
channel, which the host's ``fd_write`` shim keeps apart from stdout::

    SBXREPORT1 <nonce> <length>\n<JSON body of length bytes>

with the body ``{"framework", "runner", "items": [[name, outcome, message], ...]}``.
A second frame, a wrong nonce or a malformed one makes the host call the run
incomplete.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import inspect
import io
import json
import os
import sys
import traceback
import unittest
from collections.abc import Callable, Iterator
from typing import Any

ROOT = "/work"
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    "site-packages",
    "build",
    "dist",
    ".mypy_cache",
    ".pytest_cache",
}
MESSAGE_CAP = 4000
# Plugins that need what WASI lacks: fd duplication, /dev/null, signals, a writable cache.
NO_PLUGINS = ["-p", "no:cacheprovider", "-p", "no:faulthandler", "-p", "no:logging"]
UNSUPPORTED_ERRNOS = {errno.ENOSYS, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP)}

REPORT_PATH = "/.sandbox-report/channel"  # equal to sandbox._runner.REPORT_PATH (a test checks)
REPORT_MAGIC = b"SBXREPORT1"
# pytest's default python_files and the directories its default norecursedirs skips.
PYTEST_FILES = ("test_*.py", "*_test.py")
PYTEST_SKIP_DIRS = {"_darcs", "CVS", "{arch}"}

Item = list[str]


def _project_has(top: str) -> bool:
    """Whether a top-level module name is provided by the project's own sources."""
    for base in (ROOT, os.path.join(ROOT, "src")):
        if os.path.isdir(os.path.join(base, top)) or os.path.isfile(
            os.path.join(base, top + ".py")
        ):
            return True
    return False


def unsupported(exc: BaseException) -> str:
    """Why ``exc`` means the sandbox cannot run a test (not that the test failed), or ''."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        if not _project_has(top):
            return f"module {exc.name!r} is not in the sandbox (C extension or not installed)"
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        return "needs threads, which the sandbox's interpreter does not have"
    if isinstance(exc, OSError) and exc.errno in UNSUPPORTED_ERRNOS:
        return f"needs an operating-system feature the sandbox lacks: {exc}"
    return ""


def _cap(text: str) -> str:
    return (
        text
        if len(text) <= MESSAGE_CAP
        else text[: MESSAGE_CAP // 2] + "\n...\n" + text[-MESSAGE_CAP // 2 :]
    )


def _format(exc_info: Any) -> str:
    return _cap("".join(traceback.format_exception(*exc_info)))


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """Hold a test's prints, so they cannot interleave with (or forge) the report."""
    buffer = io.StringIO()
    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = buffer
    try:
        yield buffer
    finally:
        sys.stdout, sys.stderr = old


def test_files(root: str = ROOT, framework: str = "unittest") -> list[str]:
    """The test files under ``root`` that ``framework`` collects, in a stable order."""
    found = []
    skip = SKIP_DIRS | (PYTEST_SKIP_DIRS if framework == "pytest" else set())
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in skip and not d.startswith(".") and not d.endswith(".egg")
        )
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            if framework == "pytest":
                wanted = name.startswith("test_") or name.endswith("_test.py")
            else:
                wanted = name.startswith("test") or name.endswith("_test.py")
            if wanted:
                found.append(os.path.join(dirpath, name))
    return found


def module_name(path: str, root: str = ROOT) -> tuple[str, str]:
    """(sys.path entry, dotted name) as pytest's 'prepend' mode imports a test file."""
    base = os.path.dirname(path)
    parts = [os.path.splitext(os.path.basename(path))[0]]
    while os.path.isfile(os.path.join(base, "__init__.py")) and base != root:
        parts.insert(0, os.path.basename(base))
        base = os.path.dirname(base)
    return base, ".".join(parts)


def import_test_file(path: str) -> Any:
    """Import like pytest's 'prepend' mode: the first dir up without __init__.py joins sys.path."""
    base, dotted = module_name(path)
    if base not in sys.path:
        sys.path.insert(0, base)
    return importlib.import_module(dotted)


class Recorder(unittest.TestResult):
    """Turns unittest's callbacks into report items, one per test id."""

    def __init__(self, items: list[Item]) -> None:
        super().__init__()
        self.items = items
        self._failed_subtests: dict[str, str] = {}

    def _add(self, test: unittest.TestCase, outcome: str, message: str = "") -> None:
        self.items.append([test.id(), outcome, message])

    def addSuccess(self, test: unittest.TestCase) -> None:
        if test.id() in self._failed_subtests:
            self._add(test, "failed", self._failed_subtests.pop(test.id()))
        else:
            self._add(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        self._add(test, "failed", _format(err))

    def addError(self, test: Any, err: Any) -> None:
        reason = unsupported(err[1])
        if reason:
            self.items.append([test.id(), "could_not_run", reason])
        else:
            self.items.append([test.id(), "error", _format(err)])

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        self._add(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        self._add(test, "passed", "expected failure")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        self._add(test, "failed", "unexpected success")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        if err is not None:
            self._failed_subtests.setdefault(test.id(), f"{subtest.id()}:\n{_format(err)}")


def _plain_tests(module: Any) -> Iterator[tuple[str, Callable[[], Any] | None, str]]:
    """pytest-style tests (functions, Test* classes) a plain runner can call: (id, call, reason)."""
    rel = os.path.relpath(module.__file__, ROOT)
    for name, obj in list(vars(module).items()):
        if (
            name.startswith("test")
            and inspect.isfunction(obj)
            and obj.__module__ == module.__name__
        ):
            yield _plain(f"{rel}::{name}", obj, None)
        elif (
            name.startswith("Test")
            and inspect.isclass(obj)
            and obj.__module__ == module.__name__
            and not issubclass(obj, unittest.TestCase)
        ):
            for method in sorted(m for m in vars(obj) if m.startswith("test")):
                if inspect.isfunction(getattr(obj, method)):
                    yield _plain(f"{rel}::{name}::{method}", getattr(obj, method), obj)


def _plain(test_id: str, fn: Any, cls: Any) -> tuple[str, Callable[[], Any] | None, str]:
    params = [p for p in inspect.signature(fn).parameters.values() if p.default is p.empty]
    if cls is not None:
        params = params[1:]
    if params:
        return test_id, None, "needs pytest fixtures: " + ", ".join(p.name for p in params)
    if cls is not None:
        return test_id, lambda: fn(cls()), ""
    return test_id, fn, ""


def run_unittest(items: list[Item]) -> None:
    recorder = Recorder(items)
    loader = unittest.TestLoader()
    for path in test_files():
        rel = os.path.relpath(path, ROOT)
        try:
            with captured():
                module = import_test_file(path)
        except BaseException as exc:
            reason = unsupported(exc)
            if reason:
                items.append([rel, "could_not_run", reason])
            else:
                items.append([rel, "error", _cap("".join(traceback.format_exception(exc)))])
            continue
        suite = loader.loadTestsFromModule(module)
        with captured():
            suite.run(recorder)
        for test_id, call, reason in _plain_tests(module):
            if call is None:
                items.append([test_id, "could_not_run", reason])
                continue
            try:
                with captured():
                    call()
            except unittest.SkipTest as exc:
                items.append([test_id, "skipped", str(exc)])
            except AssertionError as exc:
                items.append([test_id, "failed", _cap("".join(traceback.format_exception(exc)))])
            except Exception as exc:
                why = unsupported(exc)
                text = why or _cap("".join(traceback.format_exception(exc)))
                items.append([test_id, "could_not_run" if why else "error", text])
            else:
                items.append([test_id, "passed", ""])


class PytestPlugin:
    """Collects pytest's reports into items."""

    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self._unsupported: dict[str, str] = {}  # node id -> why the sandbox cannot run it

    def pytest_collectreport(self, report: Any) -> None:
        if report.skipped and report.nodeid:  # a module skipped as a whole (importorskip, ...)
            self.items.append([report.nodeid, "skipped", _cap(str(report.longrepr))])
        elif report.failed:
            exc = getattr(getattr(report, "call", None), "excinfo", None)
            text = str(report.longrepr)
            reason = "" if exc is None else unsupported(exc.value)
            if not reason and "ModuleNotFoundError" in text:
                reason = (
                    "a module is not available in the sandbox: " + text.strip().splitlines()[-1]
                )
            self.items.append(
                [report.nodeid, "could_not_run" if reason else "error", reason or _cap(text)]
            )

    def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
        if call.excinfo is not None and call.when in ("setup", "call"):
            reason = unsupported(call.excinfo.value)
            if reason:
                self._unsupported[item.nodeid] = reason

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.skipped:
                self.items.append([report.nodeid, "skipped", str(report.longrepr)])
            elif report.passed:
                self.items.append([report.nodeid, "passed", ""])
            elif report.nodeid in self._unsupported:
                self.items.append(
                    [report.nodeid, "could_not_run", self._unsupported[report.nodeid]]
                )
            elif report.when == "setup":
                self.items.append([report.nodeid, "error", _cap(str(report.longrepr))])
            else:
                failed = "AssertionError" in str(report.longrepr) or "assert " in str(
                    report.longrepr
                )
                self.items.append(
                    [report.nodeid, "failed" if failed else "error", _cap(str(report.longrepr))]
                )


def run_pytest(items: list[Item]) -> str:
    import pytest

    if not hasattr(os, "getuid"):
        # WASI has no user ids; pytest's tmp_path asks for one, and takes -1 as "unknown".
        os.getuid = lambda: -1

    with captured():
        pytest.main(
            ["-q", "--capture=sys", "--rootdir", ROOT, ROOT, *NO_PLUGINS],
            plugins=[PytestPlugin(items)],
        )
    own = os.path.abspath(pytest.__file__ or "").startswith(ROOT + os.sep)
    where = "the project's own" if own else "pinned in the sandbox"
    return f"pytest {pytest.__version__} ({where})"


def memoise_stats(folders: list[str]) -> None:
    """Answer repeated ``stat`` calls on files under the read-only ``folders`` from memory.

    Each file operation of the guest is a round trip through wasmtime's worker
    threads (~0.05-1 ms, against ~8 us on the host), and imports, tracebacks
    and doctest stat the same stdlib files hundreds of times. The folders are
    the runtime's stdlib and the pinned runners: read-only mounts that do not
    change during a run, so the first answer stays right. Only plain calls
    (a path string, no ``dir_fd``, following symlinks) that succeed are kept.
    """
    import importlib._bootstrap_external as ext
    import posix

    roots = {f.rstrip("/") for f in folders}
    prefixes = tuple(root + "/" for root in roots)
    seen: dict[str, Any] = {}
    real = posix.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            args
            or kwargs
            or type(path) is not str
            or not (path in roots or path.startswith(prefixes))
        ):
            return real(path, *args, **kwargs)
        found = seen.get(path)
        if found is None:
            found = seen[path] = real(path)
        return found

    os.stat = stat
    ext._path_stat = stat  # type: ignore[attr-defined]


def use_bytecode(prefix: str) -> None:
    """Import the project's modules from the host's read-only ``.pyc`` under ``prefix``.

    ``prefix + path + "c"`` holds a checked-hash ``.pyc`` for ``path`` (a
    ``.py`` under ROOT); it is used only when its source hash matches the
    source as it is now, else the module compiles from source as usual.
    Paths outside ROOT (the stdlib, the pinned runners) keep CPython's own finder.
    """
    import _imp
    import importlib.util
    import marshal
    from importlib import machinery

    class Loader(machinery.SourceFileLoader):
        def get_code(self, fullname: str) -> Any:
            source_path = str(self.path)
            try:
                with open(prefix + source_path + "c", "rb") as f:
                    pyc = f.read()
                source = self.get_data(source_path)
            except OSError:
                return super().get_code(fullname)
            if (
                pyc[:4] != importlib.util.MAGIC_NUMBER
                or pyc[4:8] != b"\x03\x00\x00\x00"
                or pyc[8:16] != importlib.util.source_hash(source)
            ):
                return super().get_code(fullname)
            code = marshal.loads(memoryview(pyc)[16:])
            _imp._fix_co_filename(code, source_path)  # type: ignore[attr-defined]
            return code

    finder = machinery.FileFinder.path_hook(
        (machinery.ExtensionFileLoader, machinery.EXTENSION_SUFFIXES),
        (Loader, machinery.SOURCE_SUFFIXES),
        (machinery.SourcelessFileLoader, machinery.BYTECODE_SUFFIXES),
    )

    def hook(entry: str) -> Any:
        if entry == ROOT or entry.startswith(ROOT + os.sep):
            return finder(entry)
        raise ImportError("not a project folder")

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


def read_header() -> dict[str, Any]:
    """The host's header line from stdin, read to its end so test code finds stdin empty."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(0, 4096)
        if not chunk:
            break
        data += chunk
    header: dict[str, Any] = json.loads(data)
    return header


def send_report(channel: int, nonce: bytes, body: bytes) -> None:
    """Write the one report frame to the host's report channel."""
    frame = b"%s %s %d\n%s" % (REPORT_MAGIC, nonce, len(body), body)
    view = memoryview(frame)
    while view:
        view = view[os.write(channel, view) :]


def main() -> None:
    # First, before anything of the project is imported: take the channel (the
    # host refuses and records any later open) and the header (stdin is then empty).
    channel = os.open(REPORT_PATH, os.O_RDONLY)
    header = read_header()
    nonce = str(header["nonce"]).encode()
    framework = str(header["framework"])
    os.chdir(ROOT)
    sys.path[:0] = [
        ROOT,
        *([os.path.join(ROOT, "src")] if os.path.isdir(os.path.join(ROOT, "src")) else []),
    ]
    # The pinned runners come last: a project's own pytest, or a module it shadows, wins.
    sys.path.extend(str(p) for p in header.get("paths", ()))
    sys.dont_write_bytecode = True
    if header.get("bytecode"):
        use_bytecode(str(header["bytecode"]))
    if header.get("immutable"):
        memoise_stats([str(p) for p in header["immutable"]])
    del header
    items: list[Item] = []
    if framework == "pytest":
        runner = run_pytest(items)
    else:
        run_unittest(items)
        runner = "the sandbox's unittest runner"
    body = json.dumps({"framework": framework, "runner": runner, "items": items})
    send_report(channel, nonce, body.encode())


if __name__ == "__main__":
    main()
