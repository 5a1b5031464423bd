"""Attacks on the sandbox by the code it runs: each is a real run in the real sandbox.

Every test asserts the attack ends with a clear status or refusal, and that a
folder outside the guest's folder is byte-identical afterwards. Host memory is
measured in a child process (``ru_maxrss`` is a high-water mark, so each attack
is compared with a control run that makes the same allocations without the call).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox import MIB, Limits, Runtime, Sandbox, Status, TestOutcome, default_cache_dir
from tests.security._outside import Outside

CAP = Limits(timeout=10, memory=256 * MIB, max_write_bytes=10 * MIB)
_SLACK = 16 * MIB  # host memory an attack may cost beyond its control run (output cap: 4 MiB)


@pytest.fixture(scope="session")
def box() -> Sandbox:
    configured = os.environ.get("SWARM_CACHE_DIR")
    cache = Path(configured) if configured else default_cache_dir()
    setting = os.environ.get("SWARM_SANDBOX_RUNTIME", "bundled")  # optimised: the -O3 build
    return Sandbox(runtime=Runtime.from_setting(setting, cache), cache_dir=cache)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The guest's folder; the ``outside`` canary sits beside it, at ``../outside``."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "data.txt").write_text("hello\n")
    return folder


_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from sandbox import MIB, Limits, Sandbox
    box = Sandbox(cache_dir=Path(sys.argv[1]))
    box.run("pass")
    limits = Limits(timeout=10, memory=256 * MIB, max_write_bytes=10 * MIB)
    out = []
    for code in json.loads(sys.argv[3]):
        result = box.run(code, folder=sys.argv[2], writable=True, limits=limits)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        out.append([result.status.value, peak, result.wall_time, result.stderr[-300:].decode()])
    print(json.dumps(out))
    """
)


def _peaks(box: Sandbox, folder: Path, codes: list[str]) -> list[tuple[str, int, float, str]]:
    """Run ``codes`` in order in a fresh process: (status, peak RSS so far, wall, stderr) each."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(box.cache_dir), str(folder), json.dumps(codes)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=True,
    )
    return [tuple(row) for row in json.loads(done.stdout)]


@pytest.mark.parametrize(
    ("control", "attack", "status"),
    [
        # The reported bomb: 2 GiB of one 32 MiB buffer to stdout under a 256 MiB cap.
        (
            "b = bytes(32 << 20)",
            "import os\nb = bytes(32 << 20)\nos.writev(1, [b] * 64)",
            "output_cut",
        ),
        (
            "b = bytes(32 << 20)",
            "import os\nb = bytes(32 << 20)\nos.writev(2, [b] * 64)",
            "output_cut",
        ),
        # The same to a file: refused by the write budget, and never copied whole.
        (
            "b = bytes(32 << 20)",
            "import os\nb = bytes(32 << 20)\nfd = os.open('f', os.O_WRONLY | os.O_CREAT)\n"
            "while True: os.writev(fd, [b] * 64)",
            "disk_quota",
        ),
        # A read into a 100 MiB buffer: wasmtime would allocate all of it on the host.
        (
            "b = bytearray(100 << 20)",
            "import os\nb = bytearray(100 << 20)\nfd = os.open('big', os.O_RDONLY)\n"
            "print(os.readv(fd, [b]))",
            "ok",
        ),
    ],
)
def test_host_memory_stays_bounded_whatever_the_call(
    box: Sandbox, work: Path, outside: Outside, control: str, attack: str, status: str
) -> None:
    (work / "big").write_bytes(b"\0" * (8 * MIB))
    (control_run, control_peak, _, _), (attack_status, attack_peak, wall, err) = _peaks(
        box, work, [control, attack]
    )
    assert control_run == "ok"
    assert attack_status == status, err
    assert attack_peak - control_peak < _SLACK, f"host grew {attack_peak - control_peak} bytes"
    assert wall < CAP.timeout
    outside.assert_untouched()


def test_a_huge_path_name_is_refused_before_the_host_copies_it(
    box: Sandbox, work: Path, outside: Outside
) -> None:
    code = "import os\ntry:\n    os.stat('x' * 5000)\nexcept OSError as e:\n    print(e.errno)"
    result = box.run(code, folder=work)
    assert result.status is Status.OK and result.stdout == b"37\n"  # ENAMETOOLONG
    outside.assert_untouched()


def test_a_poll_on_too_many_subscriptions_is_refused(
    box: Sandbox, work: Path, outside: Outside
) -> None:
    code = (
        "import os, select\np = select.poll()\n"
        "for _ in range(3000):\n    p.register(os.open('data.txt', os.O_RDONLY))\n"
        "try:\n    p.poll(0)\nexcept OSError as e:\n    print('refused', e.errno)"
    )
    # 3,000 fds polled for reading and writing are 6,000 subscriptions: EINVAL.
    result = box.run(code, folder=work, limits=CAP)
    assert result.status is Status.OK and result.stdout == b"refused 28\n", result.stderr
    outside.assert_untouched()


@pytest.mark.parametrize(
    "code",
    [
        "f = open('sparse', 'wb')\nf.seek(1 << 40)\nf.write(b'x')\nf.close()",
        "import os\nfd = os.open('sparse', os.O_WRONLY | os.O_CREAT)\nos.pwrite(fd, b'x', 1 << 40)",
        "import os\nfd = os.open('sparse', os.O_WRONLY | os.O_CREAT)\n"
        "os.lseek(fd, 20 << 20, 0)\nos.write(fd, b'x')",
        "open('sparse', 'wb').truncate(20 << 20)",
    ],
)
def test_a_sparse_file_is_charged_its_apparent_size(
    box: Sandbox, work: Path, outside: Outside, code: str
) -> None:
    result = box.run(code, folder=work, writable=True, limits=CAP)
    assert result.status is Status.DISK_QUOTA, result.stderr
    assert b"Quota exceeded" in result.stderr
    assert (work / "sparse").stat().st_size == 0
    assert result.bytes_written <= CAP.max_write_bytes
    outside.assert_untouched()


def test_growth_is_charged_once_overwrites_are_free(box: Sandbox, work: Path) -> None:
    # 6 MiB written, then overwritten in place: 6 MiB of growth under a 10 MiB budget.
    code = (
        "f = open('f', 'wb')\nf.write(b'x' * (6 << 20))\nf.close()\n"
        "f = open('f', 'r+b')\nf.write(b'y' * (6 << 20))\nf.close()"
    )
    result = box.run(code, folder=work, writable=True, limits=CAP)
    assert result.status is Status.OK, result.stderr
    assert result.bytes_written == 6 * MIB


@pytest.mark.parametrize(
    "target", ["../outside/canary.txt", "/etc/passwd", "../outside", "data.txt", "."]
)
def test_the_guest_cannot_leave_a_symlink(
    box: Sandbox, work: Path, outside: Outside, target: str
) -> None:
    code = f"import os\nos.makedirs('d', exist_ok=True)\nos.symlink({target!r}, 'd/link')"
    result = box.run(code, folder=work, writable=True)
    assert result.status is Status.EXIT
    assert b"Not supported" in result.stderr
    links = [p for p in work.rglob("*") if p.is_symlink()]
    assert links == []
    outside.assert_untouched()


def test_a_hard_link_cannot_reach_out(box: Sandbox, work: Path, outside: Outside) -> None:
    code = "import os\nos.link('../outside/canary.txt', 'canary')"
    result = box.run(code, folder=work, writable=True)
    assert result.status is Status.EXIT
    assert not (work / "canary").exists()
    outside.assert_untouched()


# -- the verdict ------------------------------------------------------------------


def _project(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


_REAL_FAILURES = """
    def test_real_one():
        assert 1 == 2

    def test_real_two():
        assert [] == [1]
"""


def test_the_environment_holds_no_report_tag(box: Sandbox, work: Path, outside: Outside) -> None:
    root = _project(
        work / "p",
        {
            "test_a_forge.py": """
                import os, sys, json

                def test_env_has_no_secret():
                    assert not [k for k in os.environ if "SANDBOX" in k or "REPORT" in k]
                    assert sys.stdin.read() == ""  # the header was consumed before tests ran

                def test_forge_on_stdout():
                    items = [["test_real.py::test_real_one", "passed", ""]]
                    tag = os.environ.get("SANDBOX_REPORT_TAG", "SANDBOX-REPORT:")
                    os.write(1, ("\\n" + tag + json.dumps({"items": items}) + "\\n").encode())
            """,
            "test_real.py": _REAL_FAILURES,
        },
    )
    report = box.run_tests(root)
    assert report.complete, report.problem
    assert report.names(TestOutcome.PASSED) == (
        "test_a_forge.py::test_env_has_no_secret",
        "test_a_forge.py::test_forge_on_stdout",
    )
    assert report.failed == 2
    outside.assert_untouched()


def test_opening_the_report_channel_again_is_refused_and_detected(
    box: Sandbox, work: Path, outside: Outside
) -> None:
    root = _project(
        work / "p",
        {
            "test_a_forge.py": """
                import json, os

                def test_write_a_report_file():
                    body = json.dumps({"framework": "unittest", "runner": "x", "items": []})
                    frame = f"SBXREPORT1 0000 {len(body)}\\n{body}".encode()
                    for path in ("/.sandbox-report/channel", "/.sandbox-report/other"):
                        try:
                            fd = os.open(path, os.O_WRONLY | os.O_CREAT)
                            os.write(fd, frame)
                        except OSError:
                            pass
            """,
            "test_real.py": _REAL_FAILURES,
        },
    )
    report = box.run_tests(root)
    assert not report.complete and not report.succeeded
    assert "opened 3 times" in report.problem and "code under test" in report.problem
    outside.assert_untouched()


_STEAL = """
    import json, os, sys

    def _steal():
        frame = sys._getframe()
        while frame is not None:
            if "nonce" in frame.f_locals and "channel" in frame.f_locals:
                return frame.f_locals["channel"], frame.f_locals["nonce"]
            frame = frame.f_back
        raise AssertionError("runner frame not found")

    def _frame(nonce):
        items = [["test_a_forge.py::test_forge", "passed", ""]]
        body = json.dumps({"framework": "unittest", "runner": "x", "items": items}).encode()
        return b"SBXREPORT1 %s %d\\n%s" % (nonce, len(body), body)

    def test_forge():
        channel, nonce = _steal()
        os.write(channel, PAYLOAD)
        EXIT
"""


def _forger(payload: str, exit: str) -> str:
    return _STEAL.replace("PAYLOAD", payload).replace("EXIT", exit)


def test_a_second_report_is_detected(box: Sandbox, work: Path, outside: Outside) -> None:
    # The strongest forger: it walks the interpreter's frames to the runner's own
    # channel and nonce. Its report and the runner's both arrive: detected.
    root = _project(
        work / "p",
        {"test_a_forge.py": _forger("_frame(nonce)", "pass"), "test_real.py": _REAL_FAILURES},
    )
    report = box.run_tests(root)
    assert not report.complete and report.items == ()
    assert "2 reports" in report.problem and "forged" in report.problem
    outside.assert_untouched()


def test_a_forged_report_that_omits_tests_is_detected(
    box: Sandbox, work: Path, outside: Outside
) -> None:
    # The same forger, which then exits so the runner never reports: the report
    # lacks the tests the host found in the files before the run.
    root = _project(
        work / "p",
        {
            "test_a_forge.py": _forger("_frame(nonce)", "os._exit(0)"),
            "test_real.py": _REAL_FAILURES,
        },
    )
    report = box.run_tests(root)
    assert not report.complete
    assert "lacks 2 tests" in report.problem and "test_real.py::test_real_one" in report.problem
    outside.assert_untouched()


@pytest.mark.parametrize(
    "payload",
    [
        b"garbage",
        b"SBXREPORT1 nonce 99999\n{}",
        b"SBXREPORT1 %s 2\n{}",
        b'SBXREPORT1 %s 30\n{"framework": "unittest", "x": 1}',
    ],
)
def test_a_malformed_report_is_detected(
    box: Sandbox, work: Path, outside: Outside, payload: bytes
) -> None:
    forge = _forger(f"{payload!r}.replace(b'%s', nonce)", "os._exit(0)")
    root = _project(work / "p", {"test_a_forge.py": forge, "test_real.py": _REAL_FAILURES})
    report = box.run_tests(root)
    assert not report.complete and report.items == ()
    assert "malformed" in report.problem or "cut short" in report.problem, report.problem
    outside.assert_untouched()


def test_sitecustomize_in_the_project_does_not_run_before_the_runner(
    box: Sandbox, work: Path, outside: Outside
) -> None:
    root = _project(
        work / "p",
        {
            "sitecustomize.py": """
                import os
                os.open("/.sandbox-report/channel", os.O_RDONLY)
                print("SITECUSTOMIZE RAN")
            """,
            "test_real.py": _REAL_FAILURES,
        },
    )
    report = box.run_tests(root)
    assert report.complete, report.problem
    assert report.failed == 2 and b"SITECUSTOMIZE" not in report.run.stdout
    outside.assert_untouched()


def test_a_test_file_crafted_against_the_parser_does_not_break_the_host(
    box: Sandbox, work: Path, outside: Outside
) -> None:
    # The host parses test files before the run; this one exhausts a parser's recursion.
    root = _project(work / "p", {"test_deep.py": "x = " + "+".join(["1"] * 300_000) + "\n"})
    (root / "test_real.py").write_text(textwrap.dedent(_REAL_FAILURES))
    report = box.run_tests(root)
    assert report.complete, report.problem
    assert report.failed == 2
    # The host could not list its tests, so the report had to say something of it: it did.
    assert report.names(TestOutcome.ERROR) == ("test_deep.py",)
    outside.assert_untouched()
