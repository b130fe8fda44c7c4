"""Replay agrees with the real capture core: what the Recorder emits replays to the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from edittrace.capture import CaptureSettings, OfferedCandidate, Recorder, Scope
from edittrace.collector.replay import Replay
from edittrace.collector.storage import Store
from tests.support.sessions import position_of, range_of

URI = "file:///w/pkg/app.py"


class Editor:
    """A person at an editor: keeps the true text and tells the Recorder what LSP would."""

    def __init__(self, recorder: Recorder, encoding: str) -> None:
        self.recorder = recorder
        self.encoding = encoding
        self.text = ""
        self.version = 1
        self.now = 1_767_225_600_000

    def tick(self, ms: int = 100) -> int:
        self.now += ms
        self.recorder.tick(self.now)
        return self.now

    def edit(self, start: int, end: int, inserted: str) -> None:
        change = {"range": range_of(self.text, start, end, self.encoding), "text": inserted}
        self.text = self.text[:start] + inserted + self.text[end:]
        self.version += 1
        self.recorder.change_document(self.tick(), URI, self.version, [change])

    def type(self, text: str) -> None:
        for char in text:
            self.edit(len(self.text), len(self.text), char)

    def offer(self, suggestion: str, text: str) -> None:
        cursor = len(self.text)
        self.recorder.offer(
            self.tick(),
            suggestion=suggestion,
            uri=URI,
            version=self.version,
            position=position_of(self.text, cursor, self.encoding),
            trigger="automatic",
            latency_ms=30.0,
            candidates=[
                OfferedCandidate(
                    text=text,
                    range=range_of(self.text, cursor, cursor, self.encoding),
                    provider="fake",
                    model="m",
                )
            ],
            shown_order=[0],
        )
        self.recorder.shown(self.tick(), suggestion, 0, "bridge")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
def test_a_recorded_session_replays_to_the_editors_text_with_provenance(
    tmp_path: Path, encoding: str
) -> None:
    recorder = Recorder(
        "captured", CaptureSettings(snapshot_every_changes=5), Scope(["file:///w"], [], [])
    )
    editor = Editor(recorder, encoding)
    recorder.start(
        editor.now,
        client="edittrace-lsp",
        client_version="0.1.0",
        position_encoding=encoding,
        editor="test",
        editor_version="1",
        workspace_folders=["file:///w"],
        settings={},
    )
    recorder.open_document(editor.tick(), URI, "python", 1, "")
    editor.type("def f(x):  # é😀\n    ")
    editor.offer("s1", "return x + 1  # 😀\n")
    # Tab: the editor inserts the candidate, then runs its command.
    editor.edit(len(editor.text), len(editor.text), "return x + 1  # 😀\n")
    recorder.accepted(editor.tick(), "s1", 0, "bridge")
    one = editor.text.index("1  #")
    editor.edit(one, one + 1, "2")
    editor.edit(0, 0, "import os\n")
    editor.tick(31_000)
    recorder.pause(editor.tick())
    editor.type("# paused\n")
    recorder.resume(editor.tick())
    editor.type("y")
    recorder.end(editor.tick(), "shutdown")

    events = recorder.events_to_send()
    db = tmp_path / "collector.db"
    store = Store.open(db)
    store.store_batch("alice", "captured", events, received_ms=editor.now)
    store.close()
    assert any(e.type == "doc.snapshot" for e in events)
    assert any(e.type == "suggestion.accepted" for e in events)

    session = Replay.open(db).session("captured")
    assert session.verify() == []
    final = session.state_at(seq=session.last_seq).documents[URI]
    assert final.text == editor.text
    assert final.segments() == [
        ("import os\n", "pasted"),
        ("def f(x):  # é😀\n    ", "typed"),
        ("return x + ", "accepted_edited"),
        ("2", "typed"),
        ("  # 😀\n", "accepted_edited"),
        ("# paused\n", "unrecorded"),
        ("y", "typed"),
    ]
    # Seeking from the snapshots gives the same text as replaying from the start, everywhere.
    for seq in range(1, session.last_seq + 1):
        from_start = session.state_at(seq=seq).documents
        from_snapshots = session.state_at(seq=seq, provenance=False).documents
        assert {u: d.text for u, d in from_start.items()} == {
            u: d.text for u, d in from_snapshots.items()
        }, seq
