"""A real test run of a small pure-Python package inside the sandbox."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sandbox import Sandbox, SandboxInputError, Status, TestOutcome


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "shop",
        {
            "cart/__init__.py": """
                def total(prices):
                    return sum(prices)

                def discount(price, percent):
                    return price - price * percent // 100 + 1  # the bug the test catches
            """,
            "tests/__init__.py": "",
            "tests/test_cart.py": """
                import unittest
                from cart import discount, total

                class CartTest(unittest.TestCase):
                    def test_total(self):
                        self.assertEqual(total([1, 2, 3]), 6)

                    def test_discount(self):
                        self.assertEqual(discount(200, 10), 180)

                    def test_broken(self):
                        {}["missing"]

                    @unittest.skip("not today")
                    def test_later(self):
                        pass

                    def test_threads(self):
                        import threading
                        t = threading.Thread(target=print)
                        t.start()
            """,
            "tests/test_plain.py": """
                from cart import total

                def test_plain_total():
                    assert total([]) == 0

                def test_plain_wrong():
                    assert total([1]) == 2

                def test_needs_fixture(tmp_path):
                    pass
            """,
            "tests/test_native.py": """
                import numpy_does_not_exist_here
            """,
        },
    )


def test_failing_and_passing_tests_are_reported(box: Sandbox, project: Path) -> None:
    report = box.run_tests(project)
    assert report.complete and report.framework == "unittest", report.run.stderr
    assert report.names(TestOutcome.PASSED) == (
        "tests.test_cart.CartTest.test_total",
        "tests/test_plain.py::test_plain_total",
    )
    assert report.names(TestOutcome.FAILED) == (
        "tests.test_cart.CartTest.test_discount",
        "tests/test_plain.py::test_plain_wrong",
    )
    assert report.names(TestOutcome.ERROR) == ("tests.test_cart.CartTest.test_broken",)
    assert report.names(TestOutcome.SKIPPED) == ("tests.test_cart.CartTest.test_later",)
    assert set(report.names(TestOutcome.COULD_NOT_RUN)) == {
        "tests/test_native.py",
        "tests.test_cart.CartTest.test_threads",
        "tests/test_plain.py::test_needs_fixture",
    }
    assert (report.passed, report.failed, report.errors, report.skipped, report.could_not_run) == (
        2,
        2,
        1,
        1,
        3,
    )
    assert not report.succeeded
    failure = next(i for i in report.items if i.name.endswith("test_discount"))
    assert "AssertionError" in failure.message and "181 != 180" in failure.message


def test_import_error_of_a_project_module_is_an_error_not_could_not_run(
    box: Sandbox, tmp_path: Path
) -> None:
    root = _write(
        tmp_path / "p",
        {
            "lib.py": "def new_name(): return 1\n",
            "test_lib.py": "from lib import old_name\n\ndef test_it():\n    assert old_name() == 1\n",
        },
    )
    report = box.run_tests(root)
    assert report.names(TestOutcome.ERROR) == ("test_lib.py",)
    assert report.could_not_run == 0


def test_all_green_project_succeeds_and_leaves_no_bytecode(box: Sandbox, tmp_path: Path) -> None:
    root = _write(tmp_path / "p", {"test_ok.py": "def test_ok():\n    print('noise')\n"})
    report = box.run_tests(root)
    assert report.succeeded and report.passed == 1
    assert not list(root.rglob("__pycache__"))


def test_runaway_suite_reports_incomplete(box: Sandbox, tmp_path: Path) -> None:
    from sandbox import Limits

    root = _write(tmp_path / "p", {"test_loop.py": "def test_forever():\n    while True: pass\n"})
    report = box.run_tests(root, limits=Limits(timeout=1, fuel=None))
    assert not report.complete and report.run.status is Status.DEADLINE
    assert not report.succeeded


def test_unknown_framework_is_refused(box: Sandbox, project: Path) -> None:
    with pytest.raises(SandboxInputError) as caught:
        box.run_tests(project, framework="nose")
    assert caught.value.setting == "framework"


def test_pytest_is_used_when_the_folder_carries_it(box: Sandbox, tmp_path: Path) -> None:
    import importlib.util
    import shutil

    root = _write(
        tmp_path / "p",
        {
            "test_x.py": "def test_a():\n    assert 1\n\ndef test_b():\n    assert 1 == 2\n",
        },
    )
    # Vendor the host's pure-Python pytest into the project, as a folder that "carries" it.
    for name in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            pytest.skip(f"{name} is not installed on the host")
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, root / name)
        else:
            shutil.copy(origin, root / origin.name)
    report = box.run_tests(root)
    assert report.complete and report.framework == "pytest", report.run.stderr[-2000:]
    assert report.names(TestOutcome.PASSED) == ("test_x.py::test_a",)
    assert report.names(TestOutcome.FAILED) == ("test_x.py::test_b",)
    assert "the project's own" in report.runner


def test_pytest_projects_run_on_the_pinned_runner_without_vendoring(
    box: Sandbox, tmp_path: Path
) -> None:
    root = _write(
        tmp_path / "p",
        {
            "shop.py": "def total(xs):\n    return sum(xs)\n",
            "tests/conftest.py": """
                import pytest

                @pytest.fixture
                def prices():
                    return [1, 2, 3]
            """,
            "tests/test_shop.py": """
                import pytest
                from shop import total

                def test_total(prices):
                    assert total(prices) == 6

                def test_tmp_path(tmp_path):
                    (tmp_path / "x").write_text("hi")
                    assert (tmp_path / "x").read_text() == "hi"

                @pytest.mark.parametrize("n", [1, 2])
                def test_small(n):
                    assert n < 2

                class TestCart:
                    def test_empty(self):
                        assert total([]) == 0

                def test_needs_a_c_module():
                    import numpy_does_not_exist_here
            """,
        },
    )
    report = box.run_tests(root)
    assert report.complete, (report.problem, report.run.stderr[-2000:])
    assert report.framework == "pytest"
    assert report.runner == "pytest 9.0.3 (pinned in the sandbox)"
    assert set(report.names(TestOutcome.PASSED)) == {
        "tests/test_shop.py::test_total",
        "tests/test_shop.py::test_tmp_path",
        "tests/test_shop.py::test_small[1]",
        "tests/test_shop.py::TestCart::test_empty",
    }
    assert report.names(TestOutcome.FAILED) == ("tests/test_shop.py::test_small[2]",)
    assert report.names(TestOutcome.COULD_NOT_RUN) == ("tests/test_shop.py::test_needs_a_c_module",)
    # The runners are mounted read-only: nothing of them lands in the project.
    assert not (root / "_pytest").exists() and not list(root.rglob("*.pyc"))


@pytest.mark.parametrize(
    ("files", "framework"),
    [
        ({"test_a.py": "def test_a():\n    pass\n"}, "unittest"),
        ({"test_a.py": "import pytest\n\ndef test_a():\n    pass\n"}, "pytest"),
        ({"conftest.py": "", "test_a.py": "def test_a():\n    pass\n"}, "pytest"),
        (
            {"pyproject.toml": "[tool.pytest.ini_options]\n", "test_a.py": "def test_a(): pass\n"},
            "pytest",
        ),
        ({"setup.cfg": "[tool:pytest]\n", "test_a.py": "def test_a(): pass\n"}, "pytest"),
    ],
)
def test_auto_picks_pytest_when_the_tests_need_it(
    box: Sandbox, tmp_path: Path, files: dict[str, str], framework: str
) -> None:
    report = box.run_tests(_write(tmp_path / "p", files))
    assert report.complete, report.problem
    assert report.framework == framework and report.names(TestOutcome.PASSED)
    assert ("pytest" in report.runner) is (framework == "pytest")


def test_a_report_that_misses_a_test_found_in_the_files_is_incomplete(
    box: Sandbox, tmp_path: Path
) -> None:
    # The host's scan of the files finds a test the guest never reports (the class is
    # deleted after its definition): a shorter list than expected is not trusted.
    root = _write(
        tmp_path / "p",
        {"test_a.py": "class TestHidden:\n    def test_x(self):\n        pass\n\ndel TestHidden\n"},
    )
    report = box.run_tests(root, framework="unittest")
    assert not report.complete
    assert "lacks 1 tests" in report.problem and "test_a.py::TestHidden::test_x" in report.problem


def test_host_and_guest_agree_on_the_protocol_constants() -> None:
    import tomllib

    from sandbox import _guest_runner, _runner
    from sandbox._runners import PINNED

    assert _guest_runner.REPORT_PATH == _runner.REPORT_PATH
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pins = dict(dep.split("==") for dep in pyproject["project"]["dependencies"] if "==" in dep)
    assert {name: pins.get(name) for name in PINNED} == PINNED
