"""``swarm sandbox``, in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarm.cli import main


@pytest.fixture(autouse=True)
def _cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_CACHE_DIR", str(cache_dir))


def test_run_prints_output_and_a_status_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "hello.py"
    script.write_text(
        "import sys\nprint('hello', sys.argv[1:], open('/work/hello.py').readline().strip())\n"
    )
    code = main(
        [
            "sandbox",
            "run",
            str(script),
            "--dir",
            str(tmp_path),
            "--timeout",
            "5s",
            "--memory",
            "256M",
            "--arg",
            "x",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out == "hello ['x'] import sys\n"
    assert "[sandbox] ok" in err


def test_run_json_reports_the_deadline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "sleepy.py"
    script.write_text("import time\ntime.sleep(100)\n")
    code = main(["sandbox", "run", str(script), "--timeout", "500ms", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1 and payload["status"] == "deadline"


def test_bad_memory_setting_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "x.py"
    script.write_text("pass\n")
    assert main(["sandbox", "run", str(script), "--memory", "lots"]) == 2
    assert "--memory: not a size: 'lots'" in capsys.readouterr().err


def test_test_command_runs_on_a_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "test_a.py").write_text("def test_ok():\n    open('made.txt', 'w').write('x')\n")
    assert main(["sandbox", "test", str(tmp_path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["passed"], payload["failed"], payload["complete"]) == (1, 0, True)
    assert not (tmp_path / "made.txt").exists()


def test_first_compile_says_so_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty cache dir: this run compiles the interpreter (the one slow test here).
    script = tmp_path / "x.py"
    script.write_text("print('after the compile')\n")
    cold = tmp_path / "cold-cache"
    # The bundled interpreter: an optimised build lives in its own cache dir, not in this one.
    bundled = ["--cache-dir", str(cold), "--runtime", "bundled"]
    assert main(["sandbox", "run", str(script), *bundled]) == 0
    out, err = capsys.readouterr()
    assert out == "after the compile\n"
    first = err.splitlines()[0]
    assert "sandbox: compiling the python-3.12.0 interpreter (epoch-only)" in first
    assert str(cold) in first
    assert main(["sandbox", "run", str(script), *bundled]) == 0
    assert "compiling" not in capsys.readouterr().err  # cached now: nothing to announce


def test_fuel_is_off_unless_asked_and_counted_when_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "x.py"
    script.write_text("pass\n")
    assert main(["sandbox", "run", str(script), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fuel_used"] == 0
    assert main(["sandbox", "run", str(script), "--json", "--fuel", "40e9"]) == 0
    assert json.loads(capsys.readouterr().out)["fuel_used"] > 0
