"""The life of each offered candidate, and what the edit stream says about it.

LSP tells when an item is accepted only through the item's command, which the editor runs
*after* it applied the insertion; it never tells that a suggestion was shown, typed over or
dismissed. So each candidate is followed against every edit of its document:

* The candidate's effect is worked out once, at the offer: the editor replaces the item's
  range with its text, and the part of the text that the range does not already hold (the
  common prefix and suffix taken off) is what the suggestion adds, usually a pure insertion
  at the cursor.
* An edit inserting exactly the rest of that text at the cursor completes the candidate
  (an accept, awaiting its command); inserting a prefix of the rest advances the cursor
  (typed-through, or a partial accept); deleting back over what was typed steps it back;
  anything else in the document disagrees with the candidate (ignored, ``typed_other``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from edittrace.capture.documents import (
    AppliedChange,
    DocumentMirror,
    Point,
    advance,
    common_prefix_length,
)
from edittrace.capture.persistence import TrackedSpan
from edittrace.protocol.events import Candidate, Range


class CaptureError(ValueError):
    """A request the recorder cannot take (a rating with a bad value, an unknown suggestion).

    The message says what was wrong and what is allowed; fit to show to the person.
    """


@dataclass(frozen=True)
class OfferedCandidate:
    """One candidate as the server offered it: the item's ``insertText`` and ``range``."""

    text: str
    range: Range
    provider: str
    model: str | None = None
    arm: str | None = None


class Phase(Enum):
    OPEN = "open"
    """On screen as far as we know; edits are compared with it."""
    RESOLVING = "resolving"
    """Outcome inferred, final after the grace period unless the editor says otherwise."""
    ENDED = "ended"
    """``suggestion.ended`` has been emitted."""


@dataclass
class Resolution:
    """An outcome, waiting (inferred) or final."""

    outcome: str
    source: str
    at_ms: int
    reason: str | None = None
    user_typing_disagreed: bool | None = None
    span: TrackedSpan | None = None
    """Where the accepted text sits (accepts only)."""
    partial: bool = False
    awaiting_text: bool = False
    """Accepted by the editor's word before its text was seen going in: the next edit that
    inserts it (within the grace) gives the span."""


def normalise_breaks(text: str) -> str:
    """Line breaks as ``\\n``: editors turn a candidate's ``\\n`` into the file's own EOL."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Edit:
    """The smallest form of one applied change: replace ``start``..``end`` with ``text``."""

    start: Point
    end: Point
    text: str
    deleted: str

    @staticmethod
    def of(change: AppliedChange) -> Edit:
        deleted, inserted = change.deleted, change.inserted
        prefix = common_prefix_length(deleted, inserted)
        suffix = common_prefix_length(deleted[prefix:][::-1], inserted[prefix:][::-1])
        start = advance(change.start, deleted[:prefix])
        removed = deleted[prefix : len(deleted) - suffix]
        return Edit(
            start, advance(start, removed), inserted[prefix : len(inserted) - suffix], removed
        )


@dataclass
class CandidateState:
    index: int
    offered: OfferedCandidate
    insert_at: Point
    """Where the candidate's new text begins (mirror point, before any typing)."""
    replaced_end: Point
    """End of what the candidate replaces; equals ``insert_at`` for a pure insertion."""
    adds: str
    """The text the candidate adds, line breaks normalised."""
    leading: int
    """Characters of the candidate's text that the document already held before ``insert_at``."""
    inferrable: bool
    cursor: Point
    typed: int = 0
    """Characters of ``adds`` already in the document (typed through or partially accepted)."""
    first_shown_ms: int | None = None
    partial_length: int = 0
    """Largest ``accepted_length`` a partial accept reported (from the candidate's start)."""
    phase: Phase = Phase.OPEN
    resolution: Resolution | None = None

    @property
    def is_insertion(self) -> bool:
        return self.insert_at == self.replaced_end

    def partial_adds(self) -> int:
        """Characters of ``adds`` the partial accepts took."""
        return max(0, min(len(self.adds), self.partial_length - self.leading))


@dataclass
class Offer:
    suggestion: str
    uri: str
    offered_ms: int
    candidates: list[CandidateState] = field(default_factory=list)

    def open_candidates(self) -> list[CandidateState]:
        return [c for c in self.candidates if c.phase is Phase.OPEN]

    def finished(self) -> bool:
        return all(c.phase is Phase.ENDED for c in self.candidates)


def plan_candidate(
    index: int, offered: OfferedCandidate, mirror: DocumentMirror, *, current: bool
) -> CandidateState:
    """Work out what accepting ``offered`` would do to the document as it is now.

    ``current`` is False when the offer was computed for an older version of the document:
    its range no longer points where it did, so no inference is attempted for it.
    """
    where = range_dict(offered.range)
    start = mirror.to_point(where["start"])
    end = mirror.to_point(where["end"])
    held = normalise_breaks(mirror.slice(start, end))
    text = normalise_breaks(offered.text)
    prefix = common_prefix_length(held, text)
    suffix = common_prefix_length(held[prefix:][::-1], text[prefix:][::-1])
    insert_at = advance(start, held[:prefix])
    replaced_end = advance(insert_at, held[prefix : len(held) - suffix])
    adds = text[prefix : len(text) - suffix]
    return CandidateState(
        index=index,
        offered=offered,
        insert_at=insert_at,
        replaced_end=replaced_end,
        adds=adds,
        leading=prefix,
        inferrable=current and bool(adds),
        cursor=insert_at,
    )


class Verdict(Enum):
    UNRELATED = "unrelated"
    """The edit changed nothing."""
    PROGRESS = "progress"
    COMPLETE = "complete"
    DISAGREE = "disagree"


def judge(candidate: CandidateState, edit: Edit) -> Verdict:
    """What an edit in the candidate's document says about it; updates the typing progress.

    On ``COMPLETE`` the candidate's ``cursor`` is the end of its text after the edit.
    """
    if not edit.text and edit.start == edit.end:
        return Verdict.UNRELATED
    if not candidate.inferrable:
        return Verdict.UNRELATED
    typed_text = normalise_breaks(edit.text)
    if not candidate.is_insertion:
        if (edit.start, edit.end, typed_text) == (
            candidate.insert_at,
            candidate.replaced_end,
            candidate.adds,
        ):
            candidate.cursor = advance(edit.start, edit.text)
            candidate.typed = len(candidate.adds)
            return Verdict.COMPLETE
        return Verdict.DISAGREE
    if edit.start == edit.end == candidate.cursor:
        rest = candidate.adds[candidate.typed :]
        if not rest.startswith(typed_text):
            return Verdict.DISAGREE
        candidate.typed += len(typed_text)
        candidate.cursor = advance(candidate.cursor, edit.text)
        return Verdict.COMPLETE if candidate.typed == len(candidate.adds) else Verdict.PROGRESS
    if not edit.text and edit.end == candidate.cursor and edit.start >= candidate.insert_at:
        # Backspace over typed-through characters: the ghost text comes back in the editor.
        candidate.typed -= len(normalise_breaks(edit.deleted))
        candidate.cursor = edit.start
        return Verdict.PROGRESS
    return Verdict.DISAGREE


def shown_ms(candidate: CandidateState, end_ms: int) -> int | None:
    if candidate.first_shown_ms is None or candidate.first_shown_ms > end_ms:
        return None
    return end_ms - candidate.first_shown_ms


def candidate_data(index: int, offered: OfferedCandidate) -> dict[str, Any]:
    """The ``candidates`` item of ``suggestion.offered``."""
    return Candidate(
        index=index,
        text=offered.text,
        range=range_dict(offered.range),
        provider=offered.provider,
        model=offered.model,
        arm=offered.arm,
    ).to_data()


def position_dict(position: Any) -> dict[str, int]:
    """An LSP position as a plain map, from a map or an object (lsprotocol's ``Position``)."""
    if type(position) is dict or isinstance(position, Mapping):  # the exact type is cheap
        line, character = position.get("line", 0), position.get("character", 0)
    else:
        line, character = getattr(position, "line", 0), getattr(position, "character", 0)
    return {"line": int(line), "character": int(character)}


def range_dict(value: Any) -> dict[str, dict[str, int]]:
    """An LSP range as a plain map, from a map or an object (lsprotocol's ``Range``)."""
    if type(value) is dict or isinstance(value, Mapping):
        start, end = value.get("start", {}), value.get("end", {})
    else:
        start, end = getattr(value, "start", {}), getattr(value, "end", {})
    return {"start": position_dict(start), "end": position_dict(end)}
