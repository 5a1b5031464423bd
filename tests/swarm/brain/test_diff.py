"""apply_patch keeps what a diff does not change: line endings, form feeds, a missing newline."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.brain import apply_patch, parse_unified_diff
from swarm.brain._diff import split_lines

ENDINGS = ("\n", "\r\n", "\r")
# Characters str.splitlines() would break a line at, besides ordinary text.
CONTENT = st.text(alphabet="ab \t\f\x0b\x1c\x1d\x85\u2028#=", max_size=12)


def _diff(old: list[str], new: list[str], old_has_final: bool) -> str:
    """A unified diff of line contents (endings are the applier's business), with the
    "no newline" marker after the old file's last line when the hunk shows it."""
    body = list(difflib.unified_diff(old, new, "a/f.txt", "b/f.txt", n=1, lineterm=""))
    if not old_has_final and body and body[-1][:1] == " " and body[-1][1:] == old[-1]:
        body.append("\\ No newline at end of file")
    return "\n".join(body) + "\n"


@st.composite
def edits(draw: st.DrawFn) -> tuple[list[tuple[str, str]], list[str]]:
    """A file as (content, ending) pairs, and new contents that keep its last line."""
    # Each line unique, so difflib's alignment is the one the test reasons about.
    contents = [f"{c}~{i}" for i, c in enumerate(draw(st.lists(CONTENT, min_size=2, max_size=12)))]
    mixed = draw(st.booleans())
    style = draw(st.sampled_from(ENDINGS))
    endings = [draw(st.sampled_from(ENDINGS)) if mixed else style for _ in contents]
    if draw(st.booleans()):
        endings[-1] = ""  # no final newline
    new = list(contents[:-1])
    for k in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, max(len(new) - 1, 0)))
        op = draw(st.sampled_from(("replace", "insert", "delete")))
        if op == "replace" and new:
            new[i] = f"{draw(CONTENT)}!{k}"
        elif op == "insert":
            new.insert(i, f"{draw(CONTENT)}+{k}")
        elif new:
            del new[i]
    return list(zip(contents, endings, strict=True)), [*new, contents[-1]]


@settings(max_examples=300, deadline=None)
@given(edits())
def test_a_patch_changes_only_what_it_says(case: tuple[list[tuple[str, str]], list[str]]) -> None:
    pairs, new = case
    source = "".join(c + e for c, e in pairs)
    old = [c for c, _ in pairs]
    if old == new:
        return
    (patch,) = parse_unified_diff(_diff(old, new, bool(pairs[-1][1])))
    result = apply_patch(patch, source)
    assert result is not None
    got = split_lines(result)
    assert [c for c, _ in got] == new  # form feeds and \x1c.. stay inside their lines
    assert got[-1][1] == pairs[-1][1]  # the final newline (or its absence) is kept
    kinds = {e for _, e in pairs if e}
    if len(kinds) == 1:  # a CRLF (or CR, or LF) file stays one
        assert {e for _, e in got[:-1]} <= kinds
    # Lines before the first change keep their exact bytes, ending included.
    same = next(
        i for i, (a, b) in enumerate(zip([*old, None], [*new, None], strict=False)) if a != b
    )
    assert got[:same] == pairs[:same]


def test_crlf_cr_and_form_feed_files_round_trip() -> None:
    for ending in ENDINGS:
        source = ending.join(["a", "\fb", "c", "d"]) + ending
        diff = "--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n \fb\n-c\n+C\n"
        (patch,) = parse_unified_diff(diff)
        assert apply_patch(patch, source) == ending.join(["a", "\fb", "C", "d"]) + ending


def test_a_missing_final_newline_is_kept_added_or_removed_as_the_diff_says() -> None:
    keep = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n\\ No newline at end of file\n"
    (patch,) = parse_unified_diff(keep)
    assert apply_patch(patch, "a\r\nb") == "A\r\nb"
    add = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-b\n\\ No newline at end of file\n+b\n"
    (patch,) = parse_unified_diff(add)
    assert apply_patch(patch, "b") == "b\n"
    drop = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-b\n+b\n\\ No newline at end of file\n"
    (patch,) = parse_unified_diff(drop)
    assert apply_patch(patch, "b\n") == "b"
