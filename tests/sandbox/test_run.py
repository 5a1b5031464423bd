"""Ordinary runs: output, exit codes, stdin, environment, the folder."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sandbox import Limits, Sandbox, SandboxInputError, Status


def test_code_prints_and_exits_zero(box: Sandbox) -> None:
    result = box.run("print(6 * 7)")
    assert result.status is Status.OK and result.ok
    assert result.stdout == b"42\n" and result.stderr == b""
    assert result.exit_code == 0
    assert result.fuel_used == 0 and result.wall_time > 0  # unmetered unless Limits.fuel is set


def test_exception_is_exit_status_with_traceback(box: Sandbox) -> None:
    result = box.run("raise ValueError('nope')")
    assert result.status is Status.EXIT and result.exit_code == 1
    assert b"ValueError: nope" in result.stderr


def test_sys_exit_code_is_reported(box: Sandbox) -> None:
    result = box.run("import sys; sys.exit(7)")
    assert (result.status, result.exit_code) == (Status.EXIT, 7)


def test_stdin_is_fed(box: Sandbox) -> None:
    result = box.run("import sys; print(sys.stdin.read().upper())", stdin=b"quiet\n")
    assert result.stdout == b"QUIET\n\n"


def test_environment_is_empty_unless_given(box: Sandbox) -> None:
    assert box.run("import os; print(dict(os.environ))").stdout == b"{}\n"
    given = box.run("import os; print(os.environ['COLOUR'])", env={"COLOUR": "teal"})
    assert given.stdout == b"teal\n"


def test_folder_is_readable_at_work_and_relative(box: Sandbox, folder: Path) -> None:
    result = box.run(
        "print(open('/work/data.txt').read() + open('data.txt').read(), end='')", folder=folder
    )
    assert result.stdout == b"hello from the host\nhello from the host\n"


def test_argv_runs_a_script_in_the_folder(box: Sandbox, folder: Path) -> None:
    (folder / "main.py").write_text("import sys\nprint(sys.argv[1:])\n")
    result = box.run(argv=["/work/main.py", "a", "b"], folder=folder)
    assert result.stdout == b"['a', 'b']\n"


def test_writable_folder_keeps_what_the_guest_writes(box: Sandbox, folder: Path) -> None:
    result = box.run("open('out.txt', 'w').write('made inside')", folder=folder, writable=True)
    assert result.ok, result.stderr
    assert (folder / "out.txt").read_text() == "made inside"
    assert result.files_created == 1 and result.bytes_written == len("made inside")


def test_rewriting_an_existing_file_creates_no_entry(box: Sandbox, folder: Path) -> None:
    result = box.run("open('data.txt', 'w').write('x')", folder=folder, writable=True)
    assert result.ok and result.files_created == 0


def test_read_only_folder_refuses_writes(box: Sandbox, folder: Path) -> None:
    result = box.run("open('out.txt', 'w').write('x')", folder=folder)
    assert result.status is Status.EXIT
    assert not (folder / "out.txt").exists()


def test_sleep_within_deadline_completes(box: Sandbox) -> None:
    result = box.run(
        "import time; t = time.monotonic(); time.sleep(0.2); print(time.monotonic() - t >= 0.2)"
    )
    assert result.stdout == b"True\n"


def test_parallel_runs_keep_their_own_output(box: Sandbox) -> None:
    results: dict[int, bytes] = {}

    def one(i: int) -> None:
        results[i] = box.run(f"import sys; print({i}); print('e{i}', file=sys.stderr)").stdout

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: f"{i}\n".encode() for i in range(4)}


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({}, "code/argv"),
        ({"code": "pass", "argv": ["x.py"]}, "code/argv"),
        ({"argv": []}, "argv"),
        ({"argv": "x.py"}, "argv"),
        ({"code": "pass", "folder": "/no/such/folder"}, "folder"),
        ({"code": "pass", "env": {"A=B": "c"}}, "env"),
        ({"code": "pass", "stdin": "text"}, "stdin"),
    ],
)
def test_bad_input_names_the_setting(box: Sandbox, kwargs: dict[str, object], setting: str) -> None:
    with pytest.raises(SandboxInputError) as caught:
        box.run(**kwargs)  # type: ignore[arg-type]
    assert caught.value.setting == setting


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"timeout": 0}, "limits.timeout"),
        ({"timeout": float("inf")}, "limits.timeout"),
        ({"fuel": 0}, "limits.fuel"),
        ({"memory": 1024}, "limits.memory"),
        ({"max_files": -1}, "limits.max_files"),
    ],
)
def test_bad_limits_name_the_setting(kwargs: dict[str, float], setting: str) -> None:
    with pytest.raises(SandboxInputError) as caught:
        Limits(**kwargs)  # type: ignore[arg-type]
    assert caught.value.setting == setting


def test_readonly_dirs_are_seen_and_cannot_be_written(box: Sandbox, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "lib.py").write_text("VALUE = 7\n")
    code = (
        "import sys\nsys.path.append('/extra')\nimport lib\nprint(lib.VALUE)\n"
        "try:\n    open('/extra/new.txt', 'w')\nexcept OSError as e:\n    print('refused')"
    )
    result = box.run(code, readonly_dirs={"/extra": extra})
    assert result.stdout == b"7\nrefused\n", result.stderr
    assert sorted(p.name for p in extra.iterdir()) == ["lib.py"]


@pytest.mark.parametrize("guest_path", ["extra", "/work", "/", "/a/../b", "/.sandbox-report"])
def test_readonly_dirs_need_an_absolute_guest_path_of_their_own(
    box: Sandbox, tmp_path: Path, guest_path: str
) -> None:
    with pytest.raises(SandboxInputError) as caught:
        box.run("pass", readonly_dirs={guest_path: tmp_path})
    assert caught.value.setting == "readonly_dirs"
