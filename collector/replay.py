"""Replay recorded sessions from a collector database: the researchers' Python API.

    replay = Replay.open("collector.db")
    for summary in replay.sessions(language="python"):
        session = replay.session(summary.id)
        state = session.state_at(seq=120)
        print(state.documents["file:///w/app.py"].text)

Seeking. A ``state_at`` never replays the whole session. Text-only seeks
(``provenance=False``) start each document from its latest ``doc.snapshot`` (or
``doc.open``) at or before the target and apply only that document's changes, found
through a small index of (seq, type, uri) built on first use. Provenance cannot be read
from a snapshot, so it comes from one pass from the start, checking every snapshot's
sha256 on the way and keeping checkpoints of the whole replay state at snapshots (and at
least every ``CHECKPOINT_EVERY`` events); the pass goes only as far as seeks have asked,
and each seek starts from the nearest checkpoint. docs/replay.md discusses the trade-off
and bench/replay_seek.py measures it.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from edittrace.collector.replay_engine import (
    DocState,
    LiveCandidate,
    Player,
    ReplayMismatch,
    sha256_text,
)
from edittrace.collector.replay_text import offset_at, position_at
from edittrace.collector.replay_types import (
    DocumentView,
    Edit,
    ReplayEvent,
    SessionSummary,
    State,
    VisibleSuggestion,
)

__all__ = [
    "CHECKPOINT_EVERY",
    "DocumentView",
    "Edit",
    "Replay",
    "ReplayEvent",
    "ReplayMismatch",
    "SessionReplay",
    "SessionSummary",
    "State",
    "VisibleSuggestion",
]

CHECKPOINT_EVERY = 400
"""Most events between two provenance checkpoints (there is one at every snapshot too)."""
_MIN_SNAPSHOT_GAP = 50
"""Fewer events than this since the last checkpoint: a snapshot does not add another."""
_SQL_CHUNK = 500


@dataclass
class _Index:
    """(seq, type, uri, suggestion) of every event, without the heavy ``data``."""

    last_seq: int = 0
    ts: list[int] = field(default_factory=list)
    ts_running_max: list[int] = field(default_factory=list)
    doc_seqs: dict[str, list[int]] = field(default_factory=dict)
    doc_types: dict[str, list[str]] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)
    suggestion_seqs: dict[str, list[int]] = field(default_factory=dict)
    suggestion_offered: dict[str, int] = field(default_factory=dict)
    suggestion_last_end: dict[str, int] = field(default_factory=dict)
    control_seqs: list[int] = field(default_factory=list)


class Replay:
    """A collector database opened read-only for replay."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, db_path: str | Path) -> Replay:
        """Open ``db_path`` read-only (the collector may keep writing to it meanwhile)."""
        path = Path(db_path)
        if not path.exists():
            raise FileNotFoundError(f"no collector database at {path}")
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        conn.execute("PRAGMA busy_timeout = 10000")
        return cls(conn, str(path))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sessions(
        self,
        contractor: str | None = None,
        since: int | datetime | None = None,
        until: int | datetime | None = None,
        language: str | None = None,
        model: str | None = None,
    ) -> list[SessionSummary]:
        """Sessions, oldest first, that match every filter given.

        ``since``/``until`` (Unix ms or an aware ``datetime``) keep sessions with events in
        that interval; ``language`` one with a document of that ``language_id``; ``model``
        one with a candidate from that model.
        """
        rows = self.conn.execute(
            "SELECT session, min(contractor), min(ts), max(ts), count(*), "
            "sum(type = 'session.end'), sum(type = 'suggestion.offered') "
            "FROM events GROUP BY session ORDER BY min(ts), session"
        ).fetchall()
        details = self._session_details()
        clients = {
            row[0]: (row[1], row[2])
            for row in self.conn.execute("SELECT id, client_name, client_version FROM sessions")
        }
        since_ms, until_ms = _ms(since), _ms(until)
        answer = []
        for session, owner, first, last, count, ends, offers in rows:
            languages, models, documents = details.get(session, (set(), set(), 0))
            if contractor is not None and owner != contractor:
                continue
            if since_ms is not None and last < since_ms:
                continue
            if until_ms is not None and first > until_ms:
                continue
            if language is not None and language not in languages:
                continue
            if model is not None and model not in models:
                continue
            client_name, client_version = clients.get(session, (None, None))
            answer.append(
                SessionSummary(
                    id=session,
                    contractor=owner,
                    started_ms=first,
                    last_ms=last,
                    events=count,
                    languages=tuple(sorted(languages)),
                    models=tuple(sorted(models)),
                    documents=documents,
                    suggestions=int(offers or 0),
                    ended=bool(ends),
                    client_name=client_name,
                    client_version=client_version,
                )
            )
        return answer

    def _session_details(self) -> dict[str, tuple[set[str], set[str], int]]:
        details: dict[str, tuple[set[str], set[str], int]] = {}
        for session, language, uris in self.conn.execute(
            "SELECT session, json_extract(data, '$.language_id'), "
            "count(DISTINCT json_extract(data, '$.uri')) "
            "FROM events WHERE type = 'doc.open' GROUP BY session, 2"
        ):
            languages, models, documents = details.setdefault(session, (set(), set(), 0))
            languages.add(language)
            details[session] = (languages, models, documents + int(uris))
        for session, model in self.conn.execute(
            "SELECT DISTINCT e.session, json_extract(c.value, '$.model') "
            "FROM events AS e, json_each(e.data, '$.candidates') AS c "
            "WHERE e.type = 'suggestion.offered'"
        ):
            if model is not None:
                details.setdefault(session, (set(), set(), 0))[1].add(model)
        return details

    def session(self, session_id: str) -> SessionReplay:
        """One session, ready to iterate and seek. Raises ``KeyError`` for an unknown id."""
        row = self.conn.execute(
            "SELECT data FROM events WHERE session = ? AND type = 'session.start' "
            "ORDER BY seq LIMIT 1",
            (session_id,),
        ).fetchone()
        if row is None:
            exists = self.conn.execute(
                "SELECT 1 FROM events WHERE session = ? LIMIT 1", (session_id,)
            ).fetchone()
            if exists is None:
                raise KeyError(f"no session {session_id!r} in {self.path}")
            start: Mapping[str, Any] = {}
        else:
            start = json.loads(row[0])
        return SessionReplay(self, session_id, str(start.get("position_encoding") or "utf-16"))


class SessionReplay:
    """One session: iterate its events, seek to any seq or time."""

    def __init__(self, replay: Replay, session_id: str, encoding: str) -> None:
        self.replay = replay
        self.id = session_id
        self.encoding = encoding
        self._index: _Index | None = None
        self._frontier: Player | None = None
        """The provenance pass, as far as it has gone (seeks extend it on demand)."""
        self._pass_error: ReplayMismatch | None = None
        self._checkpoints: list[Player] = []
        self._checkpoint_seqs: list[int] = []
        self._edits: list[Edit] = []

    # --- events -------------------------------------------------------------------------

    def events(
        self, start: int = 1, stop: int | None = None, types: Sequence[str] | None = None
    ) -> Iterator[ReplayEvent]:
        """Events with ``start <= seq <= stop``, in seq order, optionally only ``types``."""
        sql = "SELECT seq, type, ts, data, received FROM events WHERE session = ? AND seq >= ?"
        params: list[Any] = [self.id, start]
        if stop is not None:
            sql += " AND seq <= ?"
            params.append(stop)
        if types:
            sql += f" AND type IN ({', '.join('?' * len(types))})"
            params.extend(types)
        for seq, kind, ts, data, received in self.replay.conn.execute(
            sql + " ORDER BY seq", params
        ):
            yield ReplayEvent(seq, kind, ts, json.loads(data), received)

    def __iter__(self) -> Iterator[ReplayEvent]:
        return self.events()

    @property
    def last_seq(self) -> int:
        return self._load_index().last_seq

    def ts_of(self, seq: int) -> int | None:
        """The client time of event ``seq``."""
        index = self._load_index()
        return index.ts[seq - 1] if 1 <= seq <= len(index.ts) else None

    def seq_at(self, ts: int) -> int:
        """The last seq at or before client time ``ts`` (0 if the session starts later)."""
        return bisect.bisect_right(self._load_index().ts_running_max, ts)

    # --- seeking ------------------------------------------------------------------------

    def state_at(
        self, seq: int | None = None, *, ts: int | None = None, provenance: bool = True
    ) -> State:
        """The state after event ``seq`` (or the last event at or before time ``ts``).

        Raises ``ReplayMismatch`` if a snapshot on the way disagrees with the replay.
        """
        if (seq is None) == (ts is None):
            raise ValueError("give exactly one of seq= or ts=")
        target = self.seq_at(ts) if ts is not None else int(seq or 0)
        target = max(0, min(target, self.last_seq))
        player = self._player_with_provenance(target) if provenance else self._player_text(target)
        return self._state(player, target)

    def verify(self) -> list[ReplayMismatch]:
        """Replay the whole session, checking every snapshot; return every mismatch found."""
        player = Player(session=self.id, encoding=self.encoding, mismatches=[])
        for event in self.events():
            player.apply(event.seq, event.type, event.ts, event.data)
        return list(player.mismatches or [])

    def edits(self) -> list[Edit]:
        """Every ``doc.change`` with what it inserted and deleted, for timelines."""
        self._advance_pass(None)
        return self._edits

    def _player_with_provenance(self, target: int) -> Player:
        self._advance_pass(target)
        position = bisect.bisect_right(self._checkpoint_seqs, target) - 1
        player = self._checkpoints[position].copy()
        for event in self.events(player.seq + 1, target):
            player.apply(event.seq, event.type, event.ts, event.data)
        return player

    def _advance_pass(self, target: int | None) -> None:
        """Carry the provenance pass on to ``target`` (None: the end), checkpointing as it goes.

        The pass checks every snapshot it passes. A mismatch stops it for good: every later
        seek at or beyond that seq raises the same ``ReplayMismatch``.
        """
        if self._frontier is None:
            self._frontier = Player(session=self.id, encoding=self.encoding)
            self._checkpoints = [self._frontier.copy()]
            self._checkpoint_seqs = [0]
        if self._pass_error is not None:
            if target is None or target >= self._pass_error.seq:
                raise self._pass_error
            return
        player = self._frontier
        if target is not None and player.seq >= target:
            return
        try:
            for event in self.events(player.seq + 1, target):
                player.apply(event.seq, event.type, event.ts, event.data)
                if event.type == "doc.change" and player.last_edit is not None:
                    inserted, deleted, kind = player.last_edit
                    label = kind.label if kind is not None else "deleted"
                    self._edits.append(
                        Edit(event.seq, event.ts, str(event.data["uri"]), inserted, deleted, label)
                    )
                since = event.seq - self._checkpoint_seqs[-1]
                if since >= CHECKPOINT_EVERY or (
                    event.type == "doc.snapshot" and since >= _MIN_SNAPSHOT_GAP
                ):
                    self._checkpoints.append(player.copy())
                    self._checkpoint_seqs.append(player.seq)
        except ReplayMismatch as mismatch:
            self._pass_error = mismatch
            raise

    def _player_text(self, target: int) -> Player:
        """Text only: each document from its latest snapshot or open, then its changes."""
        index = self._load_index()
        wanted: list[int] = [seq for seq in index.control_seqs if seq <= target]
        bases: dict[str, int] = {}
        for uri, seqs in index.doc_seqs.items():
            types = index.doc_types[uri]
            last = bisect.bisect_right(seqs, target) - 1
            first = last
            while first >= 0 and types[first] not in ("doc.open", "doc.snapshot", "doc.close"):
                first -= 1
            if first < 0 or types[first] == "doc.close":
                continue
            bases[uri] = seqs[first]
            wanted.extend(seqs[first : last + 1])
        for suggestion, offered in index.suggestion_offered.items():
            if offered > target or index.suggestion_last_end.get(suggestion, target + 1) <= target:
                continue
            wanted.extend(seq for seq in index.suggestion_seqs[suggestion] if seq <= target)
        player = Player(session=self.id, encoding=self.encoding, track_provenance=False)
        for event in self._fetch(sorted(set(wanted))):
            player.apply(event.seq, event.type, event.ts, event.data)
            # A document that starts from a snapshot gets its language from its doc.open.
            seen = event.data.get("uri")
            if event.type == "doc.snapshot" and isinstance(seen, str) and seen in player.docs:
                player.docs[seen].language_id = index.languages.get(seen, "")
        player.seq = target
        return player

    def _fetch(self, seqs: Sequence[int]) -> Iterator[ReplayEvent]:
        for first in range(0, len(seqs), _SQL_CHUNK):
            chunk = seqs[first : first + _SQL_CHUNK]
            rows = self.replay.conn.execute(
                "SELECT seq, type, ts, data, received FROM events WHERE session = ? "
                f"AND seq IN ({', '.join('?' * len(chunk))}) ORDER BY seq",
                [self.id, *chunk],
            )
            for seq, kind, ts, data, received in rows:
                yield ReplayEvent(seq, kind, ts, json.loads(data), received)

    def _load_index(self) -> _Index:
        if self._index is not None:
            return self._index
        index = _Index()
        running = -(2**63)
        rows = self.replay.conn.execute(
            "SELECT seq, ts, type, "
            "CASE WHEN type LIKE 'doc.%' THEN json_extract(data, '$.uri') END, "
            "CASE WHEN type LIKE 'suggestion.%' THEN json_extract(data, '$.suggestion') END, "
            "CASE WHEN type = 'doc.open' THEN json_extract(data, '$.language_id') END "
            "FROM events WHERE session = ? ORDER BY seq",
            (self.id,),
        )
        for seq, ts, kind, uri, suggestion, language in rows:
            running = max(running, ts)
            index.ts.append(ts)
            index.ts_running_max.append(running)
            index.last_seq = seq
            if kind.startswith("doc.") and kind != "doc.save" and uri is not None:
                index.doc_seqs.setdefault(uri, []).append(seq)
                index.doc_types.setdefault(uri, []).append(kind)
                if language is not None:
                    index.languages[uri] = language
            elif kind.startswith("suggestion.") and suggestion is not None:
                index.suggestion_seqs.setdefault(suggestion, []).append(seq)
                if kind == "suggestion.offered":
                    index.suggestion_offered[suggestion] = seq
                elif kind == "suggestion.ended":
                    index.suggestion_last_end[suggestion] = seq
            elif kind in ("session.start", "session.end", "capture.paused", "capture.resumed"):
                index.control_seqs.append(seq)
        self._index = index
        return index

    # --- the answer ---------------------------------------------------------------------

    def _state(self, player: Player, target: int) -> State:
        documents = {uri: self._document(doc) for uri, doc in sorted(player.docs.items())}
        suggestions = [
            self._visible(live, player.docs.get(live.uri))
            for live in sorted(player.live.values(), key=lambda c: (c.offered_seq, c.candidate))
        ]
        return State(self.id, target, self.ts_of(target), player.paused, documents, suggestions)

    def _document(self, doc: DocState) -> DocumentView:
        cursor = None if doc.cursor is None else position_at(doc.text, doc.cursor, self.encoding)
        return DocumentView(
            uri=doc.uri,
            language_id=doc.language_id,
            version=doc.version,
            text=doc.text,
            cursor=cursor,
            cursor_offset=doc.cursor,
            provenance=None if doc.provenance is None else bytes(doc.provenance),
        )

    def _visible(self, live: LiveCandidate, doc: DocState | None) -> VisibleSuggestion:
        anchor, position = live.anchor, live.position
        text = live.text
        if doc is not None and anchor < 0 and live.raw_start is not None:
            anchor = offset_at(doc.text, live.raw_start, self.encoding)
            position = offset_at(doc.text, live.raw_position or live.raw_start, self.encoding)
        ghost, at = text, max(position, 0)
        if doc is not None and anchor >= 0:
            # What the person already has of the candidate (typed through or partially
            # accepted) is not ghost any more: the editor draws only the rest.
            cursor = doc.cursor if doc.cursor is not None else position
            end = cursor if position <= cursor <= anchor + len(text) else position
            while end > anchor and not text.startswith(doc.text[anchor:end]):
                end -= 1
            ghost, at = text[end - anchor :], end
        return VisibleSuggestion(
            suggestion=live.suggestion,
            candidate=live.candidate,
            uri=live.uri,
            text=text,
            shown=live.shown_seq is not None,
            offered_seq=live.offered_seq,
            offered_ts=live.offered_ts,
            shown_ts=live.shown_ts,
            provider=live.provider,
            model=live.model,
            arm=live.arm,
            ghost_text=ghost,
            ghost_offset=at,
        )


def _ms(moment: int | datetime | None) -> int | None:
    if moment is None or isinstance(moment, int):
        return moment
    return int(moment.timestamp() * 1000)


def snapshot_sha256(text: str) -> str:
    """The sha256 a ``doc.snapshot`` of ``text`` carries (of its UTF-8 bytes)."""
    return sha256_text(text)
