"""Every shell block of README.md works as written, in order, in a fresh clone.

The blocks fenced ```sh, ```bash or ```console are taken in the order the
README gives them and each runs in its own ``bash -e -o pipefail`` in the
root of a temporary ``git clone`` of this repository at HEAD (what a newcomer
gets), with the installed environment (this interpreter first on PATH, the
clone first on PYTHONPATH so the clone's code is what runs). A block that
must not run here says so on the line before it, with its reason::

    <!-- readme-test: skip (installs into the environment) -->

A block that starts with the install command (``python -m pip install -e
'.[dev]' && ...``, the Quick start's form) runs without it: the test runs in
that installed environment already.

A failure names the block, its line and both its output streams. After the
blocks, the clone's ``git status`` must be clean: an example that edits or
leaves files in the checkout is a failure too. A ```console block runs its
``$ `` lines.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHELLS = ("sh", "bash", "console")
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
BLOCK_TIMEOUT_S = 600
INSTALL = "python -m pip install -e '.[dev]' && "


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced shell block: where it starts, its script, and why it is skipped (if it is)."""

    line: int
    script: str
    skip: str = ""


def shell_blocks(text: str) -> list[Block]:
    """The README's shell blocks in order; a skip marker applies to the block right after it."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = re.fullmatch(r"```(\w*)\s*", lines[i])
        if fence is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        if fence.group(1) in SHELLS:
            body = lines[i + 1 : end]
            if fence.group(1) == "console":
                body = [b[2:] for b in body if b.startswith("$ ")]
            before = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            marker = SKIP.search(before)
            script = "\n".join(body) + "\n"
            script = script.removeprefix(INSTALL)  # the environment is installed already
            blocks.append(Block(i + 1, script, marker["reason"] if marker else ""))
        i = end + 1
    return blocks


def test_the_parser_reads_fences_markers_and_console_prompts() -> None:
    text = "\n".join(
        [
            "```sh",
            "echo one",
            "```",
            "<!-- readme-test: skip (it installs) -->",
            "```bash",
            "echo two",
            "```",
            "```python",
            "print(3)",
            "```",
            "```console",
            "$ echo four",
            "four",
            "```",
        ]
    )
    assert shell_blocks(text) == [
        Block(1, "echo one\n"),
        Block(5, "echo two\n", "it installs"),
        Block(11, "echo four\n"),
    ]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of this repository at HEAD."""
    head = _git(ROOT, "rev-parse", "HEAD").strip()
    target = tmp_path_factory.mktemp("readme") / "swarm"
    _git(ROOT, "clone", "-q", "--no-checkout", str(ROOT), str(target))
    _git(target, "checkout", "-q", head)
    return target


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def _env(clone: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SWARM_") or k == "SWARM_CACHE_DIR"
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = str(clone)
    env["SWARM_CEILING_DIRECTORIES"] = str(clone.parent)  # no stray .swarm/ above the clone
    return env


def _run(block: Block, clone: Path, tmp_path: Path) -> None:
    """Run one block; fail naming it, with its output. Its leftovers are killed after it.

    Output goes to files, not pipes: a daemon a failed block left running would
    hold a pipe open and the wait would last until the timeout.
    """
    out, err = tmp_path / f"block-{block.line}.out", tmp_path / f"block-{block.line}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", block.script],
            cwd=clone,
            env=_env(clone),
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # its own process group: what it leaves is killed below
        )
        try:
            code = proc.wait(BLOCK_TIMEOUT_S)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert code == 0, (
        f"README.md line {block.line}: the block exited {code}\n"
        f"--- block ---\n{block.script}--- stdout ---\n{out.read_text()}"
        f"--- stderr ---\n{err.read_text()}"
    )


def test_every_shell_block_of_the_readme_runs_in_order_in_a_fresh_clone(
    clone: Path, tmp_path: Path
) -> None:
    blocks = shell_blocks((clone / "README.md").read_text("utf-8"))
    assert [b for b in blocks if not b.skip], "the README has no shell block to run"
    assert len([b for b in blocks if b.skip]) <= 3, "skips are for the few blocks that must not run"
    for block in blocks:
        if not block.skip:
            _run(block, clone, tmp_path)
    status = _git(clone, "status", "--porcelain", "--untracked-files=all")
    assert status == "", f"the README's examples changed the checkout:\n{status}"


def test_the_quick_start_install_prefix_is_dropped_and_nothing_else() -> None:
    text = (
        "```sh\n" + INSTALL + "python -m swarm demo\n```\n"
        "```sh\npython -m pip install -e '.[dev]'\n```\n"
    )
    first, second = shell_blocks(text)
    assert first.script == "python -m swarm demo\n"
    assert second.script == "python -m pip install -e '.[dev]'\n"  # not the prefix form
