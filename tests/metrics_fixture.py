"""Two hand-built sessions whose every metric was computed by hand (see test_collector_metrics).

Session A (alice, python, bridge reports ``suggestion.shown``) and session B (bob,
typescript, no shown events at all, so the shown fallback applies). Timestamps are
explicit so that active time can be added up on paper.
"""

from __future__ import annotations

from pathlib import Path

from edittrace.collector.event_reader import StoredEvent
from edittrace.protocol import Event, EventData
from edittrace.protocol.events import (
    CapturePaused,
    CaptureResumed,
    ComparisonChoice,
    DocChange,
    DocOpen,
    RatingSubmitted,
    SessionEnd,
    SessionStart,
    SuggestionAccepted,
    SuggestionEnded,
    SuggestionOffered,
    SuggestionPartialAccept,
    SuggestionPersistence,
    SuggestionShown,
)

SESSION_A = "00000000-0000-4000-8000-00000000000a"
SESSION_B = "00000000-0000-4000-8000-00000000000b"
A0 = 1_767_225_600_000
B0 = A0 + 10_000_000
POINT = {"line": 0, "character": 0}
RANGE = {"start": POINT, "end": POINT}


def insert(uri: str, text: str) -> DocChange:
    return DocChange(uri=uri, version=1, changes=[{"range": RANGE, "text": text}])


def candidate(index: int, text: str, model: str, arm: str | None = None) -> dict[str, object]:
    found = {"index": index, "text": text, "range": RANGE, "provider": "fake", "model": model}
    if arm is not None:
        found["arm"] = arm
    return found


def offered(
    suggestion: str, uri: str, candidates: list[dict[str, object]], order: list[int]
) -> SuggestionOffered:
    return SuggestionOffered(
        suggestion=suggestion,
        uri=uri,
        version=1,
        position=POINT,
        trigger="automatic",
        latency_ms=40.0,
        candidates=candidates,
        prefix=f"prefix of {suggestion}",
        suffix=f"suffix of {suggestion}",
        shown_order=order,
    )


def persistence(
    suggestion: str, checkpoint: int, unchanged: bool, mostly: bool, distance: int, length: int
) -> SuggestionPersistence:
    return SuggestionPersistence(
        suggestion=suggestion,
        candidate=0,
        checkpoint_s=checkpoint,
        unchanged=unchanged,
        mostly_unchanged=mostly,
        distance=distance,
        accepted_length=length,
    )


START = SessionStart(client="edittrace-lsp", client_version="0.1.0", position_encoding="utf-16")
A_PY = "file:///w/a.py"
B_TS = "file:///w/b.ts"
S1_TEXT = "x):\n    return x\n"  # 17 characters

SESSION_A_EVENTS: list[tuple[int, EventData]] = [
    (0, START),
    (1_000, DocOpen(uri=A_PY, language_id="python", version=1, text="")),
    (2_000, insert(A_PY, "def f(")),
    (3_000, offered("s1", A_PY, [candidate(0, S1_TEXT, "m1")], [0])),
    (3_500, SuggestionShown(suggestion="s1", candidate=0, source="bridge")),
    (4_000, insert(A_PY, S1_TEXT)),
    (4_000, SuggestionAccepted(suggestion="s1", candidate=0, source="lsp", uri=A_PY, text=S1_TEXT)),
    (4_000, SuggestionEnded(suggestion="s1", candidate=0, outcome="accepted", source="lsp")),
    (
        10_000,
        offered(
            "s2",
            A_PY,
            [candidate(0, "print(1)", "m1", "a"), candidate(1, "print(22)", "m2", "b")],
            [1, 0],
        ),
    ),
    (10_100, SuggestionShown(suggestion="s2", candidate=1, source="bridge")),
    (10_200, SuggestionShown(suggestion="s2", candidate=0, source="bridge")),
    (11_000, SuggestionEnded(suggestion="s2", candidate=0, outcome="rejected", source="lsp")),
    (11_000, SuggestionEnded(suggestion="s2", candidate=1, outcome="rejected", source="lsp")),
    (
        12_000,
        ComparisonChoice(
            suggestion="s2", choice="candidate", candidate=1, order=[1, 0], source="bridge"
        ),
    ),
    (34_000, persistence("s1", 30, True, True, 0, 17)),
    (40_000, CapturePaused()),
    (900_000, CaptureResumed()),
    (901_000, insert(A_PY, "abc")),
    (902_000, offered("s3", A_PY, [candidate(0, "yy", "m2")], [0])),
    (902_100, SuggestionShown(suggestion="s3", candidate=0, source="bridge")),
    (
        903_000,
        SuggestionPartialAccept(
            suggestion="s3", candidate=0, kind="word", accepted_length=1, source="bridge"
        ),
    ),
    (903_000, insert(A_PY, "y")),
    (
        903_000,
        SuggestionAccepted(
            suggestion="s3", candidate=0, source="lsp", uri=A_PY, text="y", partial=True
        ),
    ),
    (903_000, SuggestionEnded(suggestion="s3", candidate=0, outcome="accepted", source="lsp")),
    (904_000, persistence("s1", 120, False, True, 2, 17)),
    (933_000, persistence("s3", 30, False, False, 1, 1)),
    (934_000, RatingSubmitted(suggestion="s1", source="bridge", thumbs="up", stars=4)),
    (
        935_000,
        RatingSubmitted(
            suggestion="s1", source="bridge", candidate=0, stars=5, rubric={"correctness": 4}
        ),
    ),
    (936_000, RatingSubmitted(suggestion="s2", source="bridge", candidate=1, thumbs="down")),
    (1_636_000, insert(A_PY, "z")),
    (1_700_000, SessionEnd(reason="shutdown")),
]

SESSION_B_EVENTS: list[tuple[int, EventData]] = [
    (0, START),
    (1_000, DocOpen(uri=B_TS, language_id="typescript", version=1, text="")),
    (2_000, insert(B_TS, "let ")),
    (
        3_000,
        offered("s4", B_TS, [candidate(0, "a = 1;", "m1"), candidate(1, "b = 2;", "m1")], [1, 0]),
    ),
    (4_000, SuggestionEnded(suggestion="s4", candidate=0, outcome="ignored", source="inferred")),
    (4_000, SuggestionEnded(suggestion="s4", candidate=1, outcome="ignored", source="inferred")),
    (5_000, offered("s5", B_TS, [candidate(0, "x;", "m1")], [0])),
    (6_000, insert(B_TS, "x;")),
    (6_000, SuggestionAccepted(suggestion="s5", candidate=0, source="lsp", uri=B_TS, text="x;")),
    (6_000, SuggestionEnded(suggestion="s5", candidate=0, outcome="accepted", source="lsp")),
    (36_000, persistence("s5", 30, True, True, 0, 2)),
]


def protocol_events(script: list[tuple[int, EventData]], base: int) -> list[Event]:
    return [
        Event(seq=seq, type=data.TYPE, ts=base + offset, data=data.to_data())
        for seq, (offset, data) in enumerate(script, 1)
    ]


def stored(
    script: list[tuple[int, EventData]], session: str, base: int, contractor: str
) -> list[StoredEvent]:
    return [
        StoredEvent(session, event.seq, event.type, event.ts, contractor, event.data)
        for event in protocol_events(script, base)
    ]


def fixture_events() -> list[StoredEvent]:
    """Both sessions, as a reader would return them (session, seq order)."""
    return stored(SESSION_A_EVENTS, SESSION_A, A0, "alice") + stored(
        SESSION_B_EVENTS, SESSION_B, B0, "bob"
    )


def fill_database(path: Path) -> None:
    """Store both sessions in a real collector database through ``Store.store_batch``."""
    from edittrace.collector.storage import Store

    store = Store.open(path)
    try:
        for script, session, base, contractor in (
            (SESSION_A_EVENTS, SESSION_A, A0, "alice"),
            (SESSION_B_EVENTS, SESSION_B, B0, "bob"),
        ):
            events = protocol_events(script, base)
            for first in range(0, len(events), 7):  # several batches, as a client sends them
                batch = events[first : first + 7]
                store.store_batch(contractor, session, batch, received_ms=batch[-1].ts + 20)
    finally:
        store.close()
