"""Scenarios on the Recorder, asserting the drained events as a researcher reads them."""

from __future__ import annotations

import hashlib
import re
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edittrace.capture import (
    CaptureError,
    CaptureSettings,
    OfferedCandidate,
    Recorder,
    Scope,
)
from edittrace.protocol.events import validate_event_data
from edittrace.protocol.frames import Event

SESSION = "3f2b8c1e-5d4a-4b6f-9a7e-2c1d0e9f8a7b"
ROOT = "file:///home/ann/project"
URI = f"{ROOT}/src/calc.py"
OTHER = f"{ROOT}/src/other.py"
START = "def add(a, b):\n    "
"""The function body starts at line 1, character 4."""


def make(encoding: str = "utf-16", scope: Scope | None = None, **settings: Any) -> Recorder:
    recorder = Recorder(
        SESSION, CaptureSettings(**settings), scope or Scope([ROOT], include=[], exclude=[])
    )
    recorder.start(
        0,
        client="edittrace-lsp",
        client_version="0.1.0",
        position_encoding=encoding,
        editor="Test Editor",
        editor_version="1.0",
        workspace_folders=[ROOT],
        settings={"capture": {"include": []}},
    )
    return recorder


class Session:
    """A recorder with a document open, and shorthand for the editor's facts."""

    def __init__(self, text: str = START, **settings: Any) -> None:
        self.recorder = make(**settings)
        self.version = 1
        self.recorder.open_document(100, URI, "python", 1, text)
        self.events: list[Event] = []
        self.drain()

    def drain(self) -> list[Event]:
        fresh = self.recorder.events_to_send()
        for event in fresh:
            validate_event_data(event.type, event.data)
        self.events.extend(fresh)
        return fresh

    def type(self, now_ms: int, line: int, character: int, text: str, uri: str = URI) -> None:
        self.replace(now_ms, line, character, line, character, text, uri)

    def replace(
        self, now_ms: int, sl: int, sc: int, el: int, ec: int, text: str, uri: str = URI
    ) -> None:
        self.version += 1
        change = {"range": {"start": pos(sl, sc), "end": pos(el, ec)}, "text": text}
        self.recorder.change_document(now_ms, uri, self.version, [change])

    def offer(self, now_ms: int, suggestion: str, line: int, character: int, *texts: str) -> None:
        here = {"start": pos(line, character), "end": pos(line, character)}
        self.recorder.offer(
            now_ms,
            suggestion=suggestion,
            uri=URI,
            version=self.version,
            position=pos(line, character),
            trigger="automatic",
            latency_ms=12.5,
            candidates=[
                OfferedCandidate(text=text, range=here, provider="builtin", model="ngram")
                for text in texts
            ],
            shown_order=list(range(len(texts))),
        )


def is_recording(recorder: Recorder) -> bool:
    """Read through a call, so the type checker does not narrow the property between reads."""
    return recorder.recording


def pos(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


def about_suggestions(events: list[Event]) -> list[tuple[str, int, dict[str, Any]]]:
    """(type, ts, data) of suggestion events, the way a researcher filters them."""
    return [
        (e.type, e.ts, dict(e.data))
        for e in events
        if e.type.startswith("suggestion.") and e.type != "suggestion.offered"
    ]


def accepted(
    suggestion: str, source: str, text: str, rng: dict[str, Any], version: int
) -> dict[str, Any]:
    return {
        "suggestion": suggestion,
        "candidate": 0,
        "source": source,
        "uri": URI,
        "text": text,
        "range": rng,
        "version": version,
    }


def span(sl: int, sc: int, el: int, ec: int) -> dict[str, Any]:
    return {"start": pos(sl, sc), "end": pos(el, ec)}


def test_session_starts_with_seq_1_and_documents_open_with_a_snapshot() -> None:
    recorder = make()
    recorder.open_document(5, URI, "python", 1, START)
    events = recorder.events_to_send()
    assert [(e.seq, e.type) for e in events] == [
        (1, "session.start"),
        (2, "doc.open"),
        (3, "doc.snapshot"),
    ]
    assert events[0].data["position_encoding"] == "utf-16"
    assert events[1].data == {"uri": URI, "language_id": "python", "version": 1, "text": START}
    assert events[2].data["sha256"] == hashlib.sha256(START.encode()).hexdigest()
    recorder.save_document(6, URI, 1)
    recorder.close_document(7, URI)
    recorder.end(8, "shutdown")
    later = recorder.events_to_send()
    assert [(e.seq, e.type) for e in later] == [
        (4, "doc.save"),
        (5, "doc.close"),
        (6, "session.end"),
    ]


def test_offered_carries_context_candidates_and_order() -> None:
    session = Session("import os\n\ndef add(a, b):\n    \n# end\n", context_chars=8)
    session.offer(1_000, "s1", 3, 4, "return a + b")
    (offered,) = session.drain()
    assert offered.type == "suggestion.offered"
    assert offered.data == {
        "suggestion": "s1",
        "uri": URI,
        "version": 1,
        "position": pos(3, 4),
        "trigger": "automatic",
        "latency_ms": 12.5,
        "candidates": [
            {
                "index": 0,
                "text": "return a + b",
                "range": span(3, 4, 3, 4),
                "provider": "builtin",
                "model": "ngram",
            }
        ],
        "prefix": "b):\n    ",
        "suffix": "\n# end\n",
        "shown_order": [0],
    }
    assert session.recorder.suggestion_candidates("s1") == [
        OfferedCandidate("return a + b", span(3, 4, 3, 4), "builtin", "ngram")
    ]
    assert session.recorder.suggestion_candidates("nope") is None


def test_typed_through_is_an_inferred_accept() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a")
    for i, char in enumerate("return a"):
        session.type(1_100 + i * 100, 1, 4 + i, char)
    last = 1_100 + 7 * 100
    assert session.recorder.next_deadline() == last + 1_000
    session.recorder.tick(last + 999)
    assert about_suggestions(session.drain()) == []
    session.recorder.tick(last + 1_000)
    assert about_suggestions(session.drain()) == [
        ("suggestion.accepted", last, accepted("s1", "inferred", "return a", span(1, 4, 1, 12), 9)),
        (
            "suggestion.ended",
            last,
            {"suggestion": "s1", "candidate": 0, "outcome": "accepted", "source": "inferred"},
        ),
    ]


def test_insertion_then_the_accept_command_is_an_lsp_accept() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a + b")
    session.recorder.shown(1_010, "s1", 0, "bridge")
    session.type(3_000, 1, 4, "return a + b")
    session.recorder.accepted(3_004, "s1", 0, "lsp")
    assert about_suggestions(session.drain()) == [
        ("suggestion.shown", 1_010, {"suggestion": "s1", "candidate": 0, "source": "bridge"}),
        ("suggestion.accepted", 3_004, accepted("s1", "lsp", "return a + b", span(1, 4, 1, 16), 2)),
        (
            "suggestion.ended",
            3_004,
            {
                "suggestion": "s1",
                "candidate": 0,
                "outcome": "accepted",
                "source": "lsp",
                "shown_ms": 1_994,
            },
        ),
    ]
    # A late duplicate (the bridge's end of life) changes nothing: one ended per candidate.
    session.recorder.ended(3_010, "s1", 0, "accepted", "bridge")
    session.recorder.tick(10_000)
    assert about_suggestions(session.drain()) == []


def test_insertion_without_the_command_is_inferred_after_the_grace() -> None:
    session = Session(accept_grace_ms=500)
    session.offer(1_000, "s1", 1, 4, "return a + b")
    # VS Code replaces the item's whole range: here the line's indent is part of it.
    session.replace(2_000, 1, 0, 1, 4, "    return a + b")
    assert session.recorder.next_deadline() == 2_500
    session.recorder.tick(2_500)
    assert [(t, d["source"]) for t, _, d in about_suggestions(session.drain())] == [
        ("suggestion.accepted", "inferred"),
        ("suggestion.ended", "inferred"),
    ]
    # The command arriving after the grace is too late to change the record.
    session.recorder.accepted(2_600, "s1", 0, "lsp")
    assert session.drain() == []


def test_the_accept_command_overrides_an_inference_still_in_its_grace() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "print(a")
    # The editor closed the bracket itself: the insertion is not the candidate's text, so
    # inference says "typed something else" -- until the command says otherwise.
    session.type(2_000, 1, 4, "print(a)")
    session.recorder.accepted(2_003, "s1", 0, "lsp")
    session.recorder.tick(5_000)
    assert [(t, d["source"], d.get("range")) for t, _, d in about_suggestions(session.drain())] == [
        ("suggestion.accepted", "lsp", span(1, 4, 1, 11)),
        ("suggestion.ended", "lsp", None),
    ]


def test_bridge_dismiss_is_rejected_with_time_on_screen() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a")
    session.recorder.shown(1_050, "s1", 0, "bridge")
    session.recorder.shown(1_060, "s1", 0, "bridge")  # repeats are not sent
    session.recorder.ended(4_050, "s1", 0, "rejected", "bridge", user_typing_disagreed=False)
    assert about_suggestions(session.drain()) == [
        ("suggestion.shown", 1_050, {"suggestion": "s1", "candidate": 0, "source": "bridge"}),
        (
            "suggestion.ended",
            4_050,
            {
                "suggestion": "s1",
                "candidate": 0,
                "outcome": "rejected",
                "source": "bridge",
                "reason": "explicit",
                "shown_ms": 3_000,
                "user_typing_disagreed": False,
            },
        ),
    ]


def test_a_new_offer_supersedes_the_open_one() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a", "return b")
    session.offer(1_200, "s2", 1, 4, "return a + b")
    session.recorder.tick(2_200)
    ended = [d for t, _, d in about_suggestions(session.drain()) if t == "suggestion.ended"]
    assert ended == [
        {
            "suggestion": "s1",
            "candidate": index,
            "outcome": "ignored",
            "source": "inferred",
            "reason": "superseded",
        }
        for index in (0, 1)
    ]


def test_typing_something_else_is_ignored_typed_other() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a")
    session.type(1_500, 1, 4, "r")  # agrees so far
    session.type(1_600, 1, 5, "a")  # "ra" is not "re"
    session.recorder.tick(2_600)
    assert about_suggestions(session.drain()) == [
        (
            "suggestion.ended",
            1_600,
            {
                "suggestion": "s1",
                "candidate": 0,
                "outcome": "ignored",
                "source": "inferred",
                "reason": "typed_other",
                "user_typing_disagreed": True,
            },
        )
    ]


def test_leaving_and_closing_the_document() -> None:
    session = Session()
    session.recorder.open_document(200, OTHER, "python", 1, "x = 1\n")
    session.offer(1_000, "s1", 1, 4, "return a")
    session.type(1_500, 0, 0, "# ", uri=OTHER)
    session.offer(2_000, "s2", 1, 4, "pass")
    session.recorder.close_document(2_500, URI)
    session.recorder.tick(5_000)
    reasons = [
        (d["suggestion"], d["reason"])
        for t, _, d in about_suggestions(session.drain())
        if t == "suggestion.ended"
    ]
    # s1 was left (typing elsewhere) before s2 was offered; closing ends s2 and makes s1's
    # inferred outcome final at once.
    assert reasons == [("s1", "left_document"), ("s2", "closed")]


def test_partial_accept_then_leaving_counts_the_accepted_part() -> None:
    session = Session()
    session.recorder.open_document(200, OTHER, "python", 1, "x = 1\n")
    session.offer(1_000, "s1", 1, 4, "return a + b")
    session.type(2_000, 1, 4, "return ")  # the editor inserts the accepted word ...
    session.recorder.partial_accept(2_001, "s1", 0, "word", 7, "bridge")  # ... then says so
    session.type(3_000, 0, 0, "#", uri=OTHER)
    session.recorder.tick(4_000)
    assert about_suggestions(session.drain()) == [
        (
            "suggestion.partial_accept",
            2_001,
            {
                "suggestion": "s1",
                "candidate": 0,
                "kind": "word",
                "accepted_length": 7,
                "source": "bridge",
            },
        ),
        (
            "suggestion.accepted",
            3_000,
            {**accepted("s1", "inferred", "return ", span(1, 4, 1, 11), 2), "partial": True},
        ),
        (
            "suggestion.ended",
            3_000,
            {
                "suggestion": "s1",
                "candidate": 0,
                "outcome": "accepted",
                "source": "inferred",
                "reason": "partial",
            },
        ),
    ]


def test_persistence_with_an_edit_inside_and_a_rewrite() -> None:
    session = Session(persistence_checkpoints_s=(30, 120))
    session.offer(1_000, "s1", 1, 4, "return a + b")
    session.type(10_000, 1, 4, "return a + b")
    session.recorder.accepted(10_002, "s1", 0, "lsp")
    session.type(15_000, 0, 0, "import math\n")  # a line above shifts the span down
    session.replace(20_000, 2, 15, 2, 16, "c")  # "b" -> "c", inside the span
    session.type(21_000, 2, 16, "  # sum")  # typing after the span is not an edit of it
    assert session.recorder.accepted_spans(URI)[0].range == span(2, 4, 2, 16)
    assert session.recorder.next_deadline() == 40_000
    session.recorder.tick(40_000)
    persistence = [d for t, _, d in about_suggestions(session.drain()) if t.endswith("persistence")]
    assert persistence == [
        {
            "suggestion": "s1",
            "candidate": 0,
            "checkpoint_s": 30,
            "unchanged": False,
            "mostly_unchanged": True,
            "distance": 1,
            "accepted_length": 12,
            "current_text": "return a + c",
        }
    ]
    session.replace(60_000, 2, 4, 2, 16, "raise NotImplementedError")
    session.recorder.tick(130_000)
    (late,) = [d for t, _, d in about_suggestions(session.drain()) if t.endswith("persistence")]
    assert late["checkpoint_s"] == 120
    assert late["current_text"] == "raise NotImplementedError"
    assert late["mostly_unchanged"] is False
    assert late["distance"] > 12
    assert session.recorder.next_deadline() is None


def test_closing_the_document_measures_the_remaining_checkpoints_at_once() -> None:
    session = Session(persistence_checkpoints_s=(30, 120))
    session.offer(1_000, "s1", 1, 4, "return a")
    session.type(2_000, 1, 4, "return a")
    session.recorder.accepted(2_001, "s1", 0, "lsp")
    session.replace(5_000, 1, 11, 1, 12, "")  # "return a" -> "return "
    session.recorder.close_document(6_000, URI)
    persistence = [
        (ts, d["checkpoint_s"], d["distance"], d.get("document_closed"))
        for t, ts, d in about_suggestions(session.drain())
        if t.endswith("persistence")
    ]
    assert persistence == [(6_000, 30, 1, True), (6_000, 120, 1, True)]


def test_out_of_scope_and_gitignored_files_produce_no_events() -> None:
    scope = Scope([ROOT], include=["*.py"], exclude=["**/vendor/**"], gitignores={"": "build/\n"})
    recorder = make(scope=scope)
    recorder.events_to_send()
    for uri in (
        f"{ROOT}/build/gen.py",
        f"{ROOT}/README.md",
        f"{ROOT}/lib/vendor/dep.py",
        "file:///home/ann/elsewhere/a.py",
        "untitled:Untitled-1",
    ):
        recorder.open_document(1, uri, "python", 1, "x = 1\n")
        recorder.change_document(2, uri, 2, [{"range": span(0, 0, 0, 0), "text": "y"}])
        recorder.offer(
            3,
            suggestion="s-" + uri,
            uri=uri,
            version=2,
            position=pos(0, 0),
            trigger="invoked",
            latency_ms=1.0,
            candidates=[OfferedCandidate("z", span(0, 0, 0, 0), "builtin")],
            shown_order=[0],
        )
        recorder.save_document(4, uri, 2)
        recorder.close_document(5, uri)
        recorder.tick(100_000)
        assert recorder.document_text(uri) is None
    assert recorder.events_to_send() == []


def test_documents_over_the_size_limit_are_not_recorded() -> None:
    recorder = make(max_document_chars=10)
    recorder.events_to_send()
    recorder.open_document(1, URI, "python", 1, "x" * 11)
    assert recorder.events_to_send() == []
    recorder.open_document(2, OTHER, "python", 1, "x" * 10)
    recorder.change_document(3, OTHER, 2, [{"range": span(0, 0, 0, 0), "text": "y"}])
    assert [e.type for e in recorder.events_to_send()] == [
        "doc.open",
        "doc.snapshot",
        "doc.change",
        "doc.close",
    ]


def test_pause_records_nothing_and_resume_catches_up_with_snapshots() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a")
    session.recorder.pause(2_000)
    assert not is_recording(session.recorder)
    session.type(3_000, 1, 4, "secret plan")
    session.recorder.open_document(3_100, OTHER, "python", 1, "y = 2\n")
    session.offer(3_200, "s2", 1, 15, "x")
    session.recorder.save_document(3_300, URI, session.version)
    assert session.recorder.next_deadline() is None
    session.recorder.resume(4_000)
    assert is_recording(session.recorder)
    events = session.drain()
    assert [(e.type, e.ts) for e in events] == [
        ("suggestion.offered", 1_000),
        ("suggestion.ended", 2_000),
        ("capture.paused", 2_000),
        ("capture.resumed", 4_000),
        ("doc.snapshot", 4_000),
        ("doc.open", 4_000),
        ("doc.snapshot", 4_000),
    ]
    assert events[1].data["reason"] == "paused"
    text = START + "secret plan"
    assert events[4].data == {
        "uri": URI,
        "version": 2,
        "text": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    with pytest.raises(CaptureError, match="unknown suggestion"):
        session.recorder.rate(5_000, "s2", source="lsp", thumbs="up")


def test_closing_while_paused_is_recorded_at_resume() -> None:
    session = Session()
    session.recorder.pause(1_000)
    session.recorder.close_document(1_500, URI)
    session.recorder.resume(2_000)
    assert [e.type for e in session.drain()] == ["capture.paused", "capture.resumed", "doc.close"]


def test_utf16_positions_with_emoji() -> None:
    line = "print('😀', "  # the emoji is two UTF-16 code units
    session = Session(line)
    session.offer(1_000, "s1", 0, 12, "end='😀')")
    session.type(2_000, 0, 12, "end='😀')")
    session.recorder.accepted(2_001, "s1", 0, "lsp")
    accepted_event = about_suggestions(session.drain())[0]
    assert accepted_event[2]["range"] == span(0, 12, 0, 21)
    assert session.recorder.document_text(URI) == "print('😀', end='😀')"


def test_utf8_sessions_count_bytes() -> None:
    recorder = make(encoding="utf-8")
    recorder.open_document(1, URI, "python", 1, "é = 1")
    recorder.change_document(2, URI, 2, [{"range": span(0, 2, 0, 2), "text": "x"}])
    assert recorder.document_text(URI) == "éx = 1"


def replay(text: str, changes: list[dict[str, Any]]) -> str:
    """A researcher's replayer: plain strings, UTF-16 positions."""
    for change in changes:
        if "range" not in change:
            text = change["text"]
            continue
        offsets = []
        for position in (change["range"]["start"], change["range"]["end"]):
            starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
            line_start = starts[position["line"]]
            line_text = re.split(r"\r\n|\r|\n", text[line_start:], maxsplit=1)[0]
            encoded = line_text.encode("utf-16-le")[: position["character"] * 2]
            offsets.append(line_start + len(encoded.decode("utf-16-le")))
        text = text[: offsets[0]] + change["text"] + text[offsets[1] :]
    return text


def test_snapshots_prove_the_replay() -> None:
    session = Session("a😀\nb\n", snapshot_every_changes=3, snapshot_every_ms=10_000)
    session.type(1_000, 0, 3, "c")
    session.replace(1_100, 0, 1, 1, 0, "")
    session.type(1_200, 0, 0, "😀\r\n")
    session.type(1_300, 2, 1, "!")
    session.recorder.tick(11_199)  # 10 s after the snapshot at 1,200: not yet
    session.recorder.tick(11_200)
    events = session.drain()
    assert [e.type for e in events] == ["doc.change"] * 3 + ["doc.snapshot", "doc.change"] + [
        "doc.snapshot"
    ]
    text = "a😀\nb\n"
    opened = session.events[1]
    assert opened.type == "doc.open" and opened.data["text"] == text
    for event in events:
        if event.type == "doc.change":
            text = replay(text, event.data["changes"])
        else:
            assert event.data["text"] == text
            assert event.data["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert events[-1].ts == 11_200
    assert events[-1].data["version"] == 5


def test_seq_is_contiguous_from_1_across_drains() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a")
    session.type(1_100, 1, 4, "return a")
    session.recorder.tick(5_000)
    session.recorder.end(6_000, "shutdown")
    session.drain()
    assert [e.seq for e in session.events] == list(range(1, len(session.events) + 1))
    assert session.events[-1].type == "session.end"


def test_ratings_are_checked_and_recorded() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a", "return b")
    session.drain()
    rate = session.recorder.rate
    rate(2_000, "s1", source="lsp", candidate=1, thumbs="up")
    rate(
        900_000,
        "s1",
        source="bridge",
        stars=4,
        rubric={"correctness": 5, "security": 3},
        comment="ok",
    )
    assert [e.data for e in session.drain()] == [
        {"suggestion": "s1", "source": "lsp", "candidate": 1, "thumbs": "up"},
        {
            "suggestion": "s1",
            "source": "bridge",
            "stars": 4,
            "rubric": {"correctness": 5, "security": 3},
            "comment": "ok",
        },
    ]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"thumbs": "sideways"}, "thumbs must be 'up' or 'down'"),
        ({"stars": 6}, "stars must be a whole number from 1 to 5"),
        ({"stars": True}, "stars must be a whole number from 1 to 5"),
        ({"rubric": {"style": 3}}, "allowed: correctness, efficiency, maintainability, security"),
        ({"rubric": {"correctness": 0}}, "rubric score for correctness"),
        ({"comment": "x" * 10_001}, "at most 10000"),
        ({"candidate": 2, "thumbs": "up"}, "candidates 0 to 1"),
        ({}, "at least one of thumbs, stars, rubric or comment"),
    ]
    for arguments, message in bad:
        with pytest.raises(CaptureError, match=re.escape(message)):
            rate(3_000, "s1", source="lsp", **arguments)
    with pytest.raises(CaptureError, match="unknown suggestion 'nope'"):
        rate(3_000, "nope", source="lsp", thumbs="up")
    assert session.drain() == []


def test_comparison_choices() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a", "return b")
    session.drain()
    session.recorder.compare(
        2_000, "s1", choice="candidate", source="bridge", candidate=1, order=[1, 0], decision_ms=900
    )
    session.recorder.compare(2_100, "s1", choice="both_bad", source="bridge")
    assert [e.data for e in session.drain()] == [
        {
            "suggestion": "s1",
            "choice": "candidate",
            "source": "bridge",
            "candidate": 1,
            "order": [1, 0],
            "decision_ms": 900,
        },
        {"suggestion": "s1", "choice": "both_bad", "source": "bridge"},
    ]
    with pytest.raises(CaptureError, match="'candidate', 'tie' or 'both_bad'"):
        session.recorder.compare(3_000, "s1", choice="first", source="bridge")
    with pytest.raises(CaptureError, match="distinct candidate indexes"):
        session.recorder.compare(3_000, "s1", choice="tie", source="bridge", order=[0, 0])


def test_accepted_spans_newest_first_for_codelens() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "a = 1\n    ")
    session.type(1_100, 1, 4, "a = 1\n    ")
    session.recorder.accepted(1_101, "s1", 0, "lsp")
    session.offer(2_000, "s2", 2, 4, "b = 2")
    session.type(2_100, 2, 4, "b = 2")
    session.recorder.accepted(2_101, "s2", 0, "lsp")
    spans = session.recorder.accepted_spans(URI)
    assert [(s.suggestion, s.range) for s in spans] == [
        ("s2", span(2, 4, 2, 9)),
        ("s1", span(1, 4, 2, 4)),
    ]
    session.recorder.tick(2_101 + 10 * 60 * 1000 + 1)
    assert session.recorder.accepted_spans(URI) == []


def test_lsprotocol_objects_are_taken_as_well_as_maps() -> None:
    from lsprotocol import types as lsp

    session = Session("ab")
    here = lsp.Range(start=lsp.Position(line=0, character=2), end=lsp.Position(line=0, character=2))
    changes: list[Any] = [
        lsp.TextDocumentContentChangePartial(range=here, text="c"),
        lsp.TextDocumentContentChangeWholeDocument(text="xyz"),
    ]
    session.recorder.change_document(1_000, URI, 2, changes)
    session.recorder.offer(
        1_100,
        suggestion="s1",
        uri=URI,
        version=2,
        position=cast(Any, lsp.Position(line=0, character=3)),
        trigger="invoked",
        latency_ms=3.0,
        candidates=[OfferedCandidate("!", cast(Any, here), "builtin")],
        shown_order=[0],
    )
    change, offered = session.drain()
    assert change.data["changes"] == [{"range": span(0, 2, 0, 2), "text": "c"}, {"text": "xyz"}]
    assert offered.data["position"] == pos(0, 3)
    assert offered.data["candidates"][0]["range"] == span(0, 2, 0, 2)
    assert session.recorder.document_text(URI) == "xyz"


def test_old_offers_stay_rateable_only_if_shown_or_accepted() -> None:
    from edittrace.capture.recorder import RECENT_SUGGESTIONS

    session = Session()
    session.offer(1_000, "accepted", 1, 4, "x")
    session.type(1_001, 1, 4, "x")
    session.recorder.accepted(1_002, "accepted", 0, "lsp")
    session.offer(1_003, "shown", 1, 5, "y", "z")
    session.recorder.shown(1_004, "shown", 1, "bridge")
    session.offer(1_005, "unseen", 1, 5, "y")
    for n in range(RECENT_SUGGESTIONS):
        session.offer(2_000 + n, f"later-{n}", 1, 5, "y")
    session.recorder.tick(10_000_000)
    session.recorder.rate(10_000_000, "accepted", source="lsp", thumbs="up")
    session.recorder.rate(10_000_000, "shown", source="lsp", candidate=1, stars=2)
    assert session.recorder.suggestion_candidates("accepted") == [
        OfferedCandidate("x", span(1, 4, 1, 4), "builtin", "ngram")
    ]
    with pytest.raises(CaptureError, match="older than the last 1000 offers"):
        session.recorder.rate(10_000_000, "unseen", source="lsp", thumbs="up")
    session.recorder.shown(10_000_001, "shown", 1, "bridge")  # a repeat, long after
    events = session.drain()
    assert [e.type for e in events[-2:]] == ["rating.submitted", "rating.submitted"]
    assert [e.data["suggestion"] for e in events if e.type == "suggestion.shown"] == ["shown"]


def test_the_bridge_confirms_an_inference_and_keeps_its_reason() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a")
    session.type(1_500, 1, 4, "x")
    session.recorder.ended(1_520, "s1", 0, "ignored", "bridge", user_typing_disagreed=None)
    assert about_suggestions(session.drain()) == [
        (
            "suggestion.ended",
            1_520,
            {
                "suggestion": "s1",
                "candidate": 0,
                "outcome": "ignored",
                "source": "bridge",
                "reason": "typed_other",
                "user_typing_disagreed": True,
            },
        )
    ]


_KINDS = (
    ["offer"] * 4
    + ["type"] * 5
    + ["delete", "shown", "partial", "accept", "end", "leave"] * 2
    + ["close", "open", "pause", "resume", "tick", "save"]
)
_facts = st.lists(
    st.tuples(
        st.sampled_from(_KINDS),
        st.integers(0, 3),
        st.sampled_from(["a", "b", "ab", "\n", "😀", "return a"]),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_facts)
def test_any_order_of_facts_keeps_the_record_consistent(facts: list[tuple[str, int, str]]) -> None:
    """Editors send odd orders: whatever comes, each offered candidate ends exactly once, an
    accept comes only with an accepted ending, every event is valid and snapshots replay."""
    session = Session("x = 1\n")
    session.recorder.open_document(50, OTHER, "python", 1, "y\n")
    now, offers = 1_000, 0
    for kind, number, text in facts:
        now += 300 * (number + 1)
        recorder = session.recorder
        mirror_text = recorder.document_text(URI)
        lines = (mirror_text or "").split("\n")
        line = min(number, len(lines) - 1)
        column = len(lines[line].encode("utf-16-le")) // 2
        suggestion = f"s{max(0, offers - 1 - number % 2)}"
        if kind == "type":
            session.type(now, line, column, text)
        elif kind == "delete":
            session.replace(now, line, 0, line, column, "")
        elif kind == "offer":
            session.offer(now, f"s{offers}", line, column, text, text + "b")
            offers += 1
        elif kind == "shown":
            recorder.shown(now, suggestion, number % 2, "bridge")
        elif kind == "partial":
            recorder.partial_accept(now, suggestion, 0, "word", number, "bridge")
        elif kind == "accept":
            recorder.accepted(now, suggestion, number % 3, "lsp")
        elif kind == "end":
            recorder.ended(
                now, suggestion, 0, ["rejected", "ignored", "accepted"][number % 3], "bridge"
            )
        elif kind == "leave":
            session.type(now, 0, 0, text, uri=OTHER)
        elif kind == "close":
            recorder.close_document(now, URI)
        elif kind == "open":
            recorder.open_document(now, URI, "python", session.version, "z = 2\n")
        elif kind == "pause":
            recorder.pause(now)
        elif kind == "resume":
            recorder.resume(now)
        elif kind == "tick":
            recorder.tick(now + 200_000 * number)
            now += 200_000 * number
        elif kind == "save":
            recorder.save_document(now, URI, None)
    session.recorder.end(now + 1, "shutdown")
    session.drain()
    events = session.events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    offered = {
        (e.data["suggestion"], c["index"])
        for e in events
        if e.type == "suggestion.offered"
        for c in e.data["candidates"]
    }
    ended = [
        (e.data["suggestion"], e.data["candidate"]) for e in events if e.type == "suggestion.ended"
    ]
    assert sorted(ended) == sorted(offered)
    accepted_ends = {
        (e.data["suggestion"], e.data["candidate"])
        for e in events
        if e.type == "suggestion.ended" and e.data["outcome"] == "accepted"
    }
    accepts = [
        (e.data["suggestion"], e.data["candidate"])
        for e in events
        if e.type == "suggestion.accepted"
    ]
    assert sorted(accepts) == sorted(accepted_ends)
    measured = [
        (e.data["suggestion"], e.data["candidate"], e.data["checkpoint_s"])
        for e in events
        if e.type == "suggestion.persistence"
    ]
    assert len(measured) == len(set(measured))
    assert {(suggestion, candidate) for suggestion, candidate, _ in measured} <= accepted_ends
    texts: dict[str, str] = {}
    resuming = False  # snapshots right after a resume jump over the pause (docs/capture.md)
    for event in events:
        uri = str(event.data.get("uri"))
        if event.type == "capture.resumed":
            resuming = True
        elif event.type not in ("doc.open", "doc.snapshot", "doc.close"):
            resuming = False
        if event.type == "doc.snapshot" and resuming:
            texts[uri] = event.data["text"]
        if event.type == "doc.open":
            texts[uri] = event.data["text"]
        elif event.type == "doc.change":
            texts[uri] = replay(texts[uri], event.data["changes"])
        elif event.type == "doc.snapshot":
            assert texts[uri] == event.data["text"]
            assert event.data["sha256"] == hashlib.sha256(texts[uri].encode()).hexdigest()


def test_an_accept_reported_before_its_edit_waits_for_the_text() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a", "return b")
    session.recorder.ended(2_000, "s1", 0, "accepted", "bridge")
    assert about_suggestions(session.drain()) == []
    session.type(2_010, 1, 4, "return a")
    assert about_suggestions(session.drain())[0] == (
        "suggestion.accepted",
        2_000,
        accepted("s1", "bridge", "return a", span(1, 4, 1, 12), 2),
    )
    session.recorder.tick(3_000)
    assert [
        (t, d["candidate"], d.get("reason")) for t, _, d in about_suggestions(session.drain())
    ] == [
        ("suggestion.ended", 1, "other_accepted"),
    ]


def test_an_accept_whose_text_never_comes_is_recorded_without_a_place() -> None:
    session = Session()
    session.offer(1_000, "s1", 1, 4, "return a")
    session.recorder.accepted(2_000, "s1", 0, "lsp")
    session.recorder.accepted(2_001, "s1", 0, "bridge")  # the same accept reported twice
    assert session.recorder.next_deadline() == 3_000
    session.recorder.tick(3_000)
    assert about_suggestions(session.drain()) == [
        (
            "suggestion.accepted",
            2_000,
            {"suggestion": "s1", "candidate": 0, "source": "lsp", "uri": URI, "text": "return a"},
        ),
        (
            "suggestion.ended",
            2_000,
            {"suggestion": "s1", "candidate": 0, "outcome": "accepted", "source": "lsp"},
        ),
    ]
    assert session.recorder.next_deadline() is None
