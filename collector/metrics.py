"""The per-suggestion-candidate table, derived from stored events.

One row per candidate of every ``suggestion.offered``: where it was offered, by which
provider/model/arm, whether it was shown, how it ended, how much of it was accepted, what
was left of it at each persistence checkpoint, and how it was rated. Group figures
(``edittrace report``) and the datasets (``edittrace export``) are computed from this table;
docs/metrics.md defines every field.

The builder is pure: it consumes ``StoredEvent``s in (session, seq) order per session and
never touches the database, so every figure can be checked on hand-built event lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edittrace.collector.event_reader import StoredEvent

ACTIVE_GAP_CAP_MS = 5 * 60 * 1000
"""A gap between two activity events counts as active time up to this much (idle cap)."""

ACTIVITY_TYPES = frozenset(
    {
        "doc.open",
        "doc.change",
        "doc.save",
        "doc.close",
        "suggestion.offered",
        "suggestion.shown",
        "suggestion.partial_accept",
        "suggestion.accepted",
        "suggestion.ended",
        "rating.submitted",
        "comparison.choice",
    }
)
"""Events that show a person at work. Timer-driven ones (persistence, snapshots) are not."""

SHOWN_EVENT = "event"
SHOWN_BY_ACCEPT = "accept"
SHOWN_FALLBACK = "fallback"


@dataclass(frozen=True)
class Checkpoint:
    """A ``suggestion.persistence`` figure at one checkpoint."""

    unchanged: bool
    mostly_unchanged: bool
    distance: int


@dataclass
class CandidateRow:
    """One candidate of one offer, and everything that happened to it."""

    session: str
    contractor: str
    suggestion: str
    candidate: int
    uri: str
    language: str | None
    provider: str
    model: str | None
    arm: str | None
    trigger: str
    latency_ms: float
    offered_ts: int
    offered_seq: int
    text: str
    shown_first: bool
    """First in ``shown_order`` (the candidate an editor displays first)."""
    prefix: str | None = None
    suffix: str | None = None
    shown: bool = False
    shown_basis: str | None = None
    """``event`` (a ``suggestion.shown``), ``accept`` (accepted without a shown event) or
    ``fallback`` (the session has no shown events at all: see docs/metrics.md)."""
    shown_ts: int | None = None
    shown_ms: int | None = None
    outcome: str | None = None
    end_reason: str | None = None
    source: str | None = None
    """Who reported the outcome (``suggestion.ended``'s ``source``)."""
    accepted: bool = False
    accepted_ts: int | None = None
    accepted_chars: int = 0
    partial: bool = False
    accepted_text: str | None = None
    persistence: dict[int, Checkpoint] = field(default_factory=dict)
    thumbs: str | None = None
    stars: int | None = None
    rubric: dict[str, int] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    ratings: int = 0
    """Number of ``rating.submitted`` events attributed to this candidate."""

    @property
    def text_chars(self) -> int:
        return len(self.text)

    def flat(self, checkpoints: Iterable[int], rubric_keys: Iterable[str]) -> dict[str, Any]:
        """A flat record (parquet, CSV): persistence and rubric spread into columns."""
        record: dict[str, Any] = {
            "session": self.session,
            "contractor": self.contractor,
            "suggestion": self.suggestion,
            "candidate": self.candidate,
            "uri": self.uri,
            "language": self.language,
            "provider": self.provider,
            "model": self.model,
            "arm": self.arm,
            "trigger": self.trigger,
            "latency_ms": float(self.latency_ms),
            "offered_ts": self.offered_ts,
            "offered_seq": self.offered_seq,
            "text": self.text,
            "text_chars": self.text_chars,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "shown": self.shown,
            "shown_basis": self.shown_basis,
            "shown_ts": self.shown_ts,
            "shown_ms": self.shown_ms,
            "outcome": self.outcome,
            "end_reason": self.end_reason,
            "source": self.source,
            "accepted": self.accepted,
            "accepted_ts": self.accepted_ts,
            "accepted_chars": self.accepted_chars,
            "partial": self.partial,
        }
        for checkpoint in checkpoints:
            point = self.persistence.get(checkpoint)
            record[f"unchanged_{checkpoint}"] = None if point is None else point.unchanged
            record[f"mostly_unchanged_{checkpoint}"] = (
                None if point is None else point.mostly_unchanged
            )
            record[f"distance_{checkpoint}"] = None if point is None else point.distance
        record["thumbs"] = self.thumbs
        record["stars"] = self.stars
        for key in rubric_keys:
            record[f"rubric_{key}"] = self.rubric.get(key)
        record["ratings"] = self.ratings
        record["comments"] = "\n".join(self.comments) or None
        return record


@dataclass(frozen=True)
class Offer:
    """One ``suggestion.offered``: an opportunity in Ziegler et al.'s sense."""

    session: str
    contractor: str
    suggestion: str
    uri: str
    language: str | None
    ts: int
    seq: int
    candidates: tuple[int, ...]
    shown_order: tuple[int, ...] = ()
    """Candidate indexes in the order the editor received them."""


@dataclass(frozen=True)
class Comparison:
    """One ``comparison.choice``."""

    session: str
    contractor: str
    suggestion: str
    ts: int
    choice: str
    candidate: int | None
    order: tuple[int, ...]
    decision_ms: int | None


@dataclass
class Activity:
    """Work in one document of one session (a *context*)."""

    active_ms: int = 0
    inserted_chars: int = 0
    full_replacements: int = 0


Context = tuple[str, str | None]
"""(session, uri); uri ``None`` for activity not tied to a document."""


@dataclass
class SuggestionTable:
    rows: list[CandidateRow] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    activity: dict[Context, Activity] = field(default_factory=dict)
    context_language: dict[Context, str | None] = field(default_factory=dict)
    contractors: dict[str, str] = field(default_factory=dict)
    """session -> contractor."""
    sessions_without_shown: set[str] = field(default_factory=set)

    @property
    def checkpoints(self) -> list[int]:
        return sorted({point for row in self.rows for point in row.persistence})

    @property
    def rubric_keys(self) -> list[str]:
        return sorted({key for row in self.rows for key in row.rubric})

    def row(self, session: str, suggestion: str, candidate: int) -> CandidateRow | None:
        for row in self.rows_of(session, suggestion):
            if row.candidate == candidate:
                return row
        return None

    def rows_of(self, session: str, suggestion: str) -> list[CandidateRow]:
        """The candidates of one offer, by index."""
        if self._by_offer is None:
            self._by_offer = defaultdict(list)
            for row in self.rows:
                self._by_offer[(row.session, row.suggestion)].append(row)
        return self._by_offer.get((session, suggestion), [])

    _by_offer: dict[tuple[str, str], list[CandidateRow]] | None = field(
        default=None, init=False, repr=False, compare=False
    )


class _SessionState:
    def __init__(self, session: str, contractor: str) -> None:
        self.session = session
        self.contractor = contractor
        self.languages: dict[str, str] = {}
        self.rows: dict[tuple[str, int], CandidateRow] = {}
        self.offer_uri: dict[str, str] = {}
        self.partial_lengths: dict[tuple[str, int], int] = {}
        self.pending_ratings: list[Mapping[str, Any]] = []
        self.saw_shown = False
        self.last_activity_ts: int | None = None
        self.paused_since_activity = False


def build_table(events: Iterable[StoredEvent]) -> SuggestionTable:
    """Derive the per-candidate table from events, each session's in seq order."""
    table = SuggestionTable()
    states: dict[str, _SessionState] = {}
    for event in events:
        state = states.get(event.session)
        if state is None:
            state = states[event.session] = _SessionState(event.session, event.contractor)
            table.contractors[event.session] = event.contractor
        _apply(table, state, event)
    for state in states.values():
        _finish_session(table, state)
    table.rows.sort(key=lambda row: (row.session, row.offered_seq, row.candidate))
    return table


def _apply(table: SuggestionTable, state: _SessionState, event: StoredEvent) -> None:
    data = event.data
    kind = event.type
    if kind == "capture.paused":
        state.paused_since_activity = True
        return
    if kind == "doc.open":
        state.languages[data["uri"]] = data["language_id"]
        table.context_language[(state.session, data["uri"])] = data["language_id"]
    if kind in ACTIVITY_TYPES:
        _count_activity(table, state, event)
    if kind == "suggestion.offered":
        _offered(table, state, event)
        return
    if kind == "rating.submitted":
        state.pending_ratings.append(data)
        return
    if kind == "comparison.choice":
        table.comparisons.append(
            Comparison(
                session=state.session,
                contractor=state.contractor,
                suggestion=data["suggestion"],
                ts=event.ts,
                choice=data["choice"],
                candidate=data.get("candidate"),
                order=tuple(data.get("order") or ()),
                decision_ms=data.get("decision_ms"),
            )
        )
        return
    if not kind.startswith("suggestion."):
        return
    row = state.rows.get((data["suggestion"], data["candidate"]))
    if row is None:
        return  # an event about an offer this session never recorded: nothing to attach to
    if kind == "suggestion.shown":
        state.saw_shown = True
        if not row.shown:
            row.shown, row.shown_basis, row.shown_ts = True, SHOWN_EVENT, event.ts
    elif kind == "suggestion.partial_accept":
        key = (row.suggestion, row.candidate)
        state.partial_lengths[key] = max(
            state.partial_lengths.get(key, 0), int(data["accepted_length"])
        )
    elif kind == "suggestion.accepted":
        row.accepted, row.accepted_ts = True, event.ts
        row.accepted_text = data["text"]
        row.accepted_chars = len(data["text"])
        row.partial = bool(data.get("partial"))
    elif kind == "suggestion.ended":
        row.outcome = data["outcome"]
        row.end_reason = data.get("reason")
        row.source = data["source"]
        row.shown_ms = data.get("shown_ms")
    elif kind == "suggestion.persistence":
        row.persistence[int(data["checkpoint_s"])] = Checkpoint(
            unchanged=bool(data["unchanged"]),
            mostly_unchanged=bool(data["mostly_unchanged"]),
            distance=int(data["distance"]),
        )


def _offered(table: SuggestionTable, state: _SessionState, event: StoredEvent) -> None:
    data = event.data
    uri = data["uri"]
    language = state.languages.get(uri)
    state.offer_uri[data["suggestion"]] = uri
    candidates = data.get("candidates") or []
    order = data.get("shown_order") or [candidate["index"] for candidate in candidates]
    first = order[0] if order else None
    table.offers.append(
        Offer(
            session=state.session,
            contractor=state.contractor,
            suggestion=data["suggestion"],
            uri=uri,
            language=language,
            ts=event.ts,
            seq=event.seq,
            candidates=tuple(int(candidate["index"]) for candidate in candidates),
            shown_order=tuple(int(index) for index in order),
        )
    )
    for candidate in candidates:
        row = CandidateRow(
            session=state.session,
            contractor=state.contractor,
            suggestion=data["suggestion"],
            candidate=int(candidate["index"]),
            uri=uri,
            language=language,
            provider=candidate["provider"],
            model=candidate.get("model"),
            arm=candidate.get("arm"),
            trigger=data["trigger"],
            latency_ms=float(data["latency_ms"]),
            offered_ts=event.ts,
            offered_seq=event.seq,
            text=candidate["text"],
            shown_first=candidate["index"] == first,
            prefix=data.get("prefix"),
            suffix=data.get("suffix"),
        )
        state.rows[(row.suggestion, row.candidate)] = row
        table.rows.append(row)


def _count_activity(table: SuggestionTable, state: _SessionState, event: StoredEvent) -> None:
    data = event.data
    uri = data.get("uri")
    if uri is None and "suggestion" in data:
        uri = state.offer_uri.get(data["suggestion"])
    context = (state.session, uri)
    activity = table.activity.setdefault(context, Activity())
    table.context_language.setdefault(context, state.languages.get(uri) if uri else None)
    if state.last_activity_ts is not None and not state.paused_since_activity:
        gap = max(0, event.ts - state.last_activity_ts)
        activity.active_ms += min(gap, ACTIVE_GAP_CAP_MS)
    state.last_activity_ts = event.ts
    state.paused_since_activity = False
    if event.type == "doc.change":
        for change in data["changes"]:
            if "range" in change and change["range"] is not None:
                activity.inserted_chars += len(change["text"])
            else:
                activity.full_replacements += 1


def _finish_session(table: SuggestionTable, state: _SessionState) -> None:
    if not state.saw_shown and state.rows:
        table.sessions_without_shown.add(state.session)
    for (suggestion, candidate), row in state.rows.items():
        partial_length = state.partial_lengths.get((suggestion, candidate), 0)
        if not row.accepted and (row.outcome == "accepted" or partial_length > 0):
            # Accepted without a ``suggestion.accepted`` event: take what the partial
            # accepts say, else the whole candidate.
            row.accepted = True
            row.accepted_chars = partial_length or len(row.text)
            row.partial = 0 < partial_length < len(row.text)
        if row.accepted and not row.shown:
            row.shown, row.shown_basis = True, SHOWN_BY_ACCEPT
        if not state.saw_shown and not row.shown and (row.shown_first or (row.shown_ms or 0) > 0):
            row.shown, row.shown_basis = True, SHOWN_FALLBACK
    for rating in state.pending_ratings:
        rated = _rated_row(state, rating)
        if rated is None:
            continue
        # A later rating adds to an earlier one; a part given twice keeps the later value.
        rated.ratings += 1
        if rating.get("thumbs") is not None:
            rated.thumbs = rating["thumbs"]
        if rating.get("stars") is not None:
            rated.stars = int(rating["stars"])
        if rating.get("rubric"):
            rated.rubric.update({key: int(value) for key, value in rating["rubric"].items()})
        if rating.get("comment"):
            rated.comments.append(rating["comment"])


def _rated_row(state: _SessionState, rating: Mapping[str, Any]) -> CandidateRow | None:
    """The candidate a rating is about: named, else the only, accepted, or first shown one."""
    suggestion = rating["suggestion"]
    rows = sorted(
        (row for (name, _), row in state.rows.items() if name == suggestion),
        key=lambda row: row.candidate,
    )
    if not rows:
        return None
    if rating.get("candidate") is not None:
        return next((row for row in rows if row.candidate == rating["candidate"]), None)
    if len(rows) == 1:
        return rows[0]
    for chosen in ([row for row in rows if row.accepted], [row for row in rows if row.shown]):
        if chosen:
            return min(chosen, key=_shown_time)
    return rows[0]


def _shown_time(row: CandidateRow) -> tuple[bool, int]:
    return (row.shown_ts is None, row.shown_ts or 0)
