"""The event vocabulary: validation of each type's data, and that docs/protocol.md covers it all."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from edittrace.protocol import EVENT_TYPES, ErrorCode, ProtocolError, validate_event_data
from edittrace.protocol.events import (
    Candidate,
    ComparisonChoice,
    RatingSubmitted,
    SuggestionEnded,
    SuggestionOffered,
)

PROTOCOL_DOC = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text()
RANGE = {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 4}}


def offered() -> SuggestionOffered:
    candidate = Candidate(index=0, text="return x", range=RANGE, provider="builtin", arm="a")
    return SuggestionOffered(
        suggestion="s1",
        uri="file:///w/a.py",
        version=7,
        position={"line": 3, "character": 4},
        trigger="automatic",
        latency_ms=3.5,
        candidates=[candidate.to_data()],
        shown_order=[0],
    )


def test_built_data_validates_and_omits_unset_optionals() -> None:
    data = offered().to_data()
    validate_event_data("suggestion.offered", data)
    assert "prefix" not in data
    assert data["candidates"][0] == {
        "index": 0,
        "text": "return x",
        "range": RANGE,
        "provider": "builtin",
        "arm": "a",
    }


def test_a_missing_required_field_is_named() -> None:
    data = SuggestionEnded(
        suggestion="s1", candidate=0, outcome="ignored", source="inferred"
    ).to_data()
    del data["outcome"]
    with pytest.raises(ProtocolError) as caught:
        validate_event_data("suggestion.ended", data, where="event seq 9")
    assert caught.value.code is ErrorCode.BAD_FRAME
    assert caught.value.message == "event seq 9 (suggestion.ended): data needs 'outcome'"


@pytest.mark.parametrize(
    ("event_type", "data", "needle"),
    [
        (
            "suggestion.ended",
            {"suggestion": "s", "candidate": 0, "outcome": "loved", "source": "lsp"},
            "'outcome' should be one of 'accepted', 'rejected', 'ignored'",
        ),
        (
            "rating.submitted",
            {"suggestion": "s", "source": "lsp", "stars": True},
            "'stars' should be an integer",
        ),
        (
            "rating.submitted",
            {"suggestion": "s", "source": "lsp", "rubric": {"correctness": "high"}},
            "'rubric' should be a map",
        ),
        (
            "doc.change",
            {"uri": "u", "version": 1, "changes": "x"},
            "'changes' should be a list",
        ),
    ],
)
def test_wrong_values_are_explained(event_type: str, data: dict[str, object], needle: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        validate_event_data(event_type, data)
    assert needle in caught.value.message


def test_nil_optional_fields_are_accepted() -> None:
    validate_event_data(
        "comparison.choice",
        {"suggestion": "s", "choice": "tie", "source": "bridge", "candidate": None},
    )


def test_feedback_dataclasses_build_valid_data() -> None:
    rating = RatingSubmitted(
        suggestion="s",
        source="lsp",
        stars=4,
        rubric={"correctness": 5, "efficiency": 4, "maintainability": 4, "security": 5},
    )
    validate_event_data(rating.TYPE, rating.to_data())
    choice = ComparisonChoice(
        suggestion="s", choice="candidate", candidate=1, order=[1, 0], source="bridge"
    )
    validate_event_data(choice.TYPE, choice.to_data())


def documented_rows() -> dict[str, str]:
    """Event type -> the text of its row in the tables of docs/protocol.md."""
    rows = {}
    for line in PROTOCOL_DOC.splitlines():
        match = re.match(r"^\| `([a-z_.]+)` \| (.*)\|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_and_field_is_documented(event_type: str) -> None:
    rows = documented_rows()
    assert event_type in rows, f"{event_type} has no row in docs/protocol.md"
    for field in dataclasses.fields(EVENT_TYPES[event_type]):
        assert f"`{field.name}`" in rows[event_type], (
            f"{event_type}.{field.name} is not documented in docs/protocol.md"
        )


def test_candidate_fields_are_documented() -> None:
    section = PROTOCOL_DOC.split("A **Candidate** is", 1)[1].split("\n\n", 1)[0]
    for field in dataclasses.fields(Candidate):
        assert f'"{field.name}"' in section or f"`{field.name}`" in section
