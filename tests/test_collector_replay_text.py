"""replay_text: LSP positions in every encoding, the incremental line index, paste rule, runs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edittrace.collector.replay_text import (
    Provenance,
    classify_insertion,
    common_affixes,
    line_starts,
    offset_at,
    position_at,
    runs,
    shift_line_starts,
)
from tests.support.sessions import position_of

TEXT = st.text(alphabet="ab\n\r\té€😀𝄞", max_size=40)
ENCODING = st.sampled_from(["utf-16", "utf-8", "utf-32"])


@settings(max_examples=150, deadline=None)
@given(TEXT, st.data(), ENCODING)
def test_positions_and_offsets_round_trip(text: str, data: st.DataObject, encoding: str) -> None:
    offset = data.draw(st.integers(0, len(text)))
    position = position_at(text, offset, encoding)
    # The test builder computes positions independently; both must agree.
    assert position == position_of(text, offset, encoding)
    assert offset_at(text, position, encoding) == offset
    assert offset_at(text, position, encoding, line_starts(text)) == offset


@settings(max_examples=150, deadline=None)
@given(TEXT, TEXT, st.data())
def test_the_line_index_follows_every_edit(text: str, inserted: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    starts = line_starts(text)
    shift_line_starts(starts, start, end, inserted)
    assert starts == line_starts(text[:start] + inserted + text[end:])


def test_positions_past_the_end_clamp() -> None:
    text = "ab\ncd"
    assert offset_at(text, {"line": 0, "character": 99}, "utf-16") == 2
    assert offset_at(text, {"line": 7, "character": 0}, "utf-16") == len(text)
    # A character in the middle of a surrogate pair lands after the emoji.
    assert offset_at("😀x", {"line": 0, "character": 1}, "utf-16") == 1


def test_what_counts_as_typed_and_as_pasted() -> None:
    for typed in ("a", "\n", "\n    ", "()", '""', ""):
        assert classify_insertion(typed) is Provenance.TYPED, typed
    for pasted in ("ab", "x = 1", "(a)"):
        assert classify_insertion(pasted) is Provenance.PASTED, pasted


def test_runs_group_equal_neighbours() -> None:
    kinds = bytes([0, 0, 1, 2, 2, 2])
    assert runs(kinds) == [
        (0, 2, Provenance.INITIAL),
        (2, 3, Provenance.TYPED),
        (3, 6, Provenance.ACCEPTED),
    ]
    assert runs(b"") == []


@settings(max_examples=150, deadline=None)
@given(TEXT, TEXT)
def test_common_affixes_are_the_longest_that_do_not_overlap(old: str, new: str) -> None:
    prefix, suffix = common_affixes(old, new)
    assert old[:prefix] == new[:prefix]
    assert prefix + suffix <= min(len(old), len(new))
    assert old[len(old) - suffix :] == new[len(new) - suffix :]
    limit = min(len(old), len(new))
    assert prefix == limit or old[prefix] != new[prefix]
    assert prefix + suffix == limit or old[-1 - suffix] != new[-1 - suffix]
