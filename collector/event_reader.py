"""Read stored events back for researchers: one filter shared by ``report`` and ``export``.

Filters select whole sessions, never single events, so that a suggestion's offer, outcome
and persistence checkpoints are always read together (a time window that cut a session in
two would turn accepted suggestions into ones that never ended).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class StoredEvent:
    """One row of the ``events`` table, ``data`` parsed."""

    session: str
    seq: int
    type: str
    ts: int
    contractor: str
    data: Mapping[str, Any] = field(default_factory=dict)
    received: int | None = None


@dataclass(frozen=True)
class EventFilter:
    """Which sessions to read; ``None`` means no restriction.

    ``since_ms``/``until_ms`` select sessions whose first event's ``ts`` (client clock, Unix
    ms) lies in ``[since_ms, until_ms)``.
    """

    sessions: tuple[str, ...] = ()
    contractors: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None

    def where(self) -> tuple[str, list[Any]]:
        """SQL condition on ``events`` (aliased ``e``) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.sessions:
            clauses.append(f"e.session IN ({', '.join('?' * len(self.sessions))})")
            params.extend(self.sessions)
        if self.contractors:
            clauses.append(f"e.contractor IN ({', '.join('?' * len(self.contractors))})")
            params.extend(self.contractors)
        if self.since_ms is not None or self.until_ms is not None:
            having: list[str] = []
            if self.since_ms is not None:
                having.append("MIN(ts) >= ?")
                params.append(self.since_ms)
            if self.until_ms is not None:
                having.append("MIN(ts) < ?")
                params.append(self.until_ms)
            clauses.append(
                "e.session IN (SELECT session FROM events GROUP BY session HAVING "
                + " AND ".join(having)
                + ")"
            )
        return (" AND ".join(clauses) or "1"), params


def parse_time(text: str) -> int:
    """A command-line time as Unix ms: an integer of ms, or ISO 8601 (naive means UTC)."""
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    try:
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(
            f"{text!r} is not a time: give Unix milliseconds or ISO 8601 such as 2026-11-22T01:00Z"
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def count_events(db: sqlite_utils.Database, selection: EventFilter) -> int:
    condition, params = selection.where()
    row = db.conn.execute(f"SELECT COUNT(*) FROM events e WHERE {condition}", params).fetchone()
    return int(row[0])


def read_events(db: sqlite_utils.Database, selection: EventFilter) -> Iterator[StoredEvent]:
    """The selected events in (session, seq) order, streamed from the database."""
    condition, params = selection.where()
    cursor = db.conn.execute(
        "SELECT e.session, e.seq, e.type, e.ts, e.contractor, e.data, e.received "
        f"FROM events e WHERE {condition} ORDER BY e.session, e.seq",
        params,
    )
    for session, seq, event_type, ts, contractor, data, received in cursor:
        yield StoredEvent(
            session=session,
            seq=int(seq),
            type=event_type,
            ts=int(ts),
            contractor=contractor,
            data=json.loads(data),
            received=None if received is None else int(received),
        )
