"""What an edit says about an offered candidate."""

from __future__ import annotations

from typing import Any

from edittrace.capture.documents import DocumentMirror
from edittrace.capture.suggestions import (
    CandidateState,
    Edit,
    OfferedCandidate,
    Verdict,
    judge,
    plan_candidate,
)


def rng(sl: int, sc: int, el: int, ec: int) -> dict[str, Any]:
    return {
        "start": {"line": sl, "character": sc},
        "end": {"line": el, "character": ec},
    }


def planned(
    text: str, candidate: str, where: dict[str, Any]
) -> tuple[DocumentMirror, CandidateState]:
    mirror = DocumentMirror(text, version=1)
    offered = OfferedCandidate(candidate, where, "builtin")
    return mirror, plan_candidate(0, offered, mirror, current=True)


def edit(mirror: DocumentMirror, where: dict[str, Any], text: str) -> Edit:
    return Edit.of(mirror.apply({"range": where, "text": text}))


def test_a_range_over_the_line_start_leaves_only_the_new_text() -> None:
    _, state = planned("    ret", "    return x", rng(0, 0, 0, 7))
    assert (state.insert_at, state.adds, state.leading) == ((0, 7), "urn x", 7)
    assert state.is_insertion and state.inferrable


def test_a_range_over_an_auto_closed_bracket() -> None:
    _, state = planned("f()", "x)", rng(0, 2, 0, 3))
    assert (state.insert_at, state.replaced_end, state.adds) == ((0, 2), (0, 2), "x")


def test_typing_through_then_completing() -> None:
    mirror, state = planned("a = ", "foo(1)", rng(0, 4, 0, 4))
    assert judge(state, edit(mirror, rng(0, 4, 0, 4), "f")) is Verdict.PROGRESS
    assert judge(state, edit(mirror, rng(0, 5, 0, 5), "oo")) is Verdict.PROGRESS
    # backspace over a typed character steps back; the ghost text would show again
    assert judge(state, edit(mirror, rng(0, 6, 0, 7), "")) is Verdict.PROGRESS
    assert state.typed == 2
    assert judge(state, edit(mirror, rng(0, 6, 0, 6), "o(1)")) is Verdict.COMPLETE
    assert state.cursor == (0, 10)
    assert mirror.text() == "a = foo(1)"


def test_disagreeing_edits() -> None:
    mirror, state = planned("a = ", "foo(1)", rng(0, 4, 0, 4))
    assert judge(state, edit(mirror, rng(0, 4, 0, 4), "g")) is Verdict.DISAGREE
    mirror, state = planned("a = \nb", "foo(1)", rng(0, 4, 0, 4))
    assert judge(state, edit(mirror, rng(1, 0, 1, 0), "f")) is Verdict.DISAGREE  # elsewhere
    mirror, state = planned("a = ", "foo(1)", rng(0, 4, 0, 4))
    assert judge(state, edit(mirror, rng(0, 3, 0, 4), "")) is Verdict.DISAGREE  # before it


def test_line_breaks_match_whatever_end_of_line_the_file_uses() -> None:
    mirror, state = planned("x\r\n", "if a:\n    pass", rng(1, 0, 1, 0))
    assert judge(state, edit(mirror, rng(1, 0, 1, 0), "if a:\r\n    pass")) is Verdict.COMPLETE
    assert state.cursor == (2, 8)


def test_a_replacing_candidate_completes_only_on_the_exact_replacement() -> None:
    mirror, state = planned("x = old_name", "x = new_name", rng(0, 0, 0, 12))
    assert not state.is_insertion
    assert judge(state, edit(mirror, rng(0, 0, 0, 12), "x = new_name")) is Verdict.COMPLETE


def test_stale_or_empty_candidates_are_not_inferred() -> None:
    mirror = DocumentMirror("abc", version=2)
    stale = plan_candidate(0, OfferedCandidate("d", rng(0, 3, 0, 3), "b"), mirror, current=False)
    assert not stale.inferrable
    assert judge(stale, edit(mirror, rng(0, 3, 0, 3), "x")) is Verdict.UNRELATED
    empty = plan_candidate(0, OfferedCandidate("abc", rng(0, 0, 0, 3), "b"), mirror, current=True)
    assert not empty.inferrable
