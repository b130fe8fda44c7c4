"""The document mirror applies LSP changes exactly as an editor would."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edittrace.capture.documents import (
    DocumentMirror,
    advance,
    index_to_units,
    sha256_of,
    split_lines,
    units_to_index,
)

_EOL = re.compile(r"\r\n|\r|\n")


def lsp_lines(text: str) -> list[str]:
    """LSP's view of the lines: split at \\r\\n, \\r and \\n only."""
    return _EOL.split(text)


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def offset_to_position(text: str, offset: int, encoding: str) -> dict[str, int]:
    """Reference conversion written the slow, obvious way."""
    before = text[:offset]
    line = len(_EOL.findall(before))
    # "\r|\n" at the very end of `before` could be half of "\r\n": never split one here.
    line_start = 0
    for match in _EOL.finditer(before):
        line_start = match.end()
    return {"line": line, "character": units(before[line_start:], encoding)}


def change(sl: int, sc: int, el: int, ec: int, text: str) -> dict[str, object]:
    return {
        "range": {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}},
        "text": text,
    }


def test_typing_and_deleting_across_lines() -> None:
    mirror = DocumentMirror("def f():\n    return 1\n", version=1)
    mirror.apply(change(1, 12, 1, 12, " + 2"))
    assert mirror.text() == "def f():\n    return 1 + 2\n"
    mirror.apply(change(0, 7, 1, 4, ""))
    assert mirror.text() == "def f()return 1 + 2\n"
    assert mirror.line_count == 2
    mirror.apply({"text": "x"})
    assert mirror.text() == "x"
    assert mirror.length == 1


def test_utf16_positions_count_an_emoji_as_two_units() -> None:
    mirror = DocumentMirror("a😀b", version=1)
    # "b" starts at UTF-16 unit 3: 'a' is one unit, the emoji a surrogate pair.
    mirror.apply(change(0, 3, 0, 4, "c"))
    assert mirror.text() == "a😀c"
    assert mirror.to_position((0, 2)) == {"line": 0, "character": 3}
    # A position inside the surrogate pair rounds down to the emoji's start.
    assert mirror.to_point({"line": 0, "character": 2}) == (0, 1)


@pytest.mark.parametrize(("encoding", "character"), [("utf-8", 5), ("utf-16", 3), ("utf-32", 2)])
def test_each_position_encoding(encoding: str, character: int) -> None:
    mirror = DocumentMirror("a😀b", version=1, encoding=encoding)
    mirror.apply(change(0, character, 0, character, "X"))
    assert mirror.text() == "a😀Xb"


def test_positions_past_the_end_are_clamped_as_lsp_says() -> None:
    mirror = DocumentMirror("ab\ncd", version=1)
    mirror.apply(change(0, 99, 0, 99, "!"))
    assert mirror.text() == "ab!\ncd"
    mirror.apply(change(7, 0, 9, 0, "?"))
    assert mirror.text() == "ab!\ncd?"


def test_a_lone_cr_and_a_new_lf_become_one_line_break() -> None:
    mirror = DocumentMirror("a\rb", version=1)
    assert mirror.line_count == 2
    mirror.apply(change(1, 0, 1, 0, "\n"))
    assert mirror.text() == "a\r\nb"
    assert mirror.line_count == 2
    assert mirror.line(1) == "b"


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="utf-16"):
        DocumentMirror("", version=1, encoding="latin-1")


def test_helpers_agree_with_plain_string_operations() -> None:
    assert split_lines("a\r\nb\rc\n") == ["a\r\n", "b\r", "c\n", ""]
    assert advance((2, 3), "xy\r\nz") == (3, 1)
    assert units_to_index("é😀x", 3, "utf-8") == 1  # inside the emoji's 4 bytes
    assert index_to_units("é😀x", 2, "utf-8") == 6
    assert sha256_of("é😀") == hashlib.sha256("é😀".encode()).hexdigest()


def test_find_near_prefers_the_occurrence_closest_to_the_point() -> None:
    mirror = DocumentMirror("x = 1\nx = 1\nfoo\nx = 1\n", version=1)
    assert mirror.find_near("x = 1", (3, 0)) == (3, 0)
    assert mirror.find_near("x = 1", (0, 0)) == (0, 0)
    assert mirror.find_near("missing", (0, 0)) is None


_alphabet = st.sampled_from(["a", "b", " ", "\n", "\r", "\r\n", "é", "😀", "\t"])
_texts = st.lists(_alphabet, max_size=12).map("".join)


EditSession = tuple[str, str, list[tuple[int, int, str]]]
"""(position encoding, initial text, edits as (offset, offset, inserted text))."""


@st.composite
def edit_sessions(draw: st.DrawFn) -> EditSession:
    encoding = draw(st.sampled_from(["utf-16", "utf-8", "utf-32"]))
    initial = draw(_texts)
    edits = []
    for _ in range(draw(st.integers(0, 12))):
        a = draw(st.integers(0, 40))
        b = draw(st.integers(0, 40))
        edits.append((a, b, draw(_texts)))
    return encoding, initial, edits


def snap_to_boundary(text: str, offset: int) -> int:
    """An offset that is a valid LSP position: never between \\r and \\n."""
    offset = min(offset, len(text))
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        offset -= 1
    return offset


@settings(max_examples=200, deadline=None)
@given(edit_sessions())
def test_random_edits_match_a_plain_string(
    session: tuple[str, str, list[tuple[int, int, str]]],
) -> None:
    encoding, text, edits = session
    mirror = DocumentMirror(text, version=0, encoding=encoding)
    for version, (a, b, inserted) in enumerate(edits, start=1):
        start, end = sorted((snap_to_boundary(text, a), snap_to_boundary(text, b)))
        lsp_range = {
            "start": offset_to_position(text, start, encoding),
            "end": offset_to_position(text, end, encoding),
        }
        text = text[:start] + inserted + text[end:]
        mirror.apply({"range": lsp_range, "text": inserted})
        mirror.version = version
        assert mirror.text() == text
        assert mirror.length == len(text)
        assert mirror.line_count == len(lsp_lines(text))
        assert [mirror.line(n) for n in range(mirror.line_count)] == lsp_lines(text)
        assert sha256_of(mirror.text()) == sha256_of(text)


@settings(max_examples=200, deadline=None)
@given(_texts, st.integers(0, 20))
def test_positions_round_trip(text: str, offset: int) -> None:
    offset = snap_to_boundary(text, offset)
    for encoding in ("utf-16", "utf-8", "utf-32"):
        mirror = DocumentMirror(text, version=0, encoding=encoding)
        position = offset_to_position(text, offset, encoding)
        point = mirror.to_point(position)
        assert mirror.to_position(point) == position
        assert mirror.slice((0, 0), point) == text[:offset]


def test_emptying_a_line_after_a_lone_cr_joins_the_line_breaks() -> None:
    mirror = DocumentMirror("a\rb\nc", version=1)
    mirror.apply(change(1, 0, 1, 1, ""))
    assert mirror.text() == "a\r\nc"
    assert mirror.line_count == 2
    assert mirror.line(1) == "c"
