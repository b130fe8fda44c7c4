"""Levenshtein distance, the persistence figures, and following a span through edits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edittrace.capture.documents import DocumentMirror
from edittrace.capture.persistence import (
    LEVENSHTEIN_LIMIT,
    TrackedSpan,
    levenshtein,
    map_point,
    measure,
)


def table_levenshtein(a: str, b: str) -> int:
    """The textbook dynamic programme, as the reference."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abc \n😀", max_size=30), st.text(alphabet="abc \n😀", max_size=30))
def test_levenshtein_equals_the_textbook_table(a: str, b: str) -> None:
    assert levenshtein(a, b) == table_levenshtein(a, b)


def test_levenshtein_known_values() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert levenshtein("return a + b", "return a + c") == 1
    assert levenshtein("a" * 100, "b" * 70) == 100
    long_a = "x = compute(value)\n" * 200  # 3,800 characters: bit-parallel, still exact
    long_b = long_a.replace("value", "other", 50)
    assert levenshtein(long_a, long_b) == 250


def test_beyond_the_limit_the_distance_is_the_longer_length() -> None:
    a = "a" * (LEVENSHTEIN_LIMIT + 1)
    b = "b" * (LEVENSHTEIN_LIMIT + 5)
    assert levenshtein(a, b) == LEVENSHTEIN_LIMIT + 5


def test_measure_uses_the_cody_normalisation() -> None:
    assert measure("return a + b", "return a + b").unchanged
    edited = measure("return a + b", "return a + c")
    assert (edited.unchanged, edited.mostly_unchanged, edited.distance) == (False, True, 1)
    # 4 edits over 12 characters = 0.333...: not below 0.33
    assert not measure("abcdefghijkl", "abcdefghWXYZ").mostly_unchanged
    assert measure("abcdefghijkl", "abcdefghiXYZ").mostly_unchanged  # 3/12 = 0.25
    assert measure("", "").mostly_unchanged
    assert measure("abc", "").distance == 3


def follow(text: str, start: int, end: int, edits: list[tuple[int, int, str]]) -> str:
    """Apply edits (offsets into the current text) to a mirror and a span; the span's text."""
    mirror = DocumentMirror(text, version=1, encoding="utf-32")
    tracked = TrackedSpan("s", 0, "u", text[start:end], (0, start), (0, end), 0)
    for a, b, inserted in edits:
        applied = mirror.apply(
            {
                "range": {
                    "start": {"line": 0, "character": a},
                    "end": {"line": 0, "character": b},
                },
                "text": inserted,
            }
        )
        tracked.follow(applied)
    return mirror.slice(tracked.start, tracked.end)


def test_span_follows_edits_before_inside_and_across() -> None:
    text = "x = [return a + b] y"
    start, end = 5, 17  # "return a + b"
    assert follow(text, start, end, [(0, 0, "zz")]) == "return a + b"  # before: shifted
    assert follow(text, start, end, [(16, 17, "c")]) == "return a + c"  # inside
    assert follow(text, start, end, [(5, 5, "(")]) == "return a + b"  # at the start: outside
    assert follow(text, start, end, [(17, 17, ")")]) == "return a + b"  # at the end: outside
    assert follow(text, start, end, [(3, 12, "")]) == "a + b"  # deleting across the start
    assert follow(text, start, end, [(14, 20, "")]) == "return a "  # across the end
    assert follow(text, start, end, [(0, 20, "")]) == ""  # all of it
    assert follow(text, start, end, [(5, 17, "pass")]) == "pass"  # rewritten in place


def test_map_point_on_multi_line_edits() -> None:
    mirror = DocumentMirror("a\nbc\nd", version=1)
    applied = mirror.apply(
        {
            "range": {"start": {"line": 0, "character": 1}, "end": {"line": 1, "character": 1}},
            "text": "X\nY\nZ",
        }
    )
    assert mirror.text() == "aX\nY\nZc\nd"
    assert map_point((1, 2), applied, is_start=True) == (2, 2)  # after "c" on the same line
    assert map_point((2, 1), applied, is_start=True) == (3, 1)  # a later line
    assert map_point((0, 0), applied, is_start=True) == (0, 0)  # before
