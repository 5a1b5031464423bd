r"""Unified diffs: a strict parser and applier shared by every provider.

Strict means: every hunk's context and removed lines must match the file
exactly (line endings aside). A hunk may sit at a different line than its
header says (as ``patch`` allows for offsets) only if its old text occurs
exactly once from where the previous hunk ended; there is no fuzz.

Bytes the diff does not change stay as they were: a line ends with whatever
it ended with (``\n``, ``\r\n`` or ``\r``), a form feed is a character in a
line and not a line break, and a missing final newline stays missing unless a
hunk says otherwise (``\ No newline at end of file``). A line a hunk adds takes
the ending of the line it replaces, else the file's most common one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from swarm.brain._errors import InvalidRequest, PatchDoesNotApply

# A line and its ending; only \n, \r\n and \r end a line (str.splitlines also breaks
# at \f, \v, \x1c.. and \u2028, which are characters of a line to Python and to patch).
_LINE = re.compile(r"([^\r\n]*)(\r\n|\n|\r|)")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


@dataclass(frozen=True, slots=True)
class Hunk:
    """One ``@@ -a,b +c,d @@`` hunk: its header and its marked lines."""

    header: str
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[str, ...]  # each starts with " ", "-", "+" or "\\"


@dataclass(frozen=True, slots=True)
class FilePatch:
    """The hunks for one file; ``old_path``/``new_path`` are ``None`` for /dev/null."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        """The repo path this patch changes."""
        return self.new_path or self.old_path or ""


def _strip_path(raw: str) -> str | None:
    name = raw.split("\t", 1)[0].strip()
    if name == "/dev/null":
        return None
    if name.startswith(("a/", "b/")):
        name = name[2:]
    return name


def parse_unified_diff(diff: str) -> list[FilePatch]:
    """Parse a unified diff into per-file patches; a malformed one raises InvalidRequest."""
    lines = [content for content, _end in split_lines(diff)]
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("--- "):
            i += 1
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
            raise InvalidRequest(f"diff line {i + 1}: '---' header without a '+++' line after it")
        old_path, new_path = _strip_path(lines[i][4:]), _strip_path(lines[i + 1][4:])
        if old_path is None and new_path is None:
            raise InvalidRequest(f"diff line {i + 1}: both sides are /dev/null")
        i += 2
        hunks: list[Hunk] = []
        while i < len(lines) and lines[i].startswith("@@"):
            m = _HUNK.match(lines[i])
            if m is None:
                raise InvalidRequest(f"diff line {i + 1}: malformed hunk header {lines[i]!r}")
            header = lines[i]
            old_start, new_start = int(m.group(1)), int(m.group(3))
            old_len = int(m.group(2)) if m.group(2) is not None else 1
            new_len = int(m.group(4)) if m.group(4) is not None else 1
            i += 1
            body: list[str] = []
            old_seen = new_seen = 0
            while i < len(lines) and (old_seen < old_len or new_seen < new_len):
                line = lines[i]
                mark = line[:1]
                if line == "":  # a blank context line whose leading space was trimmed
                    line, mark = " ", " "
                if mark == " ":
                    old_seen += 1
                    new_seen += 1
                elif mark == "-":
                    old_seen += 1
                elif mark == "+":
                    new_seen += 1
                elif mark == "\\":
                    pass
                else:
                    break
                body.append(line)
                i += 1
            if old_seen != old_len or new_seen != new_len:
                raise InvalidRequest(
                    f"{new_path or old_path}: hunk {header!r} promises -{old_len} +{new_len} "
                    f"lines but holds -{old_seen} +{new_seen}"
                )
            if i < len(lines) and lines[i].startswith("\\"):
                body.append(lines[i])
                i += 1
            hunks.append(Hunk(header, old_start, old_len, new_start, new_len, tuple(body)))
        if not hunks:
            raise InvalidRequest(f"{new_path or old_path}: file header with no hunks")
        patches.append(FilePatch(old_path, new_path, tuple(hunks)))
    if not patches:
        raise InvalidRequest(
            "no unified diff found (expected '--- a/path', '+++ b/path', '@@' hunks)"
        )
    return patches


def split_lines(text: str) -> list[tuple[str, str]]:
    """``text`` as (content, ending) pairs; the last ending is "" without a final newline."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _LINE.match(text, pos)
        assert m is not None  # the pattern matches at every position
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return out


def apply_patch(patch: FilePatch, source: str | None) -> str | None:
    """Apply one file's hunks to ``source`` (``None``: the file is absent); ``None`` = deleted."""
    path = patch.path
    if patch.old_path is None and source is not None:
        first = patch.hunks[0]
        raise PatchDoesNotApply(
            path, 1, first.header, "the diff creates a file that already exists"
        )
    if patch.old_path is not None and source is None:
        first = patch.hunks[0]
        raise PatchDoesNotApply(path, 1, first.header, "the file does not exist")
    pairs = split_lines(source or "")
    lines = [content for content, _ in pairs]
    endings = [end for _, end in pairs if end]
    usual = max(sorted(set(endings)), key=endings.count) if endings else "\n"
    out: list[tuple[str, str]] = []
    pos = 0
    for number, hunk in enumerate(patch.hunks, start=1):
        old = [ln[1:] for ln in hunk.lines if ln[:1] in (" ", "-")]
        want = hunk.old_start - 1 if hunk.old_len else hunk.old_start
        at = _locate(lines, old, max(want, 0), pos)
        if at is None:
            found = lines[want : want + len(old)] if 0 <= want < len(lines) else []
            detail = next(
                (
                    f"line {want + k + 1} is {f!r}, the hunk expects {o!r}"
                    for k, (o, f) in enumerate(zip(old, found, strict=False))
                    if o != f
                ),
                f"the hunk's {len(old)} old line(s) are not in the file from line {pos + 1}",
            )
            raise PatchDoesNotApply(path, number, hunk.header, detail)
        out.extend(pairs[pos:at])
        out.extend(_hunk_lines(hunk, pairs[at : at + len(old)], usual))
        pos = at + len(old)
    out.extend(pairs[pos:])
    if patch.new_path is None:
        if out:
            last = patch.hunks[-1]
            raise PatchDoesNotApply(
                path, len(patch.hunks), last.header, "a deletion leaves lines behind"
            )
        return None
    # Only the last line may lack an ending; one that no longer is last gets the usual one.
    fixed = [(c, e or usual) for c, e in out[:-1]] + out[-1:]
    return "".join(c + e for c, e in fixed)


def _hunk_lines(hunk: Hunk, matched: list[tuple[str, str]], usual: str) -> list[tuple[str, str]]:
    """The new lines of one hunk with their endings: context keeps its own, an added line
    takes the ending of the removed line it stands in for, else ``usual``."""
    out: list[tuple[str, str]] = []
    removed: list[str] = []  # endings of the current change block's "-" lines
    added = 0
    k = 0  # index into matched
    for i, line in enumerate(hunk.lines):
        mark, content = line[:1], line[1:]
        if mark == " ":
            out.append(matched[k])
            k += 1
            removed, added = [], 0
        elif mark == "-":
            if added:
                removed, added = [], 0
            removed.append(matched[k][1])
            k += 1
        elif mark == "+":
            ending = removed[added] if added < len(removed) else usual
            out.append((content, ending or usual))
            added += 1
        elif mark == "\\" and i > 0:
            prev = hunk.lines[i - 1][:1]
            if prev in ("+", " ") and out:
                out[-1] = (out[-1][0], "")
    return out


def _locate(lines: list[str], old: list[str], want: int, floor: int) -> int | None:
    """Where ``old`` sits: at ``want`` if it matches, else its one match after ``floor``."""
    n = len(old)
    if want >= floor and lines[want : want + n] == old and (n or want <= len(lines)):
        return want
    if n == 0:
        return None
    hits = [i for i in range(floor, len(lines) - n + 1) if lines[i : i + n] == old]
    return hits[0] if len(hits) == 1 else None
