"""The outbox: every event is committed to a local SQLite file before anything else happens.

Events arrive raw (``append``, one transaction per call), wait out the hold-back window,
are masked and marked sendable by ``release``, are sent by the uploader (``sendable``) and
are deleted only when the collector acknowledges them (``acknowledge``). Masking state
(each document's raw and masked mirror, the secrets seen, the position encoding) is
written in the same transaction as the release it results from, so a restart carries on
exactly where the last release stopped.

Durability: WAL with ``synchronous=NORMAL``. A committed transaction survives a kill -9 of
the process at any synchronous level (the WAL is written before ``commit`` returns; only
the fsync is deferred), so nothing appended is lost to a crash of the editor or the
server; a power cut may lose the last commits. See docs/delivery.md.

Not thread-safe: one thread owns an ``Outbox`` (``edittrace.server.delivery`` runs it on
a dedicated worker thread).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edittrace.capture.masking import Mirror, SessionState, keep_going, release_session
from edittrace.protocol.frames import Event

SCHEMA_VERSION = 1
STALE_STATE_MS = 7 * 24 * 3600 * 1000
"""Masking state of a session with nothing left in the outbox is dropped after a week."""
PRUNE_EVERY_MS = 3600 * 1000
RECOUNT_EVERY_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    ts INTEGER NOT NULL,
    data TEXT NOT NULL,            -- JSON: raw until released, masked after
    released INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_release ON events (released, session, seq);
CREATE TABLE IF NOT EXISTS mirrors (
    session TEXT NOT NULL,
    uri TEXT NOT NULL,
    raw TEXT NOT NULL,             -- the document as of the last released event
    masked TEXT NOT NULL,          -- the same, as the collector received it
    PRIMARY KEY (session, uri)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS session_state (
    session TEXT PRIMARY KEY,
    encoding TEXT NOT NULL,
    known_secrets TEXT NOT NULL,   -- JSON list of secrets seen in this session's documents
    updated INTEGER NOT NULL       -- Unix ms of the release that wrote it
) WITHOUT ROWID;
"""


def _dumps(data: Any) -> str:
    # ASCII escapes keep lone surrogates (editors can send them) storable as UTF-8 text.
    return json.dumps(data, separators=(",", ":"))


class Outbox:
    """A durable queue of a machine's events, per session, in seq order."""

    def __init__(
        self, path: Path, hold_back_ms: int, pause: Callable[[], None] | None = None
    ) -> None:
        """``pause`` is called every few events of a long release (see ``release_session``)."""
        self.path = Path(path)
        self.hold_back_ms = hold_back_ms
        self._pause = pause if pause is not None else keep_going
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} was written by a newer edittrace (outbox schema {version}); "
                "upgrade edittrace or choose another outbox.path"
            )
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._queued: int = self._db.execute("SELECT count(*) FROM events").fetchone()[0]
        self._pruned_ms = self._counted_ms = -(2**62)
        # Held events as decoded at their first release: every release replays the whole
        # held window, and decoding it afresh each time cost more than masking the due part.
        # Safe to keep: a held row's data never changes (it is raw until the UPDATE that
        # releases it), and entries are dropped as soon as the row is no longer held.
        self._decoded: dict[str, dict[int, Event]] = {}

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def append(self, session: str, events: Sequence[Event]) -> None:
        """Commit ``events`` (raw) in one transaction. A ``(session, seq)`` already held is kept."""
        if not events:
            return
        with self._transaction():
            cursor = self._db.executemany(
                "INSERT OR IGNORE INTO events (session, seq, type, ts, data) "
                "VALUES (?, ?, ?, ?, ?)",
                [(session, e.seq, e.type, e.ts, _dumps(dict(e.data))) for e in events],
            )
        self._queued += max(0, cursor.rowcount)

    def release(self, now_ms: int) -> int:
        """Mask and make sendable every event older than the hold-back; returns how many.

        Each session is read, masked and written inside one write transaction, so two
        servers sharing this file (two editor windows) never release an event twice.
        """
        cutoff = now_ms - self.hold_back_ms
        released = 0
        sessions = [
            row[0]
            for row in self._db.execute(
                "SELECT DISTINCT session FROM events WHERE released = 0 AND ts <= ? "
                "ORDER BY session",
                (cutoff,),
            )
        ]
        for session in sessions:
            with self._transaction():
                released += self._release(session, cutoff, now_ms)
        if now_ms - self._pruned_ms >= PRUNE_EVERY_MS:
            self._prune(now_ms)
        if now_ms - self._counted_ms >= RECOUNT_EVERY_MS:
            # Another process may share the file: recount now and then, not per append.
            self._counted_ms = now_ms
            self._queued = self._db.execute("SELECT count(*) FROM events").fetchone()[0]
        return released

    def _prune(self, now_ms: int) -> None:
        self._pruned_ms = now_ms
        # Sessions another server released entirely are never visited here again: an hourly
        # clear keeps their decoded events from staying (the next release reads afresh).
        self._decoded.clear()
        with self._transaction():
            # State of sessions long finished elsewhere (cut off by a crash: no session.end).
            self._db.execute(
                "DELETE FROM mirrors WHERE session IN (SELECT session FROM session_state "
                "WHERE updated < ? AND session NOT IN (SELECT session FROM events))",
                (now_ms - STALE_STATE_MS,),
            )
            self._db.execute(
                "DELETE FROM session_state WHERE updated < ? "
                "AND session NOT IN (SELECT session FROM events)",
                (now_ms - STALE_STATE_MS,),
            )

    def _held_events(self, session: str) -> list[Event]:
        """The session's held events in seq order, decoding only those not seen before."""
        cached = self._decoded.get(session, {})
        held = [
            row[0]
            for row in self._db.execute(
                "SELECT seq FROM events WHERE session = ? AND released = 0 ORDER BY seq",
                (session,),
            )
        ]
        missing = [seq for seq in held if seq not in cached]
        if missing:
            for event in self._events(
                "WHERE session = ? AND released = 0 AND seq >= ? ORDER BY seq",
                (session, missing[0]),
            ):
                if event.seq not in cached:
                    cached[event.seq] = event
        # Rebuilt each time: whatever was released (here or by another process) goes.
        if held:
            self._decoded[session] = {seq: cached[seq] for seq in held}
        else:
            self._decoded.pop(session, None)
        return [cached[seq] for seq in held]

    def _release(self, session: str, cutoff: int, now_ms: int) -> int:
        pending = self._held_events(session)
        due = 0
        while due < len(pending) and pending[due].ts <= cutoff:
            due += 1
        if not due:
            return 0
        state = self._state(session)
        masked, new_state = release_session(state, pending, due, self._pause)
        self._db.executemany(
            "UPDATE events SET data = ?, released = 1 WHERE session = ? AND seq = ?",
            [(_dumps(dict(e.data)), session, e.seq) for e in masked],
        )
        decoded = self._decoded.get(session, {})
        for event in masked:
            decoded.pop(event.seq, None)
        if any(event.type == "session.end" for event in masked):
            # Nothing follows a session.end: its documents need no mirror any more.
            self._db.execute("DELETE FROM mirrors WHERE session = ?", (session,))
            self._db.execute("DELETE FROM session_state WHERE session = ?", (session,))
            return due
        for uri in state.mirrors.keys() - new_state.mirrors.keys():
            self._db.execute("DELETE FROM mirrors WHERE session = ? AND uri = ?", (session, uri))
        for uri, mirror in new_state.mirrors.items():
            if state.mirrors.get(uri) != mirror:
                self._db.execute(
                    "INSERT OR REPLACE INTO mirrors (session, uri, raw, masked) "
                    "VALUES (?, ?, ?, ?)",
                    (session, uri, mirror.raw, mirror.masked),
                )
        self._db.execute(
            "INSERT OR REPLACE INTO session_state (session, encoding, known_secrets, updated) "
            "VALUES (?, ?, ?, ?)",
            (session, new_state.encoding, _dumps(sorted(new_state.known_secrets)), now_ms),
        )
        return due

    def _state(self, session: str) -> SessionState:
        state = SessionState()
        row = self._db.execute(
            "SELECT encoding, known_secrets FROM session_state WHERE session = ?", (session,)
        ).fetchone()
        if row is not None:
            state.encoding = row[0]
            state.known_secrets = set(json.loads(row[1]))
        for uri, raw, masked in self._db.execute(
            "SELECT uri, raw, masked FROM mirrors WHERE session = ?", (session,)
        ):
            state.mirrors[uri] = Mirror(raw, masked)
        return state

    def _events(self, where: str, args: tuple[Any, ...]) -> list[Event]:
        return [
            Event(seq=seq, type=kind, ts=ts, data=json.loads(data))
            for seq, kind, ts, data in self._db.execute(
                f"SELECT seq, type, ts, data FROM events {where}", args
            )
        ]

    def sendable(self, session: str, after_seq: int, limit: int) -> list[Event]:
        """Released events of ``session`` after ``after_seq``, in seq order, at most ``limit``."""
        return self._events(
            "WHERE session = ? AND released = 1 AND seq > ? ORDER BY seq LIMIT ?",
            (session, after_seq, limit),
        )

    def sessions(self) -> list[str]:
        """Sessions with anything not yet acknowledged (released or still held back)."""
        return [
            row[0] for row in self._db.execute("SELECT DISTINCT session FROM events ORDER BY 1")
        ]

    def acknowledge(self, session: str, acked_seq: int) -> None:
        """Delete what the collector has stored: released events up to ``acked_seq``."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM events WHERE session = ? AND seq <= ? AND released = 1",
                (session, acked_seq),
            )
        self._queued -= max(0, cursor.rowcount)

    def queued(self) -> int:
        """Events not yet acknowledged, held back or sendable (counted once, then kept)."""
        return self._queued

    def held(self) -> int:
        """Events still waiting out the hold-back window."""
        count: int = self._db.execute("SELECT count(*) FROM events WHERE released = 0").fetchone()[
            0
        ]
        return count

    def next_release_ms(self) -> int | None:
        """When ``release`` next has something to do (the oldest held event's due time)."""
        row = self._db.execute("SELECT min(ts) FROM events WHERE released = 0").fetchone()
        return None if row[0] is None else int(row[0]) + self.hold_back_ms

    def close(self) -> None:
        self._db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on an exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
