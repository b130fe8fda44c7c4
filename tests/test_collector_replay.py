"""The replay API against real collector databases filled through Store.store_batch."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edittrace.collector.replay import Replay, ReplayMismatch, SessionReplay
from edittrace.protocol.events import DocChange
from tests.support.sessions import (
    EXPECTED_APP_TEXT,
    SessionBuilder,
    realistic_session,
    sha256_text,
)

APP = "file:///w/app.py"
LIB = "file:///w/lib.rs"


def stored(tmp_path: Path, *builders: SessionBuilder, contractor: str = "alice") -> Replay:
    db = tmp_path / "collector.db"
    for builder in builders:
        builder.store(db, contractor=contractor)
    return Replay.open(db)


def busy_session(encoding: str = "utf-16", snapshot_every: int | None = 7) -> SessionBuilder:
    """Two documents, non-ASCII text (astral plane too), every kind of edit, snapshots."""
    b = SessionBuilder(
        "busy",
        position_encoding=encoding,
        snapshot_every=snapshot_every,
        keep_history=True,
    )
    b.open(APP, "# café ☕\n", "python")
    b.open(LIB, "fn main() {\n}\n", "rust")
    b.type(APP, "s = '😀 é'\n")
    b.type(LIB, '    let x = "𝄞";\n', at=len("fn main() {\n"))
    first = b.offer(APP, ["print(s)  # 😀\n"])
    b.show(first)
    b.accept(first)
    b.backspace(APP, 3)
    b.type(APP, "é\n")
    b.paste(LIB, "// pasted ✓\n", at=0)
    b.replace(APP, 2, 6, "naïve")
    b.replace_all(LIB, "fn main() {}\n")
    b.close(LIB)
    b.type(APP, "end")
    b.open(LIB, "reopened 😀", "rust")
    b.type(LIB, "!")
    b.end()
    return b


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
@pytest.mark.parametrize("provenance", [True, False])
def test_every_seq_replays_exactly_the_documents_the_person_had(
    tmp_path: Path, encoding: str, provenance: bool
) -> None:
    builder = busy_session(encoding)
    session = stored(tmp_path, builder).session("busy")
    assert builder.history is not None
    for seq, expected in enumerate(builder.history, start=1):
        state = session.state_at(seq=seq, provenance=provenance)
        assert {uri: doc.text for uri, doc in state.documents.items()} == expected, seq


def test_seeking_backwards_and_by_time_gives_the_same_states(tmp_path: Path) -> None:
    builder = busy_session()
    session = stored(tmp_path, builder).session("busy")
    assert builder.history is not None
    for seq in (len(builder.events), 30, 5, 31, 12):
        assert session.state_at(seq=seq).documents[APP].text == builder.history[seq - 1][APP]
        event = builder.events[seq - 1]
        assert session.state_at(ts=event.ts).seq == seq
    assert session.state_at(ts=builder.events[0].ts - 1).documents == {}


def test_provenance_tells_typed_accepted_edited_pasted_and_unrecorded(tmp_path: Path) -> None:
    session = stored(tmp_path, realistic_session()).session("session-1")
    document = session.state_at(seq=session.last_seq).documents[APP]
    assert document.text == EXPECTED_APP_TEXT
    assert document.segments() == [
        ("import os\n", "initial"),
        ("def greet(name):\n    ", "typed"),
        ('return "', "accepted_edited"),
        ("Hi", "typed"),
        (', " + name\n', "accepted_edited"),
        ("\n", "typed"),
        ("PI = 3.14159\n", "pasted"),
        ("x = 1\n", "typed"),
        ("# written while paused\n", "unrecorded"),
        ("y", "typed"),
    ]
    assert document.count("pasted") == len("PI = 3.14159\n")
    assert document.provenance_at(0) == "initial"


def test_provenance_is_the_same_whichever_point_the_seek_starts_from(tmp_path: Path) -> None:
    builder = SessionBuilder("long", snapshot_every=5)
    builder.open(APP, "")
    spans = []
    for round_number in range(40):
        builder.type(APP, f"a{round_number} = ")
        suggestion = builder.offer(APP, [f"value({round_number})\n"])
        builder.show(suggestion)
        spans.append(builder.accept(suggestion))
    builder.paste(APP, "PASTED\n", at=0)
    session = stored(tmp_path, builder).session("long")
    late = session.state_at(seq=session.last_seq).documents[APP]
    fresh = Replay.open(tmp_path / "collector.db").session("long")
    assert fresh.state_at(seq=session.last_seq).documents[APP].provenance == late.provenance
    assert late.count("accepted") == sum(len(span.text) for span in spans)
    assert late.segments()[0] == ("PASTED\n", "pasted")


def test_partial_accept_counts_as_accepted_not_pasted(tmp_path: Path) -> None:
    b = SessionBuilder("partial")
    b.open(APP, "x = ")
    suggestion = b.offer(APP, ["compute(alpha, beta)"])
    b.show(suggestion)
    b.partial_accept(suggestion, 0, len("compute("))
    b.partial_accept(suggestion, 0, len("compute(alpha, "))
    b.finish_partial(suggestion, 0)
    b.type(APP, "1)")
    session = stored(tmp_path, b).session("partial")
    document = session.state_at(seq=session.last_seq).documents[APP]
    assert document.segments() == [
        ("x = ", "initial"),
        ("compute(alpha, ", "accepted"),
        ("1)", "typed"),
    ]


def test_visible_suggestions_and_ghost_text_while_typing_through(tmp_path: Path) -> None:
    b = SessionBuilder("ghost")
    b.open(APP, "def f():\n    ")
    suggestion = b.offer(APP, ["return 42\n", "pass\n"])
    offered_seq = b.last_seq
    b.show(suggestion, 0)
    b.type(APP, "ret")
    typed_seq = b.last_seq
    b.reject(suggestion)
    session = stored(tmp_path, b).session("ghost")
    for provenance in (True, False):
        at_offer = session.state_at(seq=offered_seq, provenance=provenance).suggestions
        assert [(s.candidate, s.shown) for s in at_offer] == [(0, False), (1, False)]
        visible = session.state_at(seq=typed_seq, provenance=provenance)
        shown = [s for s in visible.suggestions if s.shown]
        assert [s.text for s in shown] == ["return 42\n"]
        assert shown[0].ghost_text == "urn 42\n"
        text = visible.documents[APP].text
        assert text[: shown[0].ghost_offset] == "def f():\n    ret"
        assert visible.documents[APP].cursor == {"line": 1, "character": 7}
        assert session.state_at(seq=session.last_seq, provenance=provenance).suggestions == []


def test_a_snapshot_that_disagrees_with_the_replay_is_reported_where_it_happened(
    tmp_path: Path,
) -> None:
    b = SessionBuilder("forged")
    b.open(APP, "abc")
    b.type(APP, "def")
    b.snapshot(APP, text="abcdeX")  # its own sha256 is right; the text is not what was typed
    forged_seq = b.last_seq
    b.type(APP, "g")
    session = stored(tmp_path, b).session("forged")
    with pytest.raises(ReplayMismatch) as raised:
        session.state_at(seq=session.last_seq)
    mismatch = raised.value
    assert (mismatch.session, mismatch.seq, mismatch.uri) == ("forged", forged_seq, APP)
    assert mismatch.expected == sha256_text("abcdeX")
    assert mismatch.actual == sha256_text("abcdef")
    assert "forged" in str(mismatch) and str(forged_seq) in str(mismatch)
    assert [m.seq for m in session.verify()] == [forged_seq]
    # Before the forged snapshot all is well; at or after it, it is reported every time.
    assert session.state_at(seq=forged_seq - 1).text(APP) == "abcdef"
    for _ in range(2):
        with pytest.raises(ReplayMismatch):
            session.state_at(seq=forged_seq)
    fresh = Replay.open(tmp_path / "collector.db").session("forged")
    assert fresh.state_at(seq=forged_seq - 1).text(APP) == "abcdef"
    with pytest.raises(ReplayMismatch):
        fresh.edits()


def test_a_snapshot_whose_hash_is_wrong_is_reported_even_on_a_text_only_seek(
    tmp_path: Path,
) -> None:
    b = SessionBuilder("badhash")
    b.open(APP, "abc")
    b.type(APP, "d")
    b.snapshot(APP, sha256="0" * 64)
    bad_seq = b.last_seq
    session = stored(tmp_path, b).session("badhash")
    with pytest.raises(ReplayMismatch) as raised:
        session.state_at(seq=bad_seq, provenance=False)
    assert raised.value.seq == bad_seq
    assert raised.value.expected == "0" * 64
    assert raised.value.actual == sha256_text("abcd")
    assert session.state_at(seq=bad_seq - 1, provenance=False).text(APP) == "abcd"


def test_paused_capture_takes_the_resume_snapshot_without_calling_it_a_mismatch(
    tmp_path: Path,
) -> None:
    b = SessionBuilder("paused")
    b.open(APP, "one\n")
    b.pause()
    b.type(APP, "two\n")
    paused_seq = b.last_seq
    b.resume()
    session = stored(tmp_path, b).session("paused")
    assert session.verify() == []
    assert session.state_at(seq=paused_seq).paused
    final = session.state_at(seq=session.last_seq)
    assert not final.paused
    assert final.documents[APP].segments() == [("one\n", "initial"), ("two\n", "unrecorded")]


def test_sessions_are_listed_with_filters(tmp_path: Path) -> None:
    python = realistic_session("py-session", start_ms=1_767_225_600_000)
    rust = SessionBuilder("rust-session", start_ms=1_767_312_000_000)
    rust.open(LIB, "fn main() {}", "rust")
    suggestion = rust.offer(LIB, ["// hi"], model="model-c")
    rust.ignore(suggestion)
    db = tmp_path / "collector.db"
    python.store(db, contractor="alice")
    rust.store(db, contractor="bob")
    replay = Replay.open(db)

    def ids(**filters: object) -> list[str]:
        return [summary.id for summary in replay.sessions(**filters)]  # type: ignore[arg-type]

    assert ids() == ["py-session", "rust-session"]
    assert ids(contractor="bob") == ["rust-session"]
    assert ids(language="python") == ["py-session"]
    assert ids(model="model-c") == ["rust-session"]
    assert ids(model="model-b") == ["py-session"]
    assert ids(since=1_767_300_000_000) == ["rust-session"]
    assert ids(until=datetime(2026, 1, 1, 12, tzinfo=UTC)) == ["py-session"]
    assert ids(language="go") == []
    summary = replay.sessions(contractor="alice")[0]
    assert summary.events == len(python.events)
    assert summary.suggestions == 3 and summary.ended
    assert summary.languages == ("python",)


def test_events_iterate_in_order_with_their_data(tmp_path: Path) -> None:
    builder = realistic_session()
    session: SessionReplay = stored(tmp_path, builder).session("session-1")
    events = list(session)
    assert [(e.seq, e.type, e.ts, dict(e.data)) for e in events] == [
        (e.seq, e.type, e.ts, dict(e.data)) for e in builder.events
    ]
    ratings = list(session.events(types=["rating.submitted"]))
    assert [r.data["thumbs"] for r in ratings] == ["up"]
    with pytest.raises(KeyError):
        Replay.open(tmp_path / "collector.db").session("nope")


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_in_every_encoding_replay_exactly(tmp_path: Path, seed: int) -> None:
    """Random inserts, deletions and replacements of multi-line, astral-plane text."""
    rng = random.Random(seed)
    encoding = ("utf-16", "utf-8", "utf-32")[seed % 3]
    alphabet = "ab \n\té€😀𝄞\r"
    b = SessionBuilder(
        f"random-{seed}",
        position_encoding=encoding,
        snapshot_every=rng.choice((3, 10, None)),
        keep_history=True,
    )
    b.open(APP, "".join(rng.choice(alphabet) for _ in range(20)))
    for _ in range(120):
        text = b.text(APP)
        start = rng.randint(0, len(text))
        end = rng.randint(start, min(len(text), start + 6))
        inserted = "".join(rng.choice(alphabet) for _ in range(rng.choice((0, 1, 1, 2, 5))))
        b.replace(APP, start, end, inserted)
        if rng.random() < 0.1:
            suggestion = b.offer(APP, ["".join(rng.choice(alphabet) for _ in range(4))])
            b.show(suggestion)
            if rng.random() < 0.5:
                b.accept(suggestion)
            else:
                b.reject(suggestion)
    b.snapshot(APP)
    session = stored(tmp_path, b).session(f"random-{seed}")
    assert session.verify() == []
    assert b.history is not None
    for seq in range(2, b.last_seq + 1, 7):
        for provenance in (True, False):
            state = session.state_at(seq=seq, provenance=provenance)
            assert state.text(APP) == b.history[seq - 1][APP], (seq, provenance)


def test_one_change_event_may_carry_several_changes_applied_in_order(tmp_path: Path) -> None:
    b = SessionBuilder("multi")
    b.open(APP, "😀ab\ncd")
    # Positions in UTF-16: the emoji is two units. Second change sees the first's result.
    b.emit(
        DocChange(
            uri=APP,
            version=2,
            changes=[
                {
                    "range": {
                        "start": {"line": 0, "character": 2},
                        "end": {"line": 0, "character": 3},
                    },
                    "text": "X",
                },
                {
                    "range": {
                        "start": {"line": 1, "character": 0},
                        "end": {"line": 1, "character": 1},
                    },
                    "text": "YY\n",
                },
            ],
        )
    )
    session = stored(tmp_path, b).session("multi")
    assert session.state_at(seq=b.last_seq).text(APP) == "😀Xb\nYY\nd"
