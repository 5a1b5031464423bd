"""Properties of the edit parser and applier: bytes an edit does not touch stay as they were."""

from __future__ import annotations

import difflib
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.brain._diff import split_lines
from swarm.brain._edits import apply_edits, parse_edits, replace_once, whole_file

# Line contents: no line breaks; no leading "-"/"+"/"@" so a diff's lines read back unambiguously.
# Nor a search/replace divider ("=======") line.
content = st.text(alphabet="abxy =():#_\t", min_size=0, max_size=12).filter(
    lambda c: re.fullmatch(r"\s*={5,9}\s*", c) is None
)
ending = st.sampled_from(["\n", "\r\n", "\r"])
# No deadline: a loaded machine must not fail a test of what the code does.
_settings = settings(deadline=None, max_examples=150)


@st.composite
def files(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    """A file text with mixed line endings and perhaps no final newline, and its lines."""
    lines = draw(st.lists(st.tuples(content, ending), min_size=1, max_size=12))
    if draw(st.booleans()) and lines[-1][0]:  # an empty last line without an ending is no line
        lines[-1] = (lines[-1][0], "")
    text = "".join(c + e for c, e in lines)
    return text, split_lines(text)  # "\r" then "\n" is one "\r\n": read the lines back


@_settings
@given(files(), st.data())
def test_replacing_a_unique_line_changes_only_that_line(
    f: tuple[str, list[tuple[str, str]]], data: st.DataObject
) -> None:
    text, lines = f
    contents = [c for c, _ in lines]
    unique = [i for i, c in enumerate(contents) if contents.count(c) == 1]
    if not unique:
        return
    i = data.draw(st.sampled_from(unique))
    new = "NEW" + contents[i]
    out = replace_once("f.py", text, contents[i] + "\n", new + "\n")
    expect = [(new if k == i else c, e) for k, (c, e) in enumerate(lines)]
    # The written line takes the file's usual ending, unless it was the last one without any.
    got = split_lines(out)
    assert [c for c, _ in got] == [c for c, _ in expect]
    assert [e for k, (_, e) in enumerate(got) if k != i] == [
        e for k, (_, e) in enumerate(expect) if k != i
    ]
    assert (got[i][1] == "") == (lines[i][1] == "")


@_settings
@given(files(), st.data())
def test_a_search_equal_to_its_replace_leaves_the_bytes_alone(
    f: tuple[str, list[tuple[str, str]]], data: st.DataObject
) -> None:
    text, lines = f
    contents = [c for c, _ in lines]
    start = data.draw(st.integers(0, len(lines) - 1))
    stop = data.draw(st.integers(start + 1, len(lines)))
    block = "".join(c + "\n" for c in contents[start:stop])
    try:
        out = replace_once("f.py", text, block, block, hint=start)
    except Exception:  # occurs more than once at equal distance from the hint: refused
        return
    # Only the endings inside the block may become the file's usual one.
    assert [c for c, _ in split_lines(out)] == contents
    assert split_lines(out)[:start] == lines[:start]
    assert split_lines(out)[stop:] == lines[stop:]


@_settings
@given(files())
def test_a_whole_file_keeps_the_files_ending_and_final_newline_state(
    f: tuple[str, list[tuple[str, str]]],
) -> None:
    text, lines = f
    answer = "".join(c + "\n" for c, _ in lines)
    out = whole_file(text, answer)
    assert [c for c, _ in split_lines(out)] == [c for c, _ in lines]
    assert out.endswith(("\n", "\r")) == text.endswith(("\n", "\r"))
    endings = {e for _, e in split_lines(out) if e}
    assert len(endings) <= 1


@_settings
@given(
    st.lists(content, min_size=0, max_size=15),
    st.lists(content, min_size=0, max_size=15),
    st.integers(0, 9),
)
def test_a_diff_with_scrambled_hunk_counts_still_turns_a_into_b(
    a: list[str], b: list[str], scramble: int
) -> None:
    old, new = "".join(x + "\n" for x in a), "".join(x + "\n" for x in b)
    diff = "".join(
        difflib.unified_diff(old.splitlines(True), new.splitlines(True), "a/m.py", "b/m.py", n=2)
    )
    if not diff:
        return
    # What small models do: the counts are wrong, the lines are right.
    diff = re.sub(
        r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@",
        lambda m: f"@@ -{m.group(1)},{scramble} +{m.group(2)},{scramble + 3} @@",
        diff,
        flags=re.M,
    )
    answer = f"```diff\n{diff}```\n"

    def read(path: str) -> str:
        if not a:
            raise FileNotFoundError(path)
        return old

    edits = apply_edits(parse_edits(answer), read)
    result = edits[0].new_source if edits else old
    assert result == new


@_settings
@given(files(), st.data(), st.lists(content, max_size=4))
def test_a_search_replace_answer_round_trips_through_the_parser(
    f: tuple[str, list[tuple[str, str]]], data: st.DataObject, replacement: list[str]
) -> None:
    text, lines = f
    contents = [c for c, _ in lines]
    start = data.draw(st.integers(0, len(lines) - 1))
    stop = data.draw(st.integers(start + 1, len(lines)))
    search = contents[start:stop]
    if sum(contents[i : i + len(search)] == search for i in range(len(contents))) != 1:
        return  # not unique: refused, tested elsewhere
    if any(not c.strip() for c in search):
        return  # an all-blank search line may also match by normalised whitespace
    if stop == len(lines) and lines[-1][1] == "" and replacement[-1:] == [""]:
        return  # an empty last line without an ending is no line at all
    block = "".join(c + "\n" for c in search)
    answer = "m.py\n<<<<<<< SEARCH\n" + block + "=======\n"
    answer += "".join(c + "\n" for c in replacement) + ">>>>>>> REPLACE\n"

    def read(path: str) -> str:
        assert path == "m.py"
        return text

    edits = apply_edits(parse_edits(answer), read)
    out = edits[0].new_source if edits else text
    assert out is not None
    assert [c for c, _ in split_lines(out)] == contents[:start] + replacement + contents[stop:]
    assert split_lines(out)[:start] == lines[:start]
