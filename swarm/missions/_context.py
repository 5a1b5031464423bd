"""What a model-backed coder shows the model: the task, the files it may change, a ranked
repository map, and lessons from memory, within a budget of tokens.

The map is Aider's idea on the scout's index: files ranked by a personalised
PageRank over the import graph (both directions), seeded by what the task names
(paths it spells out, symbols it mentions, the ticket's files and tests), each
listed with its module- and class-level definitions. The files the ticket may
change are shown whole, first; the map fills what is left. A prompt that held
only the target file did far better with small models than one holding the
whole file list (issue 14), so nothing is shown that does not fit or rank.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from swarm.scout import RepoIndex, is_test_file

#: Characters per token, conservatively for code, so a prompt fits the server's window.
CHARS_PER_TOKEN = 3
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DAMPING = 0.85
_ITERATIONS = 30
_NAMES_PER_FILE = 12


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of ``text``'s tokens."""
    return len(text) // CHARS_PER_TOKEN + 1


@dataclass(frozen=True, slots=True)
class Context:
    """The first user turn of a loop's conversation and what went into it."""

    text: str
    whole: tuple[str, ...]  # files shown in full
    mapped: tuple[str, ...]  # files listed in the map


def test_file_of(test_id: str) -> str:
    """The file part of a test id (``tests/test_a.py::T::test_x`` -> ``tests/test_a.py``)."""
    return test_id.split("::", 1)[0]


def seeds_of(index: RepoIndex, task: str, paths: Iterable[str], tests: Iterable[str]) -> set[str]:
    """The files the task names: by path, by the symbols it mentions, the ticket's files
    and its tests' files (and what those import)."""
    files = set(index.files())
    seeds = {p for p in files if p in task}
    seeds |= {p for p in paths if p in files}
    for word in set(_WORD.findall(task)):
        if len(word) < 3:
            continue
        seeds |= {o.path for o in index.defines(word)}
    graph = index.import_graph()
    for test_id in tests:
        path = test_file_of(test_id)
        if path in files:
            seeds.add(path)
            seeds |= graph.get(path, set())
    return seeds


def rank(index: RepoIndex, seeds: set[str]) -> list[str]:
    """Every indexed file, most relevant first: a personalised PageRank over the import
    graph taken both ways (a file matters for what it imports and what imports it)."""
    graph = index.import_graph()
    nodes = sorted(set(index.files()) | set(graph))
    if not nodes:
        return []
    links: dict[str, set[str]] = {n: set() for n in nodes}
    for src, targets in graph.items():
        for dst in targets:
            links[src].add(dst)
            links.setdefault(dst, set()).add(src)
    start = {n: (1.0 if n in seeds else 0.0) for n in nodes}
    total = sum(start.values()) or float(len(nodes))
    personal = {n: (v / total if seeds else 1.0 / total) for n, v in start.items()}
    score = dict(personal)
    for _ in range(_ITERATIONS):
        nxt = {n: (1 - _DAMPING) * personal[n] for n in nodes}
        for n in nodes:
            out = links[n]
            if out:
                share = _DAMPING * score[n] / len(out)
                for m in out:
                    nxt[m] += share
            else:
                for m in nodes:  # a dangling file spreads its rank back to the seeds
                    nxt[m] += _DAMPING * score[n] * personal[m]
        score = nxt
    return sorted(nodes, key=lambda n: (-score[n], n))


def map_line(index: RepoIndex, path: str) -> str:
    """One file in the map: its path and its module- and class-level definitions."""
    try:
        occurrences = index.file(path).occurrences
    except Exception:  # an unreadable or unparsable file is listed by path only
        return path
    names: list[str] = []
    for o in occurrences:
        if o.kind == "definition" and o.scope in ("module", "class") and o.name not in names:
            names.append(f"{o.owner}.{o.name}" if o.owner else o.name)
        if len(names) >= _NAMES_PER_FILE:
            break
    return f"{path}: {', '.join(names)}" if names else path


def build_context(
    index: RepoIndex,
    read: Callable[[str], str | None],
    task: str,
    *,
    paths: Sequence[str] = (),
    tests: Sequence[str] = (),
    budget_tokens: int,
    lessons: str = "",
) -> Context:
    """The first user turn: the task, the files to change in full, the ranked map, the
    lessons, all within ``budget_tokens`` (the task itself is always there)."""
    budget = budget_tokens * CHARS_PER_TOKEN
    head = [f"Task: {task}"]
    if tests:
        head.append("These tests must pass: " + ", ".join(tests))
    parts = ["\n".join(head), ""]
    budget -= len(parts[0]) + 2
    seeds = seeds_of(index, task, paths, tests)
    ranked = rank(index, seeds)
    named = [p for p in ranked if p in seeds and not _is_test(p)][:3]
    # A task that names nothing: the most connected source files, so the model has text
    # to copy its SEARCH lines from (a map alone gives it none).
    chosen = list(paths) or named or [p for p in ranked if not _is_test(p)][:2]
    chosen += [test_file_of(t) for t in tests if test_file_of(t) not in chosen]
    whole: list[str] = []
    for path in chosen:
        text = read(path)
        block = f"{path}\n```\n{text}```\n" if text is not None else f"{path} (a new file)\n"
        if len(block) > budget * 0.8:
            continue
        parts.append(block)
        whole.append(path)
        budget -= len(block)
    if lessons and len(lessons) < budget // 4:
        parts += ["Lessons from earlier missions:", lessons, ""]
        budget -= len(lessons) + 32
    mapped: list[str] = []
    lines: list[str] = []
    for path in ranked:
        if path in whole:
            continue
        line = map_line(index, path)
        if len(line) + 1 > budget:
            break
        lines.append(line)
        mapped.append(path)
        budget -= len(line) + 1
    if lines:
        parts += ["Other files in the repository (most relevant first):", *lines]
    return Context("\n".join(parts).rstrip() + "\n", tuple(whole), tuple(mapped))


def _is_test(path: str) -> bool:
    return is_test_file(path)


def memory_lessons(task: str, tenant: str, project: str, max_tokens: int) -> str:
    """Relevant lessons from semantic memory, once ``swarm.memory.context_for`` exists;
    "" until then, or when it fails (memory is a projection: the loop runs without it)."""
    import importlib

    try:
        # By name, not a static import: memory is built apart (and may sit above missions).
        memory = importlib.import_module("swarm.memory")
    except ImportError:
        return ""
    context_for = getattr(memory, "context_for", None)
    if context_for is None:
        return ""
    try:
        text = context_for(task, tenant=tenant, project=project, max_tokens=max_tokens)
    except Exception:  # memory is an aid, never a reason for a ticket to fail
        return ""
    return text if isinstance(text, str) else ""
