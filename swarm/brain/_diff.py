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


def parse_unified_diff(diff: str, *, recount: bool = False) -> list[FilePatch]:
    """Parse a unified diff into per-file patches; a malformed one raises InvalidRequest.

    ``recount``: the hunk headers' line counts are not trusted (small models
    cannot count): a hunk's body runs to the next hunk, file header or line
    that is not a diff line, and its counts are taken from what it holds.
    """
    lines = [content for content, _end in split_lines(diff)]
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        if _is_file_header(lines, i, strict=not recount):
            patch, i = _file_patch(lines, i, recount)
            patches.append(patch)
        else:
            i += 1
    if not patches:
        raise InvalidRequest(
            "no unified diff found (expected '--- a/path', '+++ b/path', '@@' hunks)"
        )
    return patches


def _is_file_header(lines: list[str], i: int, *, strict: bool) -> bool:
    if not lines[i].startswith("--- "):
        return False
    return strict or (i + 1 < len(lines) and lines[i + 1].startswith("+++ "))


def _file_patch(lines: list[str], i: int, recount: bool) -> tuple[FilePatch, int]:
    """The patch whose '---' header is line ``i``, and the index after it."""
    if i + 1 >= len(lines) or not lines[i + 1].startswith("+++ "):
        raise InvalidRequest(f"diff line {i + 1}: '---' header without a '+++' line after it")
    old_path, new_path = _strip_path(lines[i][4:]), _strip_path(lines[i + 1][4:])
    if old_path is None and new_path is None:
        raise InvalidRequest(f"diff line {i + 1}: both sides are /dev/null")
    path = new_path or old_path or ""
    i += 2
    hunks: list[Hunk] = []
    while i < len(lines) and lines[i].startswith("@@"):
        hunk, i = (_recounted_hunk if recount else _counted_hunk)(lines, i, path)
        hunks.append(hunk)
    if not hunks:
        raise InvalidRequest(f"{path}: file header with no hunks")
    return FilePatch(old_path, new_path, tuple(hunks)), i


def _header(lines: list[str], i: int, *, lenient: bool) -> tuple[int, int, int, int]:
    """A hunk header's (old_start, old_len, new_start, new_len); a lenient read
    takes a header without numbers (``@@ ... @@``) as position unknown (0)."""
    m = _HUNK.match(lines[i])
    if m is None:
        if lenient:
            return 0, 0, 0, 0
        raise InvalidRequest(f"diff line {i + 1}: malformed hunk header {lines[i]!r}")
    old_len = int(m.group(2)) if m.group(2) is not None else 1
    new_len = int(m.group(4)) if m.group(4) is not None else 1
    return int(m.group(1)), old_len, int(m.group(3)), new_len


def _counted_hunk(lines: list[str], i: int, path: str) -> tuple[Hunk, int]:
    """A hunk whose body is exactly as long as its header says."""
    header = lines[i]
    old_start, old_len, new_start, new_len = _header(lines, i, lenient=False)
    i += 1
    body: list[str] = []
    old_seen = new_seen = 0
    while i < len(lines) and (old_seen < old_len or new_seen < new_len):
        line = lines[i] or " "  # a blank context line whose leading space was trimmed
        mark = line[:1]
        if mark not in " -+\\":
            break
        old_seen += mark in " -"
        new_seen += mark in " +"
        body.append(line)
        i += 1
    if old_seen != old_len or new_seen != new_len:
        raise InvalidRequest(
            f"{path}: hunk {header!r} promises -{old_len} +{new_len} "
            f"lines but holds -{old_seen} +{new_seen}"
        )
    if i < len(lines) and lines[i].startswith("\\"):
        body.append(lines[i])
        i += 1
    return Hunk(header, old_start, old_len, new_start, new_len, tuple(body)), i


def _recounted_hunk(lines: list[str], i: int, path: str) -> tuple[Hunk, int]:
    """A hunk whose body runs to the next header or non-diff line, counted as it is."""
    header = lines[i]
    old_start, _, new_start, _ = _header(lines, i, lenient=True)
    i += 1
    body: list[str] = []
    while i < len(lines) and not lines[i].startswith("@@"):
        line = lines[i]
        if _is_file_header(lines, i, strict=False) or line.startswith("diff --git"):
            break
        if line[:1] not in ("", " ", "-", "+", "\\"):
            break
        body.append(line or " ")
        i += 1
    while body and body[-1] == " " and lines[i - 1] == "":
        body.pop()  # blank lines after a hunk are the answer's, not the file's
        i -= 1
    old_len = sum(ln[:1] in " -" for ln in body)
    new_len = sum(ln[:1] in " +" for ln in body)
    if not body:
        raise InvalidRequest(f"{path}: hunk {header!r} holds no lines")
    return Hunk(header, old_start, old_len, new_start, new_len, tuple(body)), i


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
