"""The model's edits, in the formats models actually write, parsed and applied safely.

Three formats, tried in this order (an answer is read in one of them):

1. **Search/replace blocks** (Aider's), the default asked for::

       shop/cart.py
       <<<<<<< SEARCH
           if quantity < 0:
       =======
           if quantity <= 0:
       >>>>>>> REPLACE

   The file name is the line before the block (decorations such as backticks,
   ``#`` or ``File:`` are dropped), or the previous block's. An empty SEARCH
   creates a new file.
2. **Unified diffs**, tolerantly: every fenced diff in the answer (not just the
   first), hunk counts recomputed from the hunk's lines, a hunk found by its
   text when its line number is off, and a new file accepted without a
   ``/dev/null`` header.
3. **Whole files**: a fenced block whose info string or preceding line names
   the file.

Applying: the old text (a SEARCH block, a hunk's context and removed lines)
must occur exactly once, or exactly once after whitespace is normalised (then
the replacement is re-indented by the same amount), and never lands anywhere
else silently: text found several times is refused unless a diff's line
number picks one. Otherwise :class:`EditDoesNotApply` names the file, the
first line that failed to match and the file's closest lines, for feedback.

Bytes an edit does not touch stay as they were; the lines it writes take the
file's most common line ending, and a missing final newline stays missing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from swarm.brain._diff import FilePatch, Hunk, parse_unified_diff, split_lines
from swarm.brain._errors import BrainError, EditDoesNotApply, InvalidRequest
from swarm.brain._types import FileEdit

# ORIGINAL/UPDATED: Aider's older marker words, which models trained on it still write.
_SEARCH = re.compile(r"^\s*<{5,9}\s*(SEARCH|ORIGINAL)\b")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9}\s*(REPLACE|UPDATED)\b")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^`\s]*)\s*(\S*)\s*$")
_PATHLIKE = re.compile(r"^[\w.\-]+(?:/[\w.\-]+)*$")
_CLOSEST_MAX = 8  # lines of the file shown back to the model
_SCAN_MAX = 4_000  # files longer than this get no closest-lines search (it is quadratic)


@dataclass(frozen=True, slots=True)
class SearchReplace:
    """Replace ``search`` (found once) in ``path`` with ``replace``; empty search: new file."""

    path: str
    search: str
    replace: str


@dataclass(frozen=True, slots=True)
class WholeFile:
    """The whole new text of ``path``."""

    path: str
    content: str


Edit = SearchReplace | WholeFile | FilePatch


# -- parsing ------------------------------------------------------------------


def parse_edits(answer: str) -> list[Edit]:
    """The edits in a model's answer; InvalidRequest when it holds none (or a broken one)."""
    lines = [content for content, _ in split_lines(answer)]
    if any(_SEARCH.match(line) for line in lines):
        return list(_search_replace_blocks(lines))
    diff = extract_diffs(lines)
    if diff:
        return list(parse_unified_diff(diff, recount=True))
    whole = _whole_files(lines)
    if whole:
        return list(whole)
    raise InvalidRequest(
        "the answer holds no edit: expected search/replace blocks "
        "(<<<<<<< SEARCH / ======= / >>>>>>> REPLACE after the file's path), "
        "a unified diff, or a whole file in a fenced block after its path"
    )


def _search_replace_blocks(lines: list[str]) -> list[SearchReplace]:
    blocks: list[SearchReplace] = []
    path: str | None = None
    i = 0
    while i < len(lines):
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        path = _path_before(lines, i) or path
        if path is None:
            raise InvalidRequest(
                f"answer line {i + 1}: a SEARCH block with no file path on the line before it"
            )
        search, i = _until(lines, i + 1, _DIVIDER, "=======")
        replace, i = _until(lines, i + 1, _REPLACE, ">>>>>>> REPLACE")
        blocks.append(SearchReplace(path, _text(search), _text(replace)))
        i += 1
    return blocks


def _until(lines: list[str], i: int, end: re.Pattern[str], name: str) -> tuple[list[str], int]:
    start = i
    while i < len(lines) and not end.match(lines[i]):
        if _SEARCH.match(lines[i]):
            break
        i += 1
    if i >= len(lines) or not end.match(lines[i]):
        raise InvalidRequest(
            f"answer line {start}: a search/replace block is not closed by a {name!r} line"
        )
    return lines[start:i], i


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _path_before(lines: list[str], i: int) -> str | None:
    """The file path named just before line ``i`` (skipping blanks and a fence opening)."""
    for j in range(i - 1, max(-1, i - 4), -1):
        line = lines[j].strip()
        if not line:
            continue
        fence = _FENCE.match(line)
        if fence:
            named = _as_path(fence.group(3)) or _as_path(fence.group(2).split(":")[-1])
            if named:
                return named
            continue
        if line.endswith(":") and " " in line:
            line = line.rsplit(" ", 1)[1]  # "Here is the new shop/cart.py:"
        return _as_path(line)
    return None


def _as_path(text: str) -> str | None:
    """``text`` as a repo path if it looks like one (``**a/b.py**:`` → ``a/b.py``)."""
    name = text.strip()
    for prefix in ("File:", "file:", "Path:", "path:", "FILE:", "#", "//"):
        name = name.removeprefix(prefix).strip()
    name = name.strip("*`'\":").strip()
    name = name.removeprefix("./")
    if not name or not _PATHLIKE.match(name) or not ("." in name or "/" in name):
        return None
    return name


def extract_diffs(lines: Sequence[str]) -> str:
    """Every unified diff in an answer, fenced or bare, as one diff text ("" if none)."""
    fenced = [block for _, _, block in _fences(lines) if _looks_like_diff(block)]
    if fenced:
        return "".join(_text(block) for block in fenced)
    for i, line in enumerate(lines):
        if line.startswith(("--- ", "diff --git")) and _looks_like_diff(lines[i:]):
            return _text(list(lines[i:]))
    return ""


def _looks_like_diff(block: Sequence[str]) -> bool:
    return any(ln.startswith("--- ") for ln in block) and any(ln.startswith("@@") for ln in block)


def _fences(lines: Sequence[str]) -> list[tuple[int, str, list[str]]]:
    """Fenced blocks as (opening line index, info string, content lines)."""
    out: list[tuple[int, str, list[str]]] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        marker, info = m.group(1), (m.group(2) + " " + m.group(3)).strip()
        j = i + 1
        while j < len(lines) and lines[j].strip() != marker:
            j += 1
        out.append((i, info, list(lines[i + 1 : j])))
        i = j + 1
    return out


def _whole_files(lines: list[str]) -> list[WholeFile]:
    files: list[WholeFile] = []
    for start, info, block in _fences(lines):
        words = info.replace(":", " ").split()
        path = next((p for p in map(_as_path, reversed(words)) if p), None)
        path = path or _path_before(lines, start)
        if path is not None:
            files.append(WholeFile(path, _text(block)))
    return files


# -- applying -----------------------------------------------------------------


def apply_edits(
    edits: Sequence[Edit], read: Callable[[str], str], rationale: str = "proposed by the model"
) -> list[FileEdit]:
    """The files ``edits`` change, in first-edited order; files left as they were are dropped.

    ``read(path)`` gives a file's text and raises FileNotFoundError or KeyError
    when it does not exist. Edits to one file apply one after the other.
    """
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for edit in edits:
        path = edit.path
        if path not in before:
            before[path] = _read(read, path)
            after[path] = before[path]
        after[path] = apply_edit(edit, after[path])
    return [FileEdit(p, after[p], rationale) for p in before if after[p] != before[p]]


def _read(read: Callable[[str], str], path: str) -> str | None:
    try:
        return read(path)
    except (FileNotFoundError, KeyError):
        return None
    except (OSError, BrainError, UnicodeDecodeError) as exc:
        raise EditDoesNotApply(path, f"the file cannot be read: {exc}") from None


def apply_edit(edit: Edit, source: str | None) -> str | None:
    """One edit applied to ``source`` (``None``: no such file); ``None`` means deleted."""
    if isinstance(edit, SearchReplace):
        return replace_once(edit.path, source, edit.search, edit.replace)
    if isinstance(edit, WholeFile):
        return whole_file(source, edit.content)
    return apply_patch_tolerantly(edit, source)


def whole_file(source: str | None, content: str) -> str:
    """``content`` as the file's new text, in the file's line endings and final-newline state."""
    if source is None:
        return content
    pairs = split_lines(source)
    ending = _usual_ending(pairs)
    lines = [c for c, _ in split_lines(content)]
    final = "" if pairs and pairs[-1][1] == "" else ending
    return "".join(line + ending for line in lines[:-1]) + (lines[-1] + final if lines else "")


def replace_once(
    path: str, source: str | None, search: str, replace: str, hint: int | None = None
) -> str:
    """``source`` with ``search``'s one occurrence replaced by ``replace``.

    ``hint`` (0-based line) picks among several occurrences, the nearest one;
    without it several occurrences are refused. An empty ``search`` creates
    the file, or inserts at ``hint`` in an existing one.
    """
    old = [c for c, _ in split_lines(search)]
    new = [c for c, _ in split_lines(replace)]
    if source is None:
        if old:
            raise EditDoesNotApply(path, "the file does not exist", line=old[0])
        return _text(new)
    pairs = split_lines(source)
    if not old:
        if hint is None:
            raise EditDoesNotApply(
                path, "an empty SEARCH block creates a new file, and this file exists"
            )
        return _splice(pairs, min(hint, len(pairs)), 0, new)
    at, new = _find(path, [c for c, _ in pairs], old, new, hint)
    return _splice(pairs, at, len(old), new)


def _usual_ending(pairs: list[tuple[str, str]]) -> str:
    endings = [end for _, end in pairs if end]
    return max(sorted(set(endings)), key=endings.count) if endings else "\n"


def _splice(pairs: list[tuple[str, str]], at: int, n: int, new: list[str]) -> str:
    """``pairs`` with ``n`` lines at ``at`` replaced by ``new``: lines that stay keep
    their endings, a changed line takes the ending of the one it stands in for,
    an added one the file's usual ending."""
    ending = _usual_ending(pairs)
    replaced = pairs[at : at + n]
    written: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, [c for c, _ in replaced], new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            written.extend(replaced[i1:i2])
            continue
        ends = [e for _, e in replaced[i1:i2]]
        written.extend(
            (new[j], ends[k] if k < len(ends) else ending) for k, j in enumerate(range(j1, j2))
        )
    if at + n == len(pairs) and n > 0 and written:
        written[-1] = (written[-1][0], pairs[-1][1])  # a missing final newline stays missing
    out = pairs[:at] + written + pairs[at + n :]
    fixed = [(c, e or ending) for c, e in out[:-1]] + out[-1:]
    for i in range(1, len(fixed)):
        c, e = fixed[i]
        if not c and e.startswith("\n") and fixed[i - 1][1] == "\r":
            fixed[i] = (c, "\r")  # "\r" then "\n" would read back as one "\r\n" line
    return "".join(c + e for c, e in fixed)


def _norm(line: str) -> str:
    return " ".join(line.split())


def _occurrences(lines: list[str], old: list[str], key: Callable[[str], str]) -> list[int]:
    want = [key(x) for x in old]
    have = [key(x) for x in lines]
    n = len(want)
    return [i for i in range(len(have) - n + 1) if have[i : i + n] == want]


def _find(
    path: str, lines: list[str], old: list[str], new: list[str], hint: int | None
) -> tuple[int, list[str]]:
    """Where ``old`` is, and ``new`` re-indented to match when found by normalised text."""
    for key in (str, _norm):
        hits = _occurrences(lines, old, key)
        if len(hits) > 1 and hint is not None:
            nearest = sorted(hits, key=lambda h: abs(h - hint))
            if abs(nearest[0] - hint) < abs(nearest[1] - hint):
                hits = nearest[:1]
        if len(hits) == 1:
            at = hits[0]
            return at, new if key is str else _reindent(old, lines[at : at + len(old)], new)
        if hits:
            where = ", ".join(str(h + 1) for h in hits[:10])
            raise EditDoesNotApply(
                path,
                f"the text to replace occurs {len(hits)} times (at lines {where}); "
                "include more surrounding lines so it occurs once",
            )
    raise _not_found(path, lines, old)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(old: list[str], found: list[str], new: list[str]) -> list[str]:
    """``new`` shifted by the indentation the file's lines have and ``old``'s lack."""
    pair = next(((o, f) for o, f in zip(old, found, strict=True) if o.strip()), None)
    if pair is None:
        return new
    want, have = _indent(pair[0]), _indent(pair[1])
    if want == have:
        return new
    out = []
    for line in new:
        if line.strip() and line.startswith(want):
            line = have + line[len(want) :]
        out.append(line)
    return out


def _not_found(path: str, lines: list[str], old: list[str]) -> EditDoesNotApply:
    """The failure to report: the first line of ``old`` that does not follow its
    longest matched prefix anywhere, and the file's lines most like ``old``."""
    have, want = [_norm(x) for x in lines], [_norm(x) for x in old]
    k, at = 0, -1
    for start in range(len(have)):
        n = 0
        while n < len(want) and start + n < len(have) and have[start + n] == want[n]:
            n += 1
        if n > k:
            k, at = n, start
    k = min(k, len(old) - 1)  # every line matched, yet not together: the next one failed
    line = old[k]
    if k == 0:
        reason = f"no line of the file is {line.strip()!r} (line 1 of the text to replace)"
    else:
        reason = (
            f"lines 1-{k} of the text to replace match at line {at + 1}, but line {k + 1} "
            f"{line.strip()!r} is not what follows them"
        )
    return EditDoesNotApply(path, reason, line=line, closest=_closest(lines, old))


def _closest(lines: list[str], old: list[str]) -> tuple[tuple[int, str], ...]:
    if not lines or len(lines) > _SCAN_MAX:
        return ()
    n = min(len(old), _CLOSEST_MAX)
    target = "\n".join(_norm(x) for x in old[:n])
    normed = [_norm(x) for x in lines]
    best, best_at = -1.0, 0
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for i in range(max(1, len(lines) - n + 1)):
        matcher.set_seq1("\n".join(normed[i : i + n]))
        if matcher.real_quick_ratio() <= best or matcher.quick_ratio() <= best:
            continue
        ratio = matcher.ratio()
        if ratio > best:
            best, best_at = ratio, i
    return tuple((i + 1, lines[i]) for i in range(best_at, min(len(lines), best_at + n)))


def apply_patch_tolerantly(patch: FilePatch, source: str | None) -> str | None:
    """A unified diff's hunks, each found by its text (its line number only breaks ties)."""
    path = patch.path
    if patch.new_path is None:
        if source is None:
            raise EditDoesNotApply(path, "the diff deletes a file that does not exist")
        return None
    if source is None and any(_old_lines(h) for h in patch.hunks):
        raise EditDoesNotApply(path, "the file does not exist", line=_old_lines(patch.hunks[0])[0])
    text = source
    shift = 0  # how many lines earlier hunks added, so later line numbers still point right
    for number, hunk in enumerate(patch.hunks, start=1):
        old, new = _old_lines(hunk), [ln[1:] for ln in hunk.lines if ln[:1] in " +"]
        # A header without line numbers (read as 0) gives no hint; -0,0 inserts at the top.
        known = hunk.old_start > 0 or not old
        want = hunk.old_start - 1 if old else hunk.old_start
        hint = max(want + shift, 0) if known else None
        try:
            text = replace_once(path, text, _text(old), _text(new), hint)
        except EditDoesNotApply as exc:
            raise _in_hunk(exc, number, hunk) from None
        shift += len(new) - len(old)
    return text


def _old_lines(hunk: Hunk) -> list[str]:
    return [ln[1:] for ln in hunk.lines if ln[:1] in " -"]


def _in_hunk(exc: EditDoesNotApply, number: int, hunk: Hunk) -> EditDoesNotApply:
    from swarm.brain._errors import PatchDoesNotApply

    return PatchDoesNotApply(exc.path, number, hunk.header, exc.reason, exc.line, exc.closest)


__all__ = [
    "Edit",
    "SearchReplace",
    "WholeFile",
    "apply_edit",
    "apply_edits",
    "apply_patch_tolerantly",
    "extract_diffs",
    "parse_edits",
    "replace_once",
    "whole_file",
]
