"""The outbox file: commits at once, holds back, releases in order, deletes only what is acked."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edittrace.capture.outbox import Outbox
from edittrace.protocol.frames import Event

S1 = "0f8fad5b-d9cb-469f-a165-70867728950e"
S2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
T0 = 1_700_000_000_000
HOLD = 10_000


def events(count: int, first: int = 1, ts: int = T0, step: int = 100) -> list[Event]:
    return [
        Event(seq, "doc.save", ts + (seq - first) * step, {"uri": "file:///a.py", "version": seq})
        for seq in range(first, first + count)
    ]


def seqs(found: list[Event]) -> list[int]:
    return [event.seq for event in found]


def test_events_wait_out_the_hold_back_then_become_sendable_in_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite", HOLD)
    outbox.append(S1, events(10))  # ts T0 .. T0+900
    assert outbox.queued() == 10 and outbox.held() == 10
    assert outbox.release(T0 + HOLD - 1) == 0
    assert outbox.sendable(S1, 0, 100) == []
    assert outbox.next_release_ms() == T0 + HOLD

    assert outbox.release(T0 + HOLD + 450) == 5
    assert seqs(outbox.sendable(S1, 0, 100)) == [1, 2, 3, 4, 5]
    assert seqs(outbox.sendable(S1, 2, 2)) == [3, 4]
    assert outbox.release(T0 + 60_000) == 5
    assert seqs(outbox.sendable(S1, 0, 100)) == list(range(1, 11))
    assert outbox.held() == 0 and outbox.next_release_ms() is None


def test_acknowledge_deletes_only_what_the_collector_has(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite", 0)
    outbox.append(S1, events(6))
    outbox.append(S2, events(3))
    outbox.release(T0 + 10_000)
    assert outbox.sessions() == sorted([S1, S2])
    outbox.acknowledge(S1, 4)
    assert seqs(outbox.sendable(S1, 0, 100)) == [5, 6]
    assert outbox.queued() == 5
    outbox.acknowledge(S1, 2)  # an old ack changes nothing
    assert outbox.queued() == 5
    outbox.acknowledge(S1, 6)
    outbox.acknowledge(S2, 3)
    assert outbox.queued() == 0 and outbox.sessions() == []


def test_held_events_are_never_deleted_by_an_ack(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite", HOLD)
    outbox.append(S1, events(4))
    outbox.acknowledge(S1, 4)  # nothing was released, so nothing was sent
    assert outbox.queued() == 4 and outbox.sessions() == [S1]


def test_pending_and_released_events_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "outbox.sqlite"
    outbox = Outbox(path, HOLD)
    outbox.append(S1, events(4, ts=T0))
    outbox.append(S1, events(4, first=5, ts=T0 + 20_000))
    outbox.release(T0 + HOLD + 1_000)
    outbox.close()

    reopened = Outbox(path, HOLD)
    assert reopened.queued() == 8 and reopened.held() == 4
    assert seqs(reopened.sendable(S1, 0, 100)) == [1, 2, 3, 4]
    assert reopened.release(T0 + 20_000 + HOLD + 1_000) == 4
    assert seqs(reopened.sendable(S1, 0, 100)) == list(range(1, 9))


def test_a_duplicate_append_keeps_the_first_copy(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite", 0)
    outbox.append(S1, events(2))
    outbox.append(S1, [Event(2, "doc.close", T0, {"uri": "file:///b.py"})])
    outbox.release(T0 + 1_000)
    assert outbox.queued() == 2
    assert outbox.sendable(S1, 1, 10)[0].type == "doc.save"


def test_an_append_survives_a_kill_9_right_after_it(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from edittrace.capture.outbox import Outbox
        from edittrace.protocol.frames import Event
        outbox = Outbox(Path({str(path)!r}), 0)
        for seq in range(1, 201):
            outbox.append({S1!r}, [Event(seq, "doc.save", {T0}, {{"uri": "file:///a.py"}})])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert result.returncode == -9
    outbox = Outbox(path, 0)
    assert outbox.queued() == 200
    outbox.release(T0 + 1)
    assert seqs(outbox.sendable(S1, 0, 1000)) == list(range(1, 201))


def test_the_file_is_wal_and_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    Outbox(path, 0).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(RuntimeError, match="newer edittrace"):
        Outbox(path, 0)


def doc_session(count: int) -> list[Event]:
    """A session that opens a document and types ``count`` characters, 100 ms apart."""
    start = {"client": "t", "client_version": "1", "position_encoding": "utf-16"}
    opened = {"uri": "file:///a.py", "language_id": "python", "version": 1, "text": "k = '"}
    found = [Event(1, "session.start", T0, start), Event(2, "doc.open", T0, opened)]
    for index, char in enumerate(("AKIA" + "Q2W3E4R5T6Y7U8I9" + "'")[:count]):
        where = {"line": 0, "character": 5 + index}
        change = {"range": {"start": where, "end": where}, "text": char}
        data = {"uri": "file:///a.py", "version": index + 2, "changes": [change]}
        found.append(Event(index + 3, "doc.change", T0 + (index + 1) * 100, data))
    return found


def mirror_rows(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM mirrors").fetchone()[0])
    finally:
        db.close()


def test_two_servers_sharing_the_file_release_each_event_once(tmp_path: Path) -> None:
    alone = Outbox(tmp_path / "alone.sqlite", 1_000)
    first = Outbox(tmp_path / "shared.sqlite", 1_000)
    second = Outbox(tmp_path / "shared.sqlite", 1_000)
    alone.append(S1, doc_session(21))
    first.append(S1, doc_session(21))
    for step, outbox in enumerate([first, second, first, second, second, first]):
        now = T0 + 1_000 + step * 400
        alone.release(now)
        outbox.release(now)
    alone.release(T0 + 60_000)
    second.release(T0 + 60_000)
    shared = first.sendable(S1, 0, 100)
    assert [e.data for e in shared] == [e.data for e in alone.sendable(S1, 0, 100)]
    assert "AKIA" not in str([e.data for e in shared])
    assert first.queued() == second.queued() == 23  # each counts what the other appended


def test_masking_state_goes_with_the_session(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = Outbox(path, 0)
    outbox.append(S1, doc_session(5))
    outbox.release(T0 + 1_000)
    assert mirror_rows(path) == 1  # the document's raw and masked text, for the next release
    outbox.append(S1, [Event(8, "session.end", T0 + 2_000, {"reason": "shutdown"})])
    outbox.release(T0 + 3_000)
    assert mirror_rows(path) == 0

    outbox.append(S2, doc_session(5))  # cut off by a crash: no session.end ever comes
    outbox.release(T0 + 1_000)
    outbox.acknowledge(S2, 7)
    outbox.release(T0 + 2 * 24 * 3600 * 1000)
    assert mirror_rows(path) == 1  # a quiet session may still be going on
    outbox.release(T0 + 8 * 24 * 3600 * 1000)
    assert mirror_rows(path) == 0
