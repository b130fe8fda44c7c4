"""Exactly-once storage in a real SQLite file: resends, conflicts, ownership, gaps, migrations."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from edittrace.collector.storage import (
    MIGRATIONS,
    PendingBatch,
    Store,
    open_database,
    read_events,
    schema_version,
)
from edittrace.protocol import ErrorCode, Event, ProtocolError


def events(first: int, last: int, text: str = "x") -> list[Event]:
    return [
        Event(seq=seq, type="doc.save", ts=1_700_000_000_000 + seq, data={"uri": f"file:///{text}"})
        for seq in range(first, last + 1)
    ]


def rows(path: Path) -> list[tuple[object, ...]]:
    """What another process reading the file sees."""
    with sqlite3.connect(path) as conn:
        query = "SELECT session, seq, type, ts, data FROM events ORDER BY 1, 2"
        return conn.execute(query).fetchall()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "c.sqlite")


def test_open_creates_schema_in_wal_and_records_migrations(tmp_path: Path) -> None:
    db = open_database(tmp_path / "c.sqlite")
    assert db.journal_mode == "wal"
    assert {"events", "sessions", "tokens", "migrations"} <= set(db.table_names())
    assert schema_version(db) == MIGRATIONS[-1][0]
    assert set(db["events"].columns_dict) == {
        "session", "seq", "type", "ts", "data", "contractor", "received",
    }  # fmt: skip
    assert db.table("events").pks == ["session", "seq"]
    db.close()
    again = open_database(tmp_path / "c.sqlite")  # reopening applies nothing twice
    assert again.conn.execute("SELECT count(*) FROM migrations").fetchone()[0] == len(MIGRATIONS)


def test_batch_is_stored_with_json_data_and_acked(store: Store, tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    assert store.acked(session) == 0
    assert store.store_batch("ann", session, events(1, 3), received_ms=5) == 3
    assert store.acked(session) == 3
    stored = rows(tmp_path / "c.sqlite")
    assert [row[1] for row in stored] == [1, 2, 3]
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        uri = conn.execute("SELECT json_extract(data, '$.uri') FROM events LIMIT 1").fetchone()
        assert uri == ("file:///x",)
    assert read_events(store.db)[0]["contractor"] == "ann"
    assert read_events(store.db)[0]["received"] == 5


def test_resend_is_acked_again_and_stored_once(store: Store, tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    store.store_batch("ann", session, events(1, 5), received_ms=1)
    assert store.store_batch("ann", session, events(1, 5), received_ms=2) == 5
    assert store.store_batch("ann", session, events(4, 8), received_ms=3) == 8  # overlap
    assert [row[1] for row in rows(tmp_path / "c.sqlite")] == list(range(1, 9))


def test_resend_with_other_key_order_is_the_same_content(store: Store) -> None:
    session = str(uuid.uuid4())
    first = Event(seq=1, type="doc.save", ts=1, data={"uri": "file:///a", "version": 2})
    again = Event(seq=1, type="doc.save", ts=1, data={"version": 2, "uri": "file:///a"})
    store.store_batch("ann", session, [first], received_ms=1)
    assert store.store_batch("ann", session, [again], received_ms=2) == 1


def test_conflict_changes_nothing(store: Store, tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    store.store_batch("ann", session, events(1, 3), received_ms=1)
    before = rows(tmp_path / "c.sqlite")
    with pytest.raises(ProtocolError) as caught:
        # seq 3 differs, seq 4..6 are new: the whole batch is refused.
        store.store_batch("ann", session, events(3, 6, text="other"), received_ms=2)
    assert caught.value.code is ErrorCode.CONFLICT
    assert rows(tmp_path / "c.sqlite") == before
    assert store.acked(session) == 3


def test_other_contractor_is_forbidden_and_nothing_stored(store: Store, tmp_path: Path) -> None:
    session = str(uuid.uuid4())
    store.store_batch("ann", session, events(1, 2), received_ms=1)
    with pytest.raises(ProtocolError) as caught:
        store.store_batch("bob", session, events(3, 4), received_ms=2)
    assert caught.value.code is ErrorCode.FORBIDDEN
    assert len(rows(tmp_path / "c.sqlite")) == 2
    assert store.owner(session) == "ann"
    assert store.acked_for("bob", [session]) == {session: None}
    assert store.acked_for("ann", [session]) == {session: 2}


def test_gap_is_out_of_order(store: Store) -> None:
    session = str(uuid.uuid4())
    with pytest.raises(ProtocolError) as caught:
        store.store_batch("ann", session, events(2, 3), received_ms=1)
    assert caught.value.code is ErrorCode.OUT_OF_ORDER
    store.store_batch("ann", session, events(1, 1), received_ms=1)
    with pytest.raises(ProtocolError):
        store.store_batch("ann", session, events(3, 4), received_ms=1)
    assert store.acked(session) == 1
    assert store.owner(str(uuid.uuid4())) is None


def test_group_commit_refused_batch_does_not_poison_the_others(
    store: Store, tmp_path: Path
) -> None:
    good, taken, fresh = (str(uuid.uuid4()) for _ in range(3))
    store.store_batch("ann", taken, events(1, 1), received_ms=1)
    outcomes = store.store_group(
        [
            PendingBatch("bob", good, events(1, 2), 2, "lsp", "1.0"),
            PendingBatch("bob", taken, events(2, 3), 2),  # ann's session
            PendingBatch("bob", fresh, events(5, 6), 2),  # gap
            PendingBatch("bob", good, events(3, 4), 2),  # same group, later batch of `good`
        ]
    )
    assert outcomes[0] == 2
    assert isinstance(outcomes[1], ProtocolError) and outcomes[1].code is ErrorCode.FORBIDDEN
    assert isinstance(outcomes[2], ProtocolError) and outcomes[2].code is ErrorCode.OUT_OF_ORDER
    assert outcomes[3] == 4
    stored = rows(tmp_path / "c.sqlite")
    assert [(s, q) for s, q, *_ in stored if s != taken] == [(good, q) for q in (1, 2, 3, 4)]
    assert [(s, q) for s, q, *_ in stored if s == taken] == [(taken, 1)]
    session_row = store.db.table("sessions").get(good)
    assert (session_row["client_name"], session_row["acked"]) == ("lsp", 4)
