"""What a replay answers with: session summaries, events, documents, suggestions, states.

Plain frozen dataclasses, so analyses can keep them, compare them and turn them into
JSON (``dataclasses.asdict``); ``edittrace.collector.replay`` builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edittrace.collector.replay_text import Provenance, runs


@dataclass(frozen=True)
class SessionSummary:
    """One session, as ``Replay.sessions`` lists it. Times are Unix ms of the client clock."""

    id: str
    contractor: str
    started_ms: int
    last_ms: int
    events: int
    languages: tuple[str, ...]
    models: tuple[str, ...]
    documents: int
    suggestions: int
    ended: bool
    """The session has a ``session.end`` (a crash leaves none)."""
    client_name: str | None = None
    client_version: str | None = None


@dataclass(frozen=True)
class ReplayEvent:
    seq: int
    type: str
    ts: int
    data: Mapping[str, Any]
    received: int


@dataclass(frozen=True)
class DocumentView:
    """One open document at the moment asked for."""

    uri: str
    language_id: str
    version: int
    text: str
    cursor: dict[str, int] | None
    """LSP position (session encoding) of the end of the last edit or offer, when known."""
    cursor_offset: int | None
    provenance: bytes | None
    """One ``Provenance`` value per character (code point); None when not asked for."""

    def provenance_at(self, offset: int) -> str:
        """``typed``, ``accepted``, ... of the character at code point ``offset``."""
        if self.provenance is None:
            raise ValueError("state was computed with provenance=False")
        return Provenance(self.provenance[offset]).label

    def runs(self) -> list[tuple[int, int, str]]:
        """``(start, end, kind)`` for each stretch of characters with the same provenance."""
        if self.provenance is None:
            raise ValueError("state was computed with provenance=False")
        return [(start, end, kind.label) for start, end, kind in runs(self.provenance)]

    def segments(self) -> list[tuple[str, str]]:
        """``(text, kind)`` pieces that concatenate to the document's text."""
        return [(self.text[start:end], kind) for start, end, kind in self.runs()]

    def count(self, kind: str) -> int:
        """How many characters have provenance ``kind``."""
        if self.provenance is None:
            raise ValueError("state was computed with provenance=False")
        return self.provenance.count(Provenance[kind.upper()].value)


@dataclass(frozen=True)
class VisibleSuggestion:
    """A candidate offered and not yet ended at the moment asked for."""

    suggestion: str
    candidate: int
    uri: str
    text: str
    shown: bool
    """It had appeared on screen (``suggestion.shown``); otherwise only offered."""
    offered_seq: int
    offered_ts: int
    shown_ts: int | None
    provider: str | None
    model: str | None
    arm: str | None
    ghost_text: str
    """The part of ``text`` not yet in the document: what the editor draws dimmed."""
    ghost_offset: int
    """Code point offset in the document's text where the ghost text is drawn."""


@dataclass(frozen=True)
class State:
    """Everything on screen after event ``seq``."""

    session: str
    seq: int
    ts: int | None
    paused: bool
    documents: dict[str, DocumentView]
    suggestions: list[VisibleSuggestion]

    def text(self, uri: str) -> str:
        return self.documents[uri].text


@dataclass(frozen=True)
class Edit:
    """One ``doc.change`` as the timeline shows it."""

    seq: int
    ts: int
    uri: str
    inserted: int
    deleted: int
    kind: str
    """Provenance of what it inserted (``typed``, ``pasted``, ``accepted``) or ``deleted``."""
