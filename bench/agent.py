"""Model-backed fixing against a real local model: the coder loop, a single round, and
mini-swe-agent as the peer, on the same tasks, server and model, in the same run.

    python bench/model_setup.py fetch --model 1.5b && python bench/model_setup.py build
    python bench/model_setup.py peer                      # mini-swe-agent in its own venv
    python bench/model_setup.py serve --model 1.5b &      # http://127.0.0.1:8080/v1
    python bench/agent.py --model-url http://127.0.0.1:8080/v1 --model qwen2.5-coder-1.5b \\
        [--tasks clamp_swapped,leap_years] [--ways loop,single,peer] [--out results.json]

Each task of ``bench/agent_tasks/`` (see ``bench/_agent_tasks.py``) is copied
afresh for each way:

1. ``loop``: ``swarm mission fix --repo COPY TEST_ID...`` with ``--rounds N`` (4);
2. ``single``: the same with ``--rounds 1``, which is today's one-shot behaviour;
3. ``peer``: mini-swe-agent (PyPI) driven by ``bench/_peer_mini.py`` in the venv
   ``model_setup.py peer`` makes, pointed at the same endpoint and model, with the
   task's goal and test ids as its task and ``--peer-steps`` steps.

A task counts as solved when, afterwards, every test of the task's repository
passes (checked here, the same way for all three, whatever each one says of
itself). Printed per task and way: solved, model rounds (calls), tokens and wall
time; then the solve rates and the ratios against the targets (loop >= 2x single,
loop >= peer). Runs one way at a time: the CPU serves one request at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _agent_tasks import AgentTask, failing_tests, load_tasks

ROOT = Path(__file__).resolve().parents[1]
PEER_DRIVER = Path(__file__).resolve().parent / "_peer_mini.py"
DEFAULT_PEER_PYTHON = Path.home() / ".cache" / "swarm" / "peer-venv" / "bin" / "python"
WAYS = ("loop", "single", "peer")


@dataclass
class Run:
    """One way's attempt at one task."""

    task: str
    way: str
    solved: bool
    rounds: int
    prompt_tokens: int
    completion_tokens: int
    wall_s: float
    note: str = ""

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _run(cmd: list[str], cwd: Path, timeout_s: float, env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``cmd`` in its own process group; on timeout the whole group is killed."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return -9, out, err + f"\n(killed after {timeout_s:g}s)"
    return proc.returncode, out, err


def run_swarm(task: AgentTask, repo: Path, args: argparse.Namespace, rounds: int) -> Run:
    """``swarm mission fix`` on ``repo`` with at most ``rounds`` model rounds."""
    way = "loop" if rounds > 1 else "single"
    cmd = [
        sys.executable,
        "-m",
        "swarm",
        "mission",
        "fix",
        "--repo",
        str(repo),
        *task.tests,
        "--model-url",
        args.model_url,
        "--model",
        args.model,
        "--rounds",
        str(rounds),
        "--coders",
        "1",
        "--model-timeout",
        str(args.model_timeout),
        "--max-tokens",
        str(args.max_tokens),
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    began = time.perf_counter()
    code, out, err = _run(cmd, repo.parent, args.run_timeout, env)
    wall = time.perf_counter() - began
    report = _last_json(out)
    usage = report.get("model_usage") or {}
    note = str(report.get("reason") or err.strip().splitlines()[-1:] or "")[:160]
    return Run(
        task.name,
        way,
        _solved(repo),
        int(usage.get("calls", 0)),
        int(usage.get("prompt_tokens", 0)),
        int(usage.get("completion_tokens", 0)),
        wall,
        note if code != 0 else "",
    )


def run_peer(task: AgentTask, repo: Path, args: argparse.Namespace) -> Run:
    """mini-swe-agent on ``repo``, in its own venv, against the same endpoint and model."""
    prompt = (
        f"{task.goal}\nThese tests fail and must pass: {' '.join(task.tests)}. "
        "Run them with `python -m pytest -q tests`. Do not change the tests."
    )
    cmd = [
        str(args.peer_python),
        str(PEER_DRIVER),
        "--repo",
        str(repo),
        "--task",
        prompt,
        "--model",
        args.model,
        "--url",
        args.model_url,
        "--steps",
        str(args.peer_steps),
        "--max-tokens",
        str(args.max_tokens),
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    began = time.perf_counter()
    code, out, err = _run(cmd, repo, args.run_timeout, env)
    wall = time.perf_counter() - began
    result = _last_json(out)
    note = str(result.get("exit_status", "")) or (err.strip().splitlines() or [""])[-1]
    return Run(
        task.name,
        "peer",
        _solved(repo),
        int(result.get("calls", 0)),
        int(result.get("prompt_tokens", 0)),
        int(result.get("completion_tokens", 0)),
        wall,
        note[:160] if code != 0 or note else "",
    )


def _last_json(out: str) -> dict[str, Any]:
    """The last JSON object a command printed (its report), or {}."""
    start = out.find("{")
    while start >= 0:
        try:
            value = json.loads(out[start:])
            return value if isinstance(value, dict) else {}
        except ValueError:
            start = out.find("{", start + 1)
    return {}


def _solved(repo: Path) -> bool:
    """Every test of the task's repository passes now."""
    try:
        _, failed = failing_tests(repo)
    except (subprocess.SubprocessError, OSError):
        return False
    return not failed


def run_task(task: AgentTask, ways: list[str], args: argparse.Namespace) -> list[Run]:
    runs = []
    for way in ways:
        with tempfile.TemporaryDirectory(prefix=f"agent-{task.name}-{way}-") as tmp:
            repo = task.copy_to(Path(tmp) / "repo")
            if way == "peer":
                run = run_peer(task, repo, args)
            else:
                run = run_swarm(task, repo, args, args.rounds if way == "loop" else 1)
        print(_line(run), flush=True)
        runs.append(run)
    return runs


def _line(r: Run) -> str:
    mark = "solved" if r.solved else "not solved"
    note = f"  ({r.note})" if r.note and not r.solved else ""
    return (
        f"  {r.task:24s} {r.way:6s} {mark:10s} rounds {r.rounds:2d}  tokens {r.tokens:6d}  "
        f"{r.wall_s:7.1f}s{note}"
    )


def summary(runs: list[Run], ways: list[str], n: int) -> dict[str, Any]:
    """Solve rates, totals and the ratios against the targets."""
    per: dict[str, dict[str, Any]] = {}
    for way in ways:
        mine = [r for r in runs if r.way == way]
        per[way] = {
            "solved": sum(r.solved for r in mine),
            "tasks": len(mine),
            "rounds": sum(r.rounds for r in mine),
            "tokens": sum(r.tokens for r in mine),
            "wall_s": round(sum(r.wall_s for r in mine), 1),
        }
    out: dict[str, Any] = {"tasks": n, "ways": per}

    def ratio(a: str, b: str) -> float | None:
        if a not in per or b not in per:
            return None
        num, den = per[a]["solved"], per[b]["solved"]
        return None if den == 0 else round(num / den, 2)

    out["loop_vs_single"] = ratio("loop", "single")
    out["loop_vs_peer"] = ratio("loop", "peer")
    return out


def _print_summary(s: dict[str, Any]) -> None:
    print(f"\n{s['tasks']} task(s)")
    for way, w in s["ways"].items():
        rate = w["solved"] / w["tasks"] if w["tasks"] else 0.0
        print(
            f"  {way:6s} solved {w['solved']}/{w['tasks']} ({rate:.0%})  rounds {w['rounds']}  "
            f"tokens {w['tokens']}  wall {w['wall_s']}s"
        )
    ways = s["ways"]
    for key, a, b, target in (
        ("loop_vs_single", "loop", "single", 2.0),
        ("loop_vs_peer", "loop", "peer", 1.0),
    ):
        if a in ways and b in ways:
            value = s[key]
            shown = "n/a (the other solved none)" if value is None else f"{value:g}x"
            print(f"  {a} / {b} solved: {shown}  (target >= {target:g}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-url", required=True, help="the OpenAI-compatible base URL")
    parser.add_argument("--model", required=True, help="the model's name as the server knows it")
    parser.add_argument("--tasks", help="comma-separated task names (default: all)")
    parser.add_argument("--ways", default=",".join(WAYS), help="loop,single,peer (default all)")
    parser.add_argument("--rounds", type=int, default=4, help="the loop's rounds (default 4)")
    parser.add_argument("--peer-steps", type=int, default=8, help="mini-swe-agent's step limit")
    parser.add_argument("--peer-python", type=Path, default=DEFAULT_PEER_PYTHON)
    parser.add_argument("--model-timeout", type=float, default=600.0, help="seconds per call")
    parser.add_argument("--max-tokens", type=int, default=768, help="tokens per answer")
    parser.add_argument("--run-timeout", type=float, default=1200.0, help="seconds per run")
    parser.add_argument("--out", type=Path, help="write every run and the summary as JSON")
    args = parser.parse_args(argv)
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    unknown = sorted(set(ways) - set(WAYS))
    if unknown:
        parser.error(f"unknown way(s): {', '.join(unknown)}")
    if "peer" in ways and not Path(args.peer_python).exists():
        parser.error(f"no peer python at {args.peer_python}: run bench/model_setup.py peer")
    names = [n.strip() for n in args.tasks.split(",")] if args.tasks else None
    tasks = load_tasks(names=names)
    print(f"{len(tasks)} task(s), ways {', '.join(ways)}, model {args.model} at {args.model_url}")
    runs: list[Run] = []
    for done, task in enumerate(tasks, 1):
        runs += run_task(task, ways, args)
        if args.out:  # after every task: a run cut short keeps what it measured
            s = summary(runs, ways, done)
            args.out.write_text(json.dumps({"runs": [asdict(r) for r in runs], "summary": s}))
    _print_summary(summary(runs, ways, len(tasks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
