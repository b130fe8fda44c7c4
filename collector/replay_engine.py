"""The replay machine: applies a session's events in order to documents and live suggestions.

One ``Player`` is the only implementation of "what did the screen look like": the
Python API, the terminal player and the web viewer all read its state. It is pure:
events in, state out, no database. ``copy()`` gives an independent player that shares
the immutable parts, which is how seek checkpoints stay cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from edittrace.collector.replay_text import (
    ACCEPTED_KINDS,
    Provenance,
    classify_insertion,
    common_affixes,
    line_starts,
    mark_edited_span,
    offset_at,
    shift_line_starts,
)


class ReplayMismatch(Exception):
    """A ``doc.snapshot`` disagrees with the replayed text (or with its own sha256)."""

    def __init__(
        self, session: str, seq: int, uri: str, expected: str, actual: str, detail: str
    ) -> None:
        self.session = session
        self.seq = seq
        self.uri = uri
        self.expected = expected
        self.actual = actual
        self.detail = detail
        super().__init__(
            f"session {session} seq {seq} {uri}: {detail}: snapshot sha256 {expected}, got {actual}"
        )


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class DocState:
    """One document during replay. ``provenance`` is None when not tracked."""

    uri: str
    language_id: str
    version: int
    text: str
    provenance: bytearray | None
    cursor: int | None = None
    """Code point offset of the end of the last edit (or of the last offer), when known."""
    stale: bool = False
    """Changed while capture was paused: the next snapshot replaces the text, unchecked."""
    starts: list[int] | None = None
    """Line start offsets, kept up to date through edits (None: compute when needed)."""

    def copy(self) -> DocState:
        provenance = None if self.provenance is None else bytearray(self.provenance)
        starts = None if self.starts is None else list(self.starts)
        return replace(self, provenance=provenance, starts=starts)

    def offset(self, position: Mapping[str, Any], encoding: str) -> int:
        """Code point offset of an LSP position in this document."""
        if self.starts is None:
            self.starts = line_starts(self.text)
        return offset_at(self.text, position, encoding, self.starts)


@dataclass
class LiveCandidate:
    """A candidate offered and not yet ended: what could be on screen."""

    suggestion: str
    candidate: int
    uri: str
    text: str
    anchor: int
    """Code point offset where the candidate's range starts, moved along with edits."""
    position: int
    """Code point offset of the request position (the cursor when offered)."""
    offered_seq: int
    offered_ts: int
    provider: str | None
    model: str | None
    arm: str | None
    raw_start: Mapping[str, Any] | None = None
    raw_position: Mapping[str, Any] | None = None
    """The LSP positions as offered, for when the document was not known then (anchor -1)."""
    shown_seq: int | None = None
    shown_ts: int | None = None
    partial_length: int = 0


@dataclass
class _PendingAccept:
    version: int
    data: Mapping[str, Any]


@dataclass
class Player:
    """Documents and live suggestions after the events applied so far."""

    session: str
    encoding: str = "utf-16"
    track_provenance: bool = True
    docs: dict[str, DocState] = field(default_factory=dict)
    live: dict[tuple[str, int], LiveCandidate] = field(default_factory=dict)
    paused: bool = False
    seq: int = 0
    ts: int | None = None
    pending: dict[str, list[_PendingAccept]] = field(default_factory=dict)
    mismatches: list[ReplayMismatch] | None = None
    """When a list, mismatches are appended to it (and the snapshot taken) instead of raised."""
    last_edit: tuple[int, int, Provenance | None] | None = None
    """Of the last ``doc.change``: characters inserted, deleted, and the insertion's kind."""

    def copy(self) -> Player:
        return Player(
            session=self.session,
            encoding=self.encoding,
            track_provenance=self.track_provenance,
            docs={uri: doc.copy() for uri, doc in self.docs.items()},
            live={key: replace(candidate) for key, candidate in self.live.items()},
            paused=self.paused,
            seq=self.seq,
            ts=self.ts,
            pending={uri: list(items) for uri, items in self.pending.items()},
            mismatches=self.mismatches,
        )

    # --- the one entry point ------------------------------------------------------------

    def apply(self, seq: int, event_type: str, ts: int, data: Mapping[str, Any]) -> None:
        self.seq = seq
        self.ts = ts
        handler = _HANDLERS.get(event_type)
        if handler is not None:
            handler(self, seq, ts, data)

    # --- session ------------------------------------------------------------------------

    def _start(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        self.encoding = str(data.get("position_encoding") or "utf-16")

    def _paused(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        self.paused = True
        self.live.clear()

    def _resumed(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        self.paused = False
        for doc in self.docs.values():
            # Anything may have changed meanwhile; the resume snapshots say what.
            doc.stale = True

    def _session_end(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        self.live.clear()

    # --- documents ----------------------------------------------------------------------

    def _open(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        text = str(data["text"])
        provenance = bytearray(len(text)) if self.track_provenance else None
        self.docs[str(data["uri"])] = DocState(
            uri=str(data["uri"]),
            language_id=str(data.get("language_id") or ""),
            version=int(data.get("version") or 0),
            text=text,
            provenance=provenance,
        )

    def _close(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        uri = str(data["uri"])
        self.docs.pop(uri, None)
        self.pending.pop(uri, None)
        for key in [key for key, live in self.live.items() if live.uri == uri]:
            del self.live[key]

    def _snapshot(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        uri = str(data["uri"])
        text = str(data["text"])
        expected = str(data["sha256"])
        own = sha256_text(text)
        if own != expected:
            self._mismatch(
                ReplayMismatch(
                    self.session, seq, uri, expected, own, "snapshot text does not match its sha256"
                )
            )
        doc = self.docs.get(uri)
        if doc is None:
            # First seen here (a seek starting at this snapshot, or a document re-sent on resume).
            kind = Provenance.INITIAL
            self.docs[uri] = DocState(
                uri=uri,
                language_id="",
                version=int(data.get("version") or 0),
                text=text,
                provenance=bytearray([kind]) * len(text) if self.track_provenance else None,
            )
            return
        if doc.stale:
            self._reset_from_snapshot(doc, text)
        else:
            actual = sha256_text(doc.text)
            if actual != expected:
                self._mismatch(
                    ReplayMismatch(
                        self.session,
                        seq,
                        uri,
                        expected,
                        actual,
                        "replayed text differs from snapshot",
                    )
                )
                # Reported above; go on from the snapshot so later checks still mean something.
                self._reset_from_snapshot(doc, text)
        doc.version = int(data.get("version") or doc.version)

    def _mismatch(self, mismatch: ReplayMismatch) -> None:
        if self.mismatches is None:
            raise mismatch
        self.mismatches.append(mismatch)

    def _reset_from_snapshot(self, doc: DocState, text: str) -> None:
        """After a pause: keep what is unchanged, mark what differs as unrecorded."""
        prefix, suffix = common_affixes(doc.text, text)
        if doc.provenance is not None:
            middle = bytearray([Provenance.UNRECORDED]) * (len(text) - prefix - suffix)
            doc.provenance[prefix : len(doc.text) - suffix] = middle
        doc.text = text
        doc.starts = None
        doc.stale = False

    def _change(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        uri = str(data["uri"])
        doc = self.docs.get(uri)
        if doc is None:
            return
        self.last_edit = (0, 0, None)
        for change in data.get("changes") or ():
            if "range" in change and change["range"] is not None:
                start = doc.offset(change["range"]["start"], self.encoding)
                end = doc.offset(change["range"]["end"], self.encoding)
                if end < start:
                    start, end = end, start
                self._replace(doc, start, end, str(change.get("text") or ""))
            else:
                new = str(change.get("text") or "")
                prefix, suffix = common_affixes(doc.text, new)
                self._replace(doc, prefix, len(doc.text) - suffix, new[prefix : len(new) - suffix])
        doc.version = int(data.get("version") or doc.version + 1)
        doc.stale = doc.stale and self.paused
        for pending in self.pending.pop(uri, []):
            if pending.version <= doc.version:
                self._mark_accepted(doc, pending.data)
            else:
                self.pending.setdefault(uri, []).append(pending)

    def _replace(self, doc: DocState, start: int, end: int, text: str) -> None:
        if doc.provenance is not None:
            mark_edited_span(doc.provenance, start, end, inserting=start == end)
            kind = self._insertion_kind(doc.uri, text)
            doc.provenance[start:end] = bytearray([kind]) * len(text)
        else:
            kind = classify_insertion(text)
        if self.last_edit is not None:
            inserted, deleted, _ = self.last_edit
            self.last_edit = (inserted + len(text), deleted + end - start, kind if text else None)
        if doc.starts is not None:
            shift_line_starts(doc.starts, start, end, text)
        doc.text = doc.text[:start] + text + doc.text[end:]
        doc.cursor = start + len(text)
        delta = len(text) - (end - start)
        for live in self.live.values():
            if live.uri != doc.uri or live.anchor < 0:
                continue
            live.anchor = _moved(live.anchor, start, end, delta, len(text))
            live.position = _moved(live.position, start, end, delta, len(text), is_end=True)

    def _insertion_kind(self, uri: str, text: str) -> Provenance:
        kind = classify_insertion(text)
        if kind is Provenance.PASTED:
            # A multi-character insertion that is part of a candidate on offer is an accept
            # (Tab, or a partial accept), even before the accept event confirms it.
            for live in self.live.values():
                if live.uri == uri and text in live.text:
                    return Provenance.ACCEPTED
        return kind

    # --- suggestions --------------------------------------------------------------------

    def _offered(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        uri = str(data["uri"])
        doc = self.docs.get(uri)
        suggestion = str(data["suggestion"])
        position = -1
        if doc is not None:
            position = doc.offset(data["position"], self.encoding)
            doc.cursor = position
        for candidate in data.get("candidates") or ():
            anchor = position
            if doc is not None and candidate.get("range"):
                anchor = doc.offset(candidate["range"]["start"], self.encoding)
            index = int(candidate.get("index", 0))
            raw_start = candidate["range"]["start"] if candidate.get("range") else data["position"]
            self.live[(suggestion, index)] = LiveCandidate(
                suggestion=suggestion,
                candidate=index,
                uri=uri,
                text=str(candidate.get("text") or ""),
                anchor=anchor,
                position=position,
                offered_seq=seq,
                offered_ts=ts,
                provider=candidate.get("provider"),
                model=candidate.get("model"),
                arm=candidate.get("arm"),
                raw_start=raw_start,
                raw_position=data["position"],
            )

    def _shown(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        live = self.live.get((str(data["suggestion"]), int(data["candidate"])))
        if live is not None and live.shown_seq is None:
            live.shown_seq = seq
            live.shown_ts = ts

    def _partial(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        live = self.live.get((str(data["suggestion"]), int(data["candidate"])))
        if live is not None:
            live.partial_length = int(data.get("accepted_length") or 0)

    def _ended(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        self.live.pop((str(data["suggestion"]), int(data["candidate"])), None)

    def _accepted(self, seq: int, ts: int, data: Mapping[str, Any]) -> None:
        uri = str(data["uri"])
        doc = self.docs.get(uri)
        if doc is None or doc.provenance is None:
            return
        version = data.get("version")
        if version is not None and int(version) > doc.version:
            # The accept was reported before the edit reached us: mark it when it arrives.
            self.pending.setdefault(uri, []).append(_PendingAccept(int(version), data))
            return
        self._mark_accepted(doc, data)

    def _mark_accepted(self, doc: DocState, data: Mapping[str, Any]) -> None:
        """Mark where the accepted text sits as accepted (it may have looked like a paste)."""
        assert doc.provenance is not None
        text = str(data.get("text") or "")
        if not text:
            return
        start = -1
        span = data.get("range")
        if span:
            start = doc.offset(span["start"], self.encoding)
            if doc.text[start : start + len(text)] != text:
                start = -1
        if start < 0:
            start = _nearest(doc.text, text, doc.cursor if doc.cursor is not None else 0)
        if start < 0:
            return
        for index in range(start, start + len(text)):
            if doc.provenance[index] not in ACCEPTED_KINDS:
                doc.provenance[index] = Provenance.ACCEPTED


def _moved(
    offset: int, start: int, end: int, delta: int, inserted: int, is_end: bool = False
) -> int:
    """Where ``offset`` is after ``start..end`` was replaced by ``inserted`` characters."""
    if offset > end or (offset == end and (is_end or start != end)):
        return offset + delta
    if offset > start:
        return start + inserted if is_end else start
    return offset


def _nearest(text: str, needle: str, around: int) -> int:
    """Start of the occurrence of ``needle`` closest to ``around`` (ending there preferred)."""
    best = -1
    index = text.find(needle)
    while index >= 0:
        if best < 0 or abs(index + len(needle) - around) < abs(best + len(needle) - around):
            best = index
        index = text.find(needle, index + 1)
    return best


_Handler = Any
_HANDLERS: dict[str, _Handler] = {
    "session.start": Player._start,
    "session.end": Player._session_end,
    "capture.paused": Player._paused,
    "capture.resumed": Player._resumed,
    "doc.open": Player._open,
    "doc.change": Player._change,
    "doc.close": Player._close,
    "doc.snapshot": Player._snapshot,
    "suggestion.offered": Player._offered,
    "suggestion.shown": Player._shown,
    "suggestion.partial_accept": Player._partial,
    "suggestion.accepted": Player._accepted,
    "suggestion.ended": Player._ended,
}
