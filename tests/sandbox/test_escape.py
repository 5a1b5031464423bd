"""The escape suite: each attempt gets the status it must get, and the host is untouched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandbox import MIB, Limits, Sandbox, Status

from .conftest import snapshot

TIGHT = Limits(timeout=10, memory=64 * MIB, output=1 * MIB, max_files=100, max_write_bytes=10 * MIB)


def test_reading_etc_passwd_fails(box: Sandbox, folder: Path) -> None:
    result = box.run("print(open('/etc/passwd').read())", folder=folder)
    assert result.status is Status.EXIT
    assert b"root:" not in result.stdout and b"No such file" in result.stderr


@pytest.mark.parametrize("path", ["../secret.txt", "/work/../secret.txt", "../../../../etc/passwd"])
def test_dotdot_cannot_leave_the_folder(box: Sandbox, folder: Path, path: str) -> None:
    before = snapshot(folder.parent)
    result = box.run(f"print(open({path!r}).read())", folder=folder, writable=True)
    assert result.status is Status.EXIT
    assert b"TOP-SECRET" not in result.stdout and b"root:" not in result.stdout
    assert snapshot(folder.parent) == before


def test_host_symlink_pointing_out_is_not_followed(box: Sandbox, folder: Path) -> None:
    (folder / "link").symlink_to(folder.parent / "secret.txt")
    (folder / "passwd").symlink_to("/etc/passwd")
    result = box.run("print(open('link').read())", folder=folder)
    assert result.status is Status.EXIT and b"TOP-SECRET" not in result.stdout
    assert box.run("print(open('passwd').read())", folder=folder).status is Status.EXIT


def test_guest_symlink_pointing_out_is_not_followed(box: Sandbox, folder: Path) -> None:
    code = "import os\nos.symlink('../secret.txt', 'out')\nopen('out', 'w').write('overwritten')"
    result = box.run(code, folder=folder, writable=True)
    assert result.status is Status.EXIT
    assert (folder.parent / "secret.txt").read_text() == "TOP-SECRET"


def test_socket_cannot_be_opened(box: Sandbox) -> None:
    result = box.run("import socket; socket.create_connection(('1.1.1.1', 80), timeout=1)")
    assert result.status is Status.EXIT
    assert b"Error" in result.stderr


@pytest.mark.parametrize(
    "code",
    [
        "import subprocess; subprocess.run(['touch', '/tmp/sandbox-pwned'])",
        "import os; os.system('touch /tmp/sandbox-pwned')",
        "import os; os.execv('/bin/sh', ['sh', '-c', 'touch /tmp/sandbox-pwned'])",
    ],
)
def test_no_processes(box: Sandbox, code: str) -> None:
    result = box.run(code)
    assert result.status is Status.EXIT
    assert not os.path.exists("/tmp/sandbox-pwned")


def test_infinite_loop_runs_out_of_fuel(box: Sandbox) -> None:
    result = box.run("while True: pass", limits=Limits(fuel=2_000_000_000, timeout=60))
    assert result.status is Status.OUT_OF_FUEL
    assert result.fuel_used == 2_000_000_000


def test_infinite_loop_without_fuel_cap_hits_the_deadline(box: Sandbox) -> None:
    result = box.run("while True: pass", limits=Limits(fuel=None, timeout=1))
    assert result.status is Status.DEADLINE
    assert 1.0 <= result.wall_time < 3.0


@pytest.mark.parametrize(
    "code",
    [
        "import time; time.sleep(100)",
        "import select; select.select([], [], [], 100)",
        "import time\nwhile True: time.sleep(0.001)",
    ],
)
def test_blocking_calls_stop_at_the_deadline(box: Sandbox, code: str) -> None:
    result = box.run(code, limits=Limits(timeout=1))
    assert result.status is Status.DEADLINE
    assert 1.0 <= result.wall_time < 3.0


@pytest.mark.parametrize(
    "code", ["x = bytearray(1 << 30)", "x = []\nwhile True: x.append(bytearray(1 << 20))"]
)
def test_memory_cap_holds(box: Sandbox, code: str) -> None:
    result = box.run(code, limits=TIGHT)
    assert result.status is Status.MEMORY


def test_printing_100_mb_is_cut(box: Sandbox) -> None:
    result = box.run(
        "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(100): sys.stdout.write(chunk)",
        limits=TIGHT,
    )
    assert result.status is Status.OUTPUT_CUT
    assert len(result.stdout) == TIGHT.output


def test_ten_thousand_files_hit_the_file_cap(box: Sandbox, folder: Path) -> None:
    code = "for i in range(10_000): open(f'f{i}', 'w').close()"
    result = box.run(code, folder=folder, writable=True, limits=TIGHT)
    assert result.status is Status.DISK_QUOTA
    assert len(list(folder.iterdir())) <= TIGHT.max_files + 1  # + data.txt
    assert result.files_created == TIGHT.max_files


def test_directories_count_as_files(box: Sandbox, folder: Path) -> None:
    result = box.run(
        "import os\nfor i in range(10_000): os.mkdir(f'd{i}')",
        folder=folder,
        writable=True,
        limits=TIGHT,
    )
    assert result.status is Status.DISK_QUOTA
    assert len(list(folder.iterdir())) <= TIGHT.max_files + 1


def test_writing_1_gb_hits_the_byte_cap(box: Sandbox, folder: Path) -> None:
    code = "chunk = b'x' * (1 << 20)\nwith open('big', 'wb') as f:\n    for _ in range(1024): f.write(chunk)"
    result = box.run(code, folder=folder, writable=True, limits=TIGHT)
    assert result.status is Status.DISK_QUOTA
    assert (folder / "big").stat().st_size <= TIGHT.max_write_bytes


def test_sparse_truncate_to_1_gb_is_refused(box: Sandbox, folder: Path) -> None:
    result = box.run(
        "open('big', 'wb').truncate(1 << 30)", folder=folder, writable=True, limits=TIGHT
    )
    assert result.status is Status.DISK_QUOTA
    assert (folder / "big").stat().st_size == 0


def test_recursion_stops_with_recursion_error(box: Sandbox) -> None:
    result = box.run("def f(n): return f(n + 1)\nf(0)")
    assert result.status is Status.EXIT and b"RecursionError" in result.stderr


def test_recursion_past_the_limit_crashes_the_guest_not_the_host(box: Sandbox) -> None:
    result = box.run(
        "import sys\nsys.setrecursionlimit(10**7)\ndef f(n): return f(n + 1)\nf(0)",
        limits=Limits(timeout=30, memory=64 * MIB, fuel=5_000_000_000),
    )
    # 3.12 keeps Python frames on the heap: the run ends at a cap, never in the host.
    assert result.status in (Status.MEMORY, Status.OUT_OF_FUEL, Status.CRASH)
    assert box.run("print('still here')").stdout == b"still here\n"
