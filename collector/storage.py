"""The collector's SQLite file: schema migrations and exactly-once storage of batches.

sqlite-utils owns the schema (``open_database`` applies the migrations); the hot insert
path uses the stdlib's ``executemany`` on the same connection, which measured about twice
as fast as ``insert_all`` here. Every table is described in docs/storage.md.

Exactly once over at-least-once delivery rests on one invariant: the stored seqs of a
session are always exactly ``1..acked``. A batch may overlap what is stored (a resend after
a lost ack) but never start beyond ``acked + 1``, so ``acked`` needs no gap search.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from edittrace.protocol import ErrorCode, Event, ProtocolError
from edittrace.protocol.frames import canonical_json

Migration = Callable[[sqlite_utils.Database], None]


def _migration_1_initial(db: sqlite_utils.Database) -> None:
    db.table("events").create(
        {
            "session": str,
            "seq": int,
            "type": str,
            "ts": int,
            "data": str,
            "contractor": str,
            "received": int,
        },
        pk=("session", "seq"),
        not_null={"session", "seq", "type", "ts", "data", "contractor", "received"},
    )
    events = db.table("events")
    events.create_index(["type"], index_name="events_type")
    events.create_index(["session", "ts"], index_name="events_session_ts")
    db.table("sessions").create(
        {
            "id": str,
            "contractor": str,
            "first_received": int,
            "last_received": int,
            "acked": int,
            "client_name": str,
            "client_version": str,
        },
        pk="id",
        not_null={"id", "contractor", "first_received", "last_received", "acked"},
    )
    db.table("sessions").create_index(["contractor"], index_name="sessions_contractor")
    db.table("tokens").create(
        {"name": str, "token_hash": str, "role": str, "created": int, "revoked": int},
        pk="name",
        not_null={"name", "token_hash", "role", "created"},
    )
    db.table("tokens").create_index(["token_hash"], index_name="tokens_token_hash", unique=True)


MIGRATIONS: tuple[tuple[int, str, Migration], ...] = (
    (1, "initial: events, sessions, tokens", _migration_1_initial),
)
"""Applied in order, each once, each in its own transaction; never edit a released one."""


def open_database(path: str | Path, *, fsync: bool = True) -> sqlite_utils.Database:
    """Open (or create) the collector database at ``path``, in WAL mode, fully migrated.

    The connection is in autocommit mode: callers open transactions explicitly
    (``Store`` does), so nothing is ever committed as a side effect. ``fsync=False``
    (``synchronous = NORMAL``): a commit survives a crash of the process but not of the
    machine; only ``serve --no-fsync`` asks for it.
    """
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    db = sqlite_utils.Database(conn)
    if db.journal_mode != "wal":
        db.enable_wal()
    # FULL: a commit is on disk before it is acknowledged, even across a power loss;
    # with group commit the extra fsync per transaction costs little.
    conn.execute(f"PRAGMA synchronous = {'FULL' if fsync else 'NORMAL'}")
    # A big page cache keeps a whole group's inserts in memory until COMMIT: a spill would
    # write to the WAL mid-transaction, and writes can stall when the machine is flushing.
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA foreign_keys = ON")
    _migrate(db)
    return db


def _migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")  # two processes opening a new file must not both migrate
    try:
        if not db.table("migrations").exists():
            db.table("migrations").create({"id": int, "name": str, "applied": int}, pk="id")
        done = {row[0] for row in conn.execute("SELECT id FROM migrations")}
        for number, name, migration in MIGRATIONS:
            if number in done:
                continue
            migration(db)
            conn.execute(
                "INSERT INTO migrations (id, name, applied) VALUES (?, ?, ?)",
                (number, name, int(time.time() * 1000)),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def schema_version(db: sqlite_utils.Database) -> int:
    """The highest migration applied to ``db``."""
    row = db.conn.execute("SELECT max(id) FROM migrations").fetchone()
    return int(row[0] or 0)


@dataclass(frozen=True)
class PendingBatch:
    """One batch as the writer receives it: who sent it, for which session, when."""

    contractor: str
    session: str
    events: Sequence[Event]
    received_ms: int
    client_name: str | None = None
    client_version: str | None = None


class Store:
    """Exactly-once storage of batches in one collector database."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._conn: sqlite3.Connection = db.conn

    @classmethod
    def open(cls, path: str | Path) -> Store:
        return cls(open_database(path))

    def close(self) -> None:
        self._conn.close()

    def store_batch(
        self,
        contractor: str,
        session: str,
        events: Sequence[Event],
        received_ms: int,
        *,
        client_name: str | None = None,
        client_version: str | None = None,
    ) -> int:
        """Store ``events`` of ``session`` in one transaction; return the session's new acked seq.

        Raises ``ProtocolError`` with CONFLICT, FORBIDDEN or OUT_OF_ORDER and stores nothing.
        """
        batch = PendingBatch(contractor, session, events, received_ms, client_name, client_version)
        (outcome,) = self.store_group([batch])
        if isinstance(outcome, ProtocolError):
            raise outcome
        return outcome

    def store_group(self, batches: Sequence[PendingBatch]) -> list[int | ProtocolError]:
        """Store several batches in ONE commit (group commit), each whole or not at all.

        Each batch runs in its own savepoint, so one refused batch leaves the others of
        the group untouched. Returns, per batch, the new acked seq or the refusal.
        If the commit itself fails, the exception propagates and nothing was stored.
        """
        outcomes = self.stage_group(batches)
        self.commit_group()
        return outcomes

    def stage_group(self, batches: Sequence[PendingBatch]) -> list[int | ProtocolError]:
        """The first half of ``store_group``: everything but the commit.

        Leaves the transaction open; the caller must call ``commit_group`` (or
        ``rollback_group``) next. ``begin_group`` and ``stage_batches`` do the same in
        steps, so the writer can store a large group in chunks.
        """
        self.begin_group()
        return self.stage_batches(batches)

    def begin_group(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def stage_batches(self, batches: Sequence[PendingBatch]) -> list[int | ProtocolError]:
        """Store ``batches`` in the open group transaction, each in its own savepoint.

        On an unexpected error (not a refusal) the whole group is rolled back and re-raised.
        """
        outcomes: list[int | ProtocolError] = []
        try:
            for batch in batches:
                self._conn.execute("SAVEPOINT batch")
                try:
                    outcomes.append(self._store_one(batch))
                except ProtocolError as refusal:
                    self._conn.execute("ROLLBACK TO batch")
                    outcomes.append(refusal)
                self._conn.execute("RELEASE batch")
        except BaseException:
            self.rollback_group()
            raise
        return outcomes

    def commit_group(self) -> None:
        """Commit what ``stage_group`` stored; on failure nothing of it is kept."""
        try:
            self._conn.execute("COMMIT")
        except BaseException:
            self.rollback_group()
            raise

    def rollback_group(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _store_one(self, batch: PendingBatch) -> int:
        if not batch.events:
            return self.acked(batch.session)
        session = self._conn.execute(
            "SELECT contractor, acked FROM sessions WHERE id = ?", (batch.session,)
        ).fetchone()
        owner, acked = (session[0], int(session[1])) if session else (None, 0)
        if owner is not None and owner != batch.contractor:
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                f"session {batch.session} belongs to another contractor; stop sending it",
            )
        first, last = batch.events[0].seq, batch.events[-1].seq
        if first > acked + 1:
            raise ProtocolError(
                ErrorCode.OUT_OF_ORDER,
                f"session {batch.session}: batch starts at seq {first} but only 1..{acked} "
                f"are stored; resend from seq {acked + 1}",
            )
        # decode_frame already encoded each event's data; encode only events built here.
        rows = [
            (e.seq, e.type, e.ts, canonical_json(e.data) if e.data_json is None else e.data_json)
            for e in batch.events
        ]
        if first <= acked:
            self._check_resent(batch.session, rows, acked)
        fresh = [
            (batch.session, seq, kind, ts, data, batch.contractor, batch.received_ms)
            for seq, kind, ts, data in rows
            if seq > acked
        ]
        if fresh:
            self._conn.executemany(
                "INSERT INTO events (session, seq, type, ts, data, contractor, received) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                fresh,
            )
        new_acked = max(acked, last)
        if session is None:
            self._conn.execute(
                "INSERT INTO sessions (id, contractor, first_received, last_received, acked, "
                "client_name, client_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    batch.session,
                    batch.contractor,
                    batch.received_ms,
                    batch.received_ms,
                    new_acked,
                    batch.client_name,
                    batch.client_version,
                ),
            )
        elif fresh:
            self._conn.execute(
                "UPDATE sessions SET acked = ?, last_received = ?, "
                "client_name = coalesce(?, client_name), "
                "client_version = coalesce(?, client_version) WHERE id = ?",
                (
                    new_acked,
                    batch.received_ms,
                    batch.client_name,
                    batch.client_version,
                    batch.session,
                ),
            )
        return new_acked

    def _check_resent(
        self, session: str, rows: Sequence[tuple[int, str, int, str]], acked: int
    ) -> None:
        """Events at or below ``acked`` are resends: they must equal what is stored."""
        first = rows[0][0]
        last_stored = min(rows[-1][0], acked)
        stored = {
            seq: (kind, ts, data)
            for seq, kind, ts, data in self._conn.execute(
                "SELECT seq, type, ts, data FROM events WHERE session = ? AND seq BETWEEN ? AND ?",
                (session, first, last_stored),
            )
        }
        for seq, kind, ts, data in rows:
            if seq > acked:
                break
            if stored.get(seq) != (kind, ts, data):
                raise ProtocolError(
                    ErrorCode.CONFLICT,
                    f"session {session}: seq {seq} is already stored with different content; "
                    "events must never be renumbered",
                )

    def acked(self, session: str) -> int:
        """The highest seq stored for ``session`` with no gap from 1; 0 if none."""
        row = self._conn.execute("SELECT acked FROM sessions WHERE id = ?", (session,)).fetchone()
        return int(row[0]) if row else 0

    def owner(self, session: str) -> str | None:
        """The contractor who first wrote ``session``, or None if it has nothing stored."""
        row = self._conn.execute(
            "SELECT contractor FROM sessions WHERE id = ?", (session,)
        ).fetchone()
        return str(row[0]) if row else None

    def acked_for(self, contractor: str, sessions: Sequence[str]) -> dict[str, int | None]:
        """Per session: its acked seq, 0 if unknown, None if it belongs to another contractor."""
        answer: dict[str, int | None] = {}
        for session in sessions:
            row = self._conn.execute(
                "SELECT contractor, acked FROM sessions WHERE id = ?", (session,)
            ).fetchone()
            if row is None:
                answer[session] = 0
            elif row[0] != contractor:
                answer[session] = None
            else:
                answer[session] = int(row[1])
        return answer

    def count_events(self, session: str | None = None) -> int:
        if session is None:
            row = self._conn.execute("SELECT count(*) FROM events").fetchone()
        else:
            row = self._conn.execute(
                "SELECT count(*) FROM events WHERE session = ?", (session,)
            ).fetchone()
        return int(row[0])


def read_events(db: sqlite_utils.Database, session: str | None = None) -> list[dict[str, Any]]:
    """Rows of ``events`` in (session, seq) order, ``data`` parsed; for readers and tests."""
    sql = "SELECT session, seq, type, ts, data, contractor, received FROM events"
    params: tuple[str, ...] = ()
    if session is not None:
        sql += " WHERE session = ?"
        params = (session,)
    sql += " ORDER BY session, seq"
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor]
    for row in rows:
        row["data"] = json.loads(row["data"])
    return rows
