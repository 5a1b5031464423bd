"""What memory refuses at its edges: a clear error naming the problem, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

import ledger
from swarm.cli import main
from tests.memory.conftest import needs_memory_extra

needs_memory_extra()

from swarm.memory import BadMemoryLocation, MemoryBusy, MemoryStore  # noqa: E402


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite://{tmp_path / 'ledger.sqlite'}"
    with ledger.open_ledger(url) as led:
        led.create_tenant("local")
        led.create_project("local", "shop")
    return url


def test_serve_refuses_memory_on_a_ledger_with_no_folder_beside_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--ledger", "memory:", "--memory", "--listen", "127.0.0.1:0"]) == 2
    assert "no default memory here: --memory-url" in capsys.readouterr().err


def test_search_refuses_a_location_that_is_no_folder_or_server(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["memory", "search", "tax", "--ledger", url, "--project", "shop"]
    assert main([*args, "--memory-url", "ftp://example.org/memory"]) == 2
    assert "give a folder or an http(s):// Qdrant URL" in capsys.readouterr().err
    with pytest.raises(BadMemoryLocation):
        MemoryStore("sqlite:///x")


def test_a_folder_another_holder_has_open_is_busy_not_a_traceback(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "memory"
    with MemoryStore(str(folder)):
        with pytest.raises(MemoryBusy):
            MemoryStore(str(folder))
        args = ["memory", "search", "tax", "--ledger", url, "--project", "shop"]
        assert main([*args, "--memory-url", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "is open in another process" in err and "--server" in err


def test_index_and_search_refuse_a_ledger_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"sqlite://{tmp_path / 'none.sqlite'}"
    assert main(["memory", "index", "--ledger", missing]) == 2
    assert "no ledger at" in capsys.readouterr().err
    assert main(["memory", "search", "tax", "--ledger", missing]) == 2
    assert "no ledger at" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists() and not (tmp_path / "memory").exists()
