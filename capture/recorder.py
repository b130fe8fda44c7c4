"""The Recorder: fed LSP facts with the time they happened, drained for events.

Sans-I/O: no sockets, threads, files or clock. The language server calls one method per
editor fact with ``now_ms``, calls ``tick`` at ``next_deadline()``, and drains
``events_to_send()`` into the outbox. The rules it follows are written for researchers
in docs/capture.md.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from edittrace.capture.documents import (
    POSITION_ENCODINGS,
    AppliedChange,
    DocumentMirror,
    advance,
    sha256_of,
)
from edittrace.capture.persistence import AcceptedSpan, TrackedSpan, measure
from edittrace.capture.scope import Scope
from edittrace.capture.suggestions import (
    CandidateState,
    CaptureError,
    Edit,
    Offer,
    OfferedCandidate,
    Phase,
    Resolution,
    Verdict,
    candidate_data,
    judge,
    normalise_breaks,
    plan_candidate,
    position_dict,
    range_dict,
    shown_ms,
)
from edittrace.protocol import events as ev
from edittrace.protocol.events import Position
from edittrace.protocol.frames import Event

RECENT_SPANS_PER_DOCUMENT = 20
"""``accepted_spans`` lists at most this many per document ..."""
RECENT_SPANS_MS = 10 * 60 * 1000
"""... accepted within this long."""
RECENT_SUGGESTIONS = 1_000
"""Offers remembered whole; older ones only if accepted, rated or shown (docs/capture.md)."""
MAX_COMMENT_CHARS = 10_000
RUBRIC_KEYS = ("correctness", "efficiency", "maintainability", "security")
SOURCES = ("lsp", "inferred", "bridge")
_PERSON_SCHEMES = ("file:", "untitled:")


@dataclass(frozen=True)
class CaptureSettings:
    persistence_checkpoints_s: tuple[int, ...] = (30, 120, 300, 600)
    snapshot_every_changes: int = 200
    snapshot_every_ms: int = 60_000
    max_document_chars: int = 2_000_000
    context_chars: int = 2_000
    """Prefix and suffix kept in ``suggestion.offered``."""
    accept_grace_ms: int = 1_000
    """How long an inferred outcome waits for the editor's own word (the accept command)."""


@dataclass(slots=True)
class _Known:
    """What the session remembers of an offer."""

    candidates: list[OfferedCandidate]
    shown: set[int] = field(default_factory=set)
    """Candidates with a ``suggestion.shown`` sent."""
    keep: bool = False
    """Accepted or rated: kept whole for the session."""
    count: int = -1

    def __post_init__(self) -> None:
        if self.count < 0:
            self.count = len(self.candidates)


@dataclass
class _Document:
    mirror: DocumentMirror
    language_id: str
    changes_since_snapshot: int = 0
    last_snapshot_ms: int = 0
    changed_while_paused: bool = False
    spans: list[TrackedSpan] = field(default_factory=list)


class Recorder:
    """One recording session. Methods about editor facts never raise for unknown
    documents or suggestions (editors send odd orders); they are ignored."""

    def __init__(self, session: str, settings: CaptureSettings, scope: Scope) -> None:
        self.session = session
        self.settings = settings
        self.scope = scope
        self._queue: list[tuple[int, str, dict[str, Any]]] = []
        self._seq = 0
        self._started = False
        self._ended = False
        self._paused = False
        self._encoding = "utf-16"
        self._now = 0
        self._documents: dict[str, _Document] = {}
        self._recorded_open: set[str] = set()
        """Documents the record shows open (``doc.open`` sent, no ``doc.close`` yet)."""
        self._offers: dict[str, Offer] = {}
        """Offers with a candidate not yet ended."""
        self._recent: OrderedDict[str, _Known] = OrderedDict()
        """The latest offers, for ratings, comparisons and repeated ``shown`` notices."""
        self._kept: dict[str, _Known] = {}
        """Older offers worth keeping for the whole session: accepted, rated or shown."""
        self._closed_spans: list[tuple[TrackedSpan, str]] = []
        """Spans of closed documents with the text at close, waiting to be measured."""

    # --- session ------------------------------------------------------------------------

    @property
    def recording(self) -> bool:
        return self._started and not self._ended and not self._paused

    def start(
        self,
        now_ms: int,
        *,
        client: str,
        client_version: str,
        position_encoding: str,
        editor: str | None,
        editor_version: str | None,
        workspace_folders: Sequence[str],
        settings: Mapping[str, Any],
    ) -> None:
        if self._started:
            return
        if position_encoding not in POSITION_ENCODINGS:
            raise CaptureError(
                f"position encoding {position_encoding!r} is not supported; "
                f"use one of {', '.join(POSITION_ENCODINGS)}"
            )
        self._touch(now_ms)
        self._started = True
        self._encoding = position_encoding
        self._emit(
            now_ms,
            ev.SessionStart(
                client=client,
                client_version=client_version,
                position_encoding=position_encoding,
                editor=editor,
                editor_version=editor_version,
                workspace_folders=list(workspace_folders),
                settings=dict(settings),
            ),
        )

    def end(self, now_ms: int, reason: str) -> None:
        if not self._started or self._ended:
            return
        self._touch(now_ms)
        self._finish_all(now_ms, "session_end")
        self._emit(now_ms, ev.SessionEnd(reason=reason))
        self._ended = True

    def pause(self, now_ms: int, reason: str | None = None) -> None:
        if not self.recording:
            return
        self._touch(now_ms)
        self._finish_all(now_ms, "paused")
        self._emit(now_ms, ev.CapturePaused(reason=reason))
        self._paused = True
        for document in self._documents.values():
            document.changed_while_paused = False

    def resume(self, now_ms: int, reason: str | None = None) -> None:
        """Recording again; the record is brought up to date with what happened meanwhile."""
        if not self._started or self._ended or not self._paused:
            return
        self._touch(now_ms)
        self._paused = False
        self._emit(now_ms, ev.CaptureResumed(reason=reason))
        for uri in sorted(self._recorded_open - self._documents.keys()):
            self._emit(now_ms, ev.DocClose(uri=uri))
            self._recorded_open.discard(uri)
        for uri, document in self._documents.items():
            if uri not in self._recorded_open:
                self._emit_open(now_ms, uri, document)
            elif document.changed_while_paused:
                self._snapshot(now_ms, uri, document)
        self.tick(now_ms)

    # --- documents ----------------------------------------------------------------------

    def open_document(
        self, now_ms: int, uri: str, language_id: str, version: int, text: str
    ) -> None:
        if not self._started or self._ended:
            return
        self._touch(now_ms)
        if uri in self._documents:
            self.close_document(now_ms, uri)
        if not self.scope.allows(uri) or len(text) > self.settings.max_document_chars:
            return
        mirror = DocumentMirror(text, version=version, encoding=self._encoding)
        # Opened while paused: the record may still show an earlier text of it open, so the
        # resume sends a snapshot (or a doc.open if the record shows it closed).
        document = _Document(mirror, language_id, changed_while_paused=self._paused)
        self._documents[uri] = document
        if self.recording:
            self._emit_open(now_ms, uri, document)

    def change_document(
        self, now_ms: int, uri: str, version: int, changes: Sequence[Mapping[str, Any]]
    ) -> None:
        if not self._started or self._ended:
            return
        self._touch(now_ms)
        self._leave_other_documents(now_ms, uri)
        document = self._documents.get(uri)
        if document is None:
            return
        plain = [_plain_change(change) for change in changes]
        if self.recording:
            self._emit(now_ms, ev.DocChange(uri=uri, version=version, changes=plain))
        offers = [offer for offer in self._offers.values() if offer.uri == uri]
        document.mirror.version = version  # what an accept decided by these changes names
        for change in plain:
            self._apply(now_ms, document, offers, change)
        if document.mirror.length > self.settings.max_document_chars:
            self._forget_document(now_ms, uri)
            return
        if self.recording:
            document.changes_since_snapshot += 1
            if document.changes_since_snapshot >= self.settings.snapshot_every_changes:
                self._snapshot(now_ms, uri, document)
        else:
            document.changed_while_paused = True

    def save_document(self, now_ms: int, uri: str, version: int | None) -> None:
        self._touch(now_ms)
        if self.recording and uri in self._documents:
            self._emit(now_ms, ev.DocSave(uri=uri, version=version))

    def close_document(self, now_ms: int, uri: str) -> None:
        if not self._started or self._ended:
            return
        self._touch(now_ms)
        if uri in self._documents:
            self._forget_document(now_ms, uri)

    def document_text(self, uri: str) -> str | None:
        document = self._documents.get(uri)
        return document.mirror.text() if document else None

    # --- suggestions --------------------------------------------------------------------

    def offer(
        self,
        now_ms: int,
        *,
        suggestion: str,
        uri: str,
        version: int,
        position: Position,
        trigger: str,
        latency_ms: float,
        candidates: Sequence[OfferedCandidate],
        shown_order: Sequence[int],
    ) -> None:
        if not self.recording:
            return
        self._touch(now_ms)
        document = self._documents.get(uri)
        if document is None or self._find(suggestion) is not None:
            return
        self._leave_other_documents(now_ms, uri)
        for earlier in [offer for offer in self._offers.values() if offer.uri == uri]:
            for candidate in earlier.open_candidates():
                self._conclude(now_ms, earlier, candidate, "ignored", reason="superseded")
        mirror = document.mirror
        current = version == mirror.version
        point = mirror.to_point(position_dict(position))
        offer = Offer(suggestion=suggestion, uri=uri, offered_ms=now_ms)
        for index, offered in enumerate(candidates):
            offer.candidates.append(plan_candidate(index, offered, mirror, current=current))
        self._emit(
            now_ms,
            ev.SuggestionOffered(
                suggestion=suggestion,
                uri=uri,
                version=version,
                position=position_dict(position),
                trigger=cast(Any, trigger if trigger in ("automatic", "invoked") else "automatic"),
                latency_ms=float(latency_ms) if math.isfinite(latency_ms) else 0.0,
                candidates=[candidate_data(i, c) for i, c in enumerate(candidates)],
                prefix=mirror.text_before(point, self.settings.context_chars),
                suffix=mirror.text_after(point, self.settings.context_chars),
                shown_order=list(shown_order),
            ),
        )
        self._remember(suggestion, _Known(list(candidates)))
        if offer.candidates:
            self._offers[suggestion] = offer

    def shown(self, now_ms: int, suggestion: str, candidate: int, source: str) -> None:
        """The candidate is on screen (the bridge knows; LSP alone cannot tell)."""
        if not self.recording or not self._valid(suggestion, candidate):
            return
        self._touch(now_ms)
        state = self._live(suggestion, candidate)
        if state is not None and state[1].first_shown_ms is None:
            state[1].first_shown_ms = now_ms
        known = self._find(suggestion)
        if known is not None and candidate not in known.shown:
            known.shown.add(candidate)
            self._emit(
                now_ms,
                ev.SuggestionShown(
                    suggestion=suggestion, candidate=candidate, source=_source(source)
                ),
            )

    def partial_accept(
        self,
        now_ms: int,
        suggestion: str,
        candidate: int,
        kind: str,
        accepted_length: int,
        source: str,
    ) -> None:
        if not self.recording or not self._valid(suggestion, candidate):
            return
        self._touch(now_ms)
        state = self._live(suggestion, candidate)
        if state is not None:
            state[1].partial_length = max(state[1].partial_length, int(accepted_length))
        self._emit(
            now_ms,
            ev.SuggestionPartialAccept(
                suggestion=suggestion,
                candidate=candidate,
                kind=cast(Any, kind if kind in ("word", "line") else "other"),
                accepted_length=int(accepted_length),
                source=_source(source),
            ),
        )

    def accepted(self, now_ms: int, suggestion: str, candidate: int, source: str) -> None:
        """The editor's word that the candidate was accepted (the item's command)."""
        if not self.recording:
            return
        self._touch(now_ms)
        state = self._live(suggestion, candidate)
        if state is None:
            return
        offer, chosen = state
        resolution = chosen.resolution
        if chosen.phase is Phase.RESOLVING and resolution and resolution.outcome == "accepted":
            if resolution.awaiting_text:
                return  # a second report of the same accept (command and bridge)
            resolution.source = _source(source)
            resolution.at_ms = now_ms
            self._finish(offer, chosen)
            return
        chosen.phase = Phase.OPEN
        chosen.resolution = None
        span = self._locate(now_ms, offer, chosen, chosen.adds)
        if span is None and chosen.inferrable:
            # The editor may report the accept before the edit arrives: wait for the text
            # for the grace period, then record the accept with or without its place.
            self._resolve_accept(
                now_ms, offer, chosen, None, _source(source), final=False, awaiting_text=True
            )
            return
        self._resolve_accept(now_ms, offer, chosen, span, source=_source(source), final=True)

    def ended(
        self,
        now_ms: int,
        suggestion: str,
        candidate: int,
        outcome: str,
        source: str,
        *,
        reason: str | None = None,
        user_typing_disagreed: bool | None = None,
    ) -> None:
        """The end of a candidate's life as the editor (the bridge) reports it."""
        if not self.recording or outcome not in ("accepted", "rejected", "ignored"):
            return
        if outcome == "accepted":
            self.accepted(now_ms, suggestion, candidate, source)
            return
        self._touch(now_ms)
        state = self._live(suggestion, candidate)
        if state is None:
            return
        offer, chosen = state
        resolution = chosen.resolution
        if chosen.phase is Phase.RESOLVING and resolution and resolution.outcome == "accepted":
            self._finish(offer, chosen)  # the text went in; an accept stays an accept
            return
        # The editor's word replaces an inference still in its grace; what the editor does
        # not say (why a suggestion was ignored) is kept from the inference.
        inferred = resolution if chosen.phase is Phase.RESOLVING else None
        if inferred is not None and outcome == inferred.outcome:
            reason = reason or inferred.reason
            if user_typing_disagreed is None:
                user_typing_disagreed = inferred.user_typing_disagreed
        chosen.phase = Phase.OPEN
        chosen.resolution = None
        self._conclude(
            now_ms,
            offer,
            chosen,
            outcome,
            reason=reason or ("explicit" if outcome == "rejected" else None),
            source=_source(source),
            disagreed=user_typing_disagreed,
            final=True,
        )

    def suggestion_candidates(self, suggestion: str) -> list[OfferedCandidate] | None:
        known = self._find(suggestion)
        return list(known.candidates) if known is not None and known.candidates else None

    # --- feedback -----------------------------------------------------------------------

    def rate(
        self,
        now_ms: int,
        suggestion: str,
        *,
        source: str,
        candidate: int | None = None,
        thumbs: str | None = None,
        stars: int | None = None,
        rubric: Mapping[str, int] | None = None,
        comment: str | None = None,
    ) -> None:
        """Record a rating; raises ``CaptureError`` saying what is wrong with it."""
        self._check_feedback(suggestion, candidate, source)
        if thumbs is None and stars is None and not rubric and comment is None:
            raise CaptureError("a rating needs at least one of thumbs, stars, rubric or comment")
        if thumbs is not None and thumbs not in ("up", "down"):
            raise CaptureError(f"thumbs must be 'up' or 'down', not {thumbs!r}")
        if stars is not None and not _score(stars):
            raise CaptureError(f"stars must be a whole number from 1 to 5, not {stars!r}")
        if rubric is not None:
            if not isinstance(rubric, Mapping):
                raise CaptureError(f"rubric must be a map of {', '.join(RUBRIC_KEYS)} to 1..5")
            unknown = sorted(str(key) for key in rubric if key not in RUBRIC_KEYS)
            if unknown:
                raise CaptureError(
                    f"unknown rubric key(s) {', '.join(unknown)}; allowed: {', '.join(RUBRIC_KEYS)}"
                )
            for key, value in rubric.items():
                if not _score(value):
                    raise CaptureError(
                        f"rubric score for {key} must be a whole number from 1 to 5, not {value!r}"
                    )
        if comment is not None:
            if not isinstance(comment, str):
                raise CaptureError("comment must be text")
            if len(comment) > MAX_COMMENT_CHARS:
                raise CaptureError(
                    f"comment is {len(comment)} characters; at most {MAX_COMMENT_CHARS}"
                )
        self._touch(now_ms)
        self._emit(
            now_ms,
            ev.RatingSubmitted(
                suggestion=suggestion,
                source=_source(source),
                candidate=candidate,
                thumbs=cast(Any, thumbs),
                stars=stars,
                rubric=dict(rubric) if rubric else None,
                comment=comment,
            ),
        )

    def compare(
        self,
        now_ms: int,
        suggestion: str,
        *,
        choice: str,
        source: str,
        candidate: int | None = None,
        order: Sequence[int] | None = None,
        decision_ms: int | None = None,
    ) -> None:
        """Record a side-by-side choice; raises ``CaptureError`` for a bad one."""
        self._check_feedback(suggestion, candidate, source)
        if choice not in ("candidate", "tie", "both_bad"):
            raise CaptureError(f"choice must be 'candidate', 'tie' or 'both_bad', not {choice!r}")
        if choice == "candidate" and candidate is None:
            raise CaptureError("choice 'candidate' needs the index of the preferred candidate")
        count = self._count(suggestion)
        if order is not None and (
            len(set(order)) != len(order) or any(not _index(i, count) for i in order)
        ):
            raise CaptureError(
                f"order must list distinct candidate indexes from 0 to {count - 1}, not {order!r}"
            )
        if decision_ms is not None and (
            isinstance(decision_ms, bool) or not isinstance(decision_ms, int) or decision_ms < 0
        ):
            raise CaptureError(f"decision_ms must be a whole number >= 0, not {decision_ms!r}")
        self._touch(now_ms)
        self._emit(
            now_ms,
            ev.ComparisonChoice(
                suggestion=suggestion,
                choice=cast(Any, choice),
                source=_source(source),
                candidate=candidate,
                order=list(order) if order is not None else None,
                decision_ms=decision_ms,
            ),
        )

    def _check_feedback(self, suggestion: str, candidate: int | None, source: str) -> None:
        if not self._started or self._ended:
            raise CaptureError("not recording: the session has not started or has ended")
        known = self._find(suggestion)
        if known is None:
            raise CaptureError(
                f"unknown suggestion {suggestion!r}: it was not offered in this session, was "
                f"offered while recording was paused, or is older than the last "
                f"{RECENT_SUGGESTIONS} offers and was never shown or accepted"
            )
        known.keep = True
        if source not in SOURCES:
            raise CaptureError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        count = self._count(suggestion)
        if candidate is not None and (
            isinstance(candidate, bool)
            or not isinstance(candidate, int)
            or not 0 <= candidate < count
        ):
            raise CaptureError(
                f"candidate {candidate!r} does not exist; suggestion {suggestion} has "
                f"candidates 0 to {count - 1}"
            )

    # --- time ---------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        """When ``tick`` next has something to do, or None."""
        deadlines: list[int] = []
        grace = self.settings.accept_grace_ms
        for offer in self._offers.values():
            for candidate in offer.candidates:
                if candidate.phase is Phase.RESOLVING and candidate.resolution:
                    deadlines.append(candidate.resolution.at_ms + grace)
        if self.recording:
            for document in self._documents.values():
                if document.changes_since_snapshot:
                    deadlines.append(document.last_snapshot_ms + self.settings.snapshot_every_ms)
                deadlines.extend(
                    due for span in document.spans if (due := span.next_due_ms()) is not None
                )
        return min(deadlines) if deadlines else None

    def tick(self, now_ms: int) -> None:
        """Make due inferred outcomes final, take due snapshots and persistence checkpoints."""
        if not self._started or self._ended:
            return
        self._touch(now_ms)
        grace = self.settings.accept_grace_ms
        due = [
            (candidate.resolution.at_ms, offer, candidate)
            for offer in list(self._offers.values())
            for candidate in offer.candidates
            if candidate.phase is Phase.RESOLVING
            and candidate.resolution
            and candidate.resolution.at_ms + grace <= now_ms
        ]
        for _, offer, candidate in sorted(due, key=lambda item: item[0]):
            self._finish(offer, candidate)
        if not self.recording:
            return
        for uri, document in self._documents.items():
            if (
                document.changes_since_snapshot
                and document.last_snapshot_ms + self.settings.snapshot_every_ms <= now_ms
            ):
                self._snapshot(now_ms, uri, document)
        self._measure_closed(now_ms)
        checkpoints = [
            (when, span.suggestion, span.candidate, document, span)
            for document in self._documents.values()
            for span in document.spans
            for when in [span.next_due_ms()]
            if when is not None and when <= now_ms
        ]
        for _, _, _, document, span in sorted(checkpoints, key=lambda item: item[:3]):
            current = document.mirror.slice(span.start, span.end)
            while span.checkpoints_s and span.accepted_ms + span.checkpoints_s[0] * 1000 <= now_ms:
                self._emit_persistence(now_ms, span, current, span.checkpoints_s.pop(0))
        self._prune_spans()

    # --- reading ------------------------------------------------------------------------

    def events_to_send(self) -> list[Event]:
        """Everything recorded since the last call, with ``seq`` counting on from 1."""
        drained = []
        for ts, kind, data in self._queue:
            self._seq += 1
            drained.append(Event(seq=self._seq, type=kind, ts=ts, data=data))
        self._queue = []
        return drained

    def accepted_spans(self, uri: str) -> list[AcceptedSpan]:
        """Recently accepted suggestions in the document, where their text is now, newest first."""
        document = self._documents.get(uri)
        if document is None:
            return []
        recent = [
            span for span in document.spans if span.accepted_ms >= self._now - RECENT_SPANS_MS
        ]
        recent.sort(key=lambda span: span.accepted_ms, reverse=True)
        return [
            AcceptedSpan(
                suggestion=span.suggestion,
                candidate=span.candidate,
                range=document.mirror.to_range(span.start, span.end),
                accepted_ms=span.accepted_ms,
            )
            for span in recent[:RECENT_SPANS_PER_DOCUMENT]
        ]

    # --- inside: documents --------------------------------------------------------------

    def _apply(
        self, now_ms: int, document: _Document, offers: list[Offer], change: dict[str, Any]
    ) -> None:
        mirror = document.mirror
        partial_texts: dict[int, str] = {}
        for offer in offers:
            for candidate in offer.open_candidates():
                taken = candidate.partial_adds()
                if taken:
                    end = advance(candidate.insert_at, candidate.adds[:taken])
                    partial_texts[id(candidate)] = mirror.slice(candidate.insert_at, end)
        applied = mirror.apply(change)
        for tracked in document.spans:
            tracked.follow(applied)
        edit = Edit.of(applied)
        for offer in offers:
            for waiting in offer.candidates:
                resolution = waiting.resolution
                if (
                    resolution is not None
                    and resolution.awaiting_text
                    and waiting.phase is Phase.RESOLVING
                    and judge(waiting, edit) is Verdict.COMPLETE
                ):
                    resolution.span = self._new_span(
                        resolution.at_ms, offer, waiting, waiting.insert_at, waiting.cursor
                    )
                    resolution.awaiting_text = False
                    self._finish(offer, waiting)
            verdicts = [
                (candidate, judge(candidate, edit)) for candidate in offer.open_candidates()
            ]
            complete = [candidate for candidate, verdict in verdicts if verdict is Verdict.COMPLETE]
            if complete:
                # The first candidate whose text went in is accepted; the others of the
                # offer end as "other_accepted", whatever the edit said about them.
                chosen = complete[0]
                span = self._new_span(now_ms, offer, chosen, chosen.insert_at, chosen.cursor)
                self._resolve_accept(now_ms, offer, chosen, span, "inferred", final=False)
                continue
            for candidate, verdict in verdicts:
                if verdict is Verdict.DISAGREE:
                    self._conclude(
                        now_ms,
                        offer,
                        candidate,
                        "ignored",
                        reason="typed_other",
                        disagreed=True,
                        before=(applied, partial_texts.get(id(candidate))),
                    )

    def _forget_document(self, now_ms: int, uri: str) -> None:
        """The document is closed (or grew too large to follow): end what lives in it."""
        for offer in [offer for offer in self._offers.values() if offer.uri == uri]:
            for candidate in offer.open_candidates():
                self._conclude(now_ms, offer, candidate, "ignored", reason="closed", final=True)
            for candidate in offer.candidates:
                if candidate.phase is Phase.RESOLVING:
                    self._finish(offer, candidate)
        document = self._documents.pop(uri)
        for span in document.spans:
            if span.checkpoints_s:
                current = document.mirror.slice(span.start, span.end)
                self._closed_spans.append((span, current))
        if self.recording:
            self._measure_closed(now_ms)
            if uri in self._recorded_open:
                self._emit(now_ms, ev.DocClose(uri=uri))
                self._recorded_open.discard(uri)

    def _emit_open(self, now_ms: int, uri: str, document: _Document) -> None:
        mirror = document.mirror
        self._emit(
            now_ms,
            ev.DocOpen(
                uri=uri,
                language_id=document.language_id,
                version=mirror.version,
                text=mirror.text(),
            ),
        )
        self._recorded_open.add(uri)
        self._snapshot(now_ms, uri, document)

    def _snapshot(self, now_ms: int, uri: str, document: _Document) -> None:
        text = document.mirror.text()
        self._emit(
            now_ms,
            ev.DocSnapshot(
                uri=uri, version=document.mirror.version, text=text, sha256=sha256_of(text)
            ),
        )
        document.changes_since_snapshot = 0
        document.last_snapshot_ms = now_ms
        document.changed_while_paused = False

    # --- inside: suggestions ------------------------------------------------------------

    def _leave_other_documents(self, now_ms: int, uri: str) -> None:
        """The person is working in ``uri``: offers open elsewhere were left.

        Only documents a person edits count (``file:`` and ``untitled:``); an editor also
        syncs output panels and the like, which change by themselves.
        """
        if not self._offers or not (uri in self._documents or uri.startswith(_PERSON_SCHEMES)):
            return
        for offer in [offer for offer in self._offers.values() if offer.uri != uri]:
            for candidate in offer.open_candidates():
                self._conclude(now_ms, offer, candidate, "ignored", reason="left_document")

    def _conclude(
        self,
        now_ms: int,
        offer: Offer,
        candidate: CandidateState,
        outcome: str,
        *,
        reason: str | None,
        source: str = "inferred",
        disagreed: bool | None = None,
        final: bool = False,
        before: tuple[AppliedChange, str | None] | None = None,
    ) -> None:
        """End an open candidate that was not accepted whole.

        If partial accepts took part of it, that part counts as accepted (``partial``).
        ``before`` is set when the ending edit was already applied to the mirror: that
        edit, and the partially accepted text as it was before it.
        """
        if candidate.phase is not Phase.OPEN:
            return  # already decided, e.g. "other_accepted" by a sibling's partial accept
        taken = candidate.partial_adds()
        if taken:
            start = candidate.insert_at
            span: TrackedSpan | None
            applied, text = before if before is not None else (None, None)
            if applied is not None and text is not None:
                span = self._new_span(
                    now_ms, offer, candidate, start, advance(start, text), text=text
                )
                if span is not None:
                    span.follow(applied)
            else:
                span = self._locate(now_ms, offer, candidate, candidate.adds[:taken])
            self._resolve_accept(now_ms, offer, candidate, span, source, final, partial=True)
            return
        candidate.phase = Phase.RESOLVING
        candidate.resolution = Resolution(
            outcome=outcome,
            source=source,
            at_ms=now_ms,
            reason=reason,
            user_typing_disagreed=disagreed,
        )
        if final:
            self._finish(offer, candidate)

    def _resolve_accept(
        self,
        now_ms: int,
        offer: Offer,
        candidate: CandidateState,
        span: TrackedSpan | None,
        source: str,
        final: bool,
        partial: bool = False,
        awaiting_text: bool = False,
    ) -> None:
        candidate.phase = Phase.RESOLVING
        candidate.resolution = Resolution(
            outcome="accepted",
            source=source,
            at_ms=now_ms,
            span=span,
            partial=partial,
            awaiting_text=awaiting_text,
        )
        for other in offer.open_candidates():
            self._conclude(now_ms, offer, other, "ignored", reason="other_accepted", final=final)
        if final:
            self._finish(offer, candidate)

    def _finish(self, offer: Offer, candidate: CandidateState) -> None:
        """Emit the candidate's final outcome."""
        resolution = candidate.resolution
        if resolution is None or candidate.phase is Phase.ENDED:
            return
        candidate.phase = Phase.ENDED
        at = resolution.at_ms
        source = _source(resolution.source)
        if resolution.outcome == "accepted":
            known = self._find(offer.suggestion)
            if known is not None:
                known.keep = True
            span = resolution.span
            document = self._documents.get(offer.uri)
            where = None
            if span and document and any(span is mine for mine in document.spans):
                where = document.mirror.to_range(span.start, span.end)
            text = span.accepted_text if span else candidate.adds
            self._emit(
                at,
                ev.SuggestionAccepted(
                    suggestion=offer.suggestion,
                    candidate=candidate.index,
                    source=source,
                    uri=offer.uri,
                    text=text,
                    range=where,
                    version=document.mirror.version if where and document else None,
                    partial=True if resolution.partial else None,
                ),
            )
        self._emit(
            at,
            ev.SuggestionEnded(
                suggestion=offer.suggestion,
                candidate=candidate.index,
                outcome=cast(Any, resolution.outcome),
                source=source,
                reason="partial" if resolution.partial else resolution.reason,
                shown_ms=shown_ms(candidate, at),
                user_typing_disagreed=resolution.user_typing_disagreed,
            ),
        )
        if offer.finished():
            self._offers.pop(offer.suggestion, None)

    def _finish_all(self, now_ms: int, reason: str) -> None:
        for offer in list(self._offers.values()):
            for candidate in offer.open_candidates():
                self._conclude(now_ms, offer, candidate, "ignored", reason=reason, final=True)
            for candidate in offer.candidates:
                if candidate.phase is Phase.RESOLVING:
                    self._finish(offer, candidate)

    def _new_span(
        self,
        now_ms: int,
        offer: Offer,
        candidate: CandidateState,
        start: tuple[int, int],
        end: tuple[int, int],
        text: str | None = None,
    ) -> TrackedSpan | None:
        document = self._documents.get(offer.uri)
        if document is None:
            return None
        span = TrackedSpan(
            suggestion=offer.suggestion,
            candidate=candidate.index,
            uri=offer.uri,
            accepted_text=document.mirror.slice(start, end) if text is None else text,
            start=start,
            end=end,
            accepted_ms=now_ms,
            checkpoints_s=sorted(set(self.settings.persistence_checkpoints_s)),
        )
        document.spans.append(span)
        return span

    def _locate(
        self, now_ms: int, offer: Offer, candidate: CandidateState, text: str
    ) -> TrackedSpan | None:
        """Find accepted text we did not see going in (the editor inserted it differently)."""
        document = self._documents.get(offer.uri)
        if document is None or not text:
            return None
        mirror = document.mirror
        expected_end = advance(candidate.insert_at, text)
        if normalise_breaks(mirror.slice(candidate.insert_at, expected_end)) == text:
            return self._new_span(now_ms, offer, candidate, candidate.insert_at, expected_end)
        for variant in dict.fromkeys((text, text.replace("\n", "\r\n"))):
            found = mirror.find_near(variant, candidate.insert_at)
            if found is not None:
                end = advance(found, variant)
                return self._new_span(now_ms, offer, candidate, found, end)
        return None

    def _live(self, suggestion: str, index: int) -> tuple[Offer, CandidateState] | None:
        offer = self._offers.get(suggestion)
        if offer is None or not isinstance(index, int) or not 0 <= index < len(offer.candidates):
            return None
        candidate = offer.candidates[index]
        if candidate.phase is Phase.ENDED:
            return None
        return offer, candidate

    def _valid(self, suggestion: str, index: int) -> bool:
        known = self._find(suggestion)
        return known is not None and isinstance(index, int) and 0 <= index < known.count

    def _find(self, suggestion: str) -> _Known | None:
        return self._recent.get(suggestion) or self._kept.get(suggestion)

    def _count(self, suggestion: str) -> int:
        known = self._find(suggestion)
        return known.count if known is not None else 0

    def _remember(self, suggestion: str, known: _Known) -> None:
        """Keep the latest offers whole; of older ones only what a rating may still need."""
        self._recent[suggestion] = known
        while len(self._recent) > RECENT_SUGGESTIONS:
            old_id, old = self._recent.popitem(last=False)
            if old.keep:
                self._kept[old_id] = old
            elif old.shown:
                self._kept[old_id] = _Known([], shown=old.shown, count=old.count)

    # --- inside: persistence ------------------------------------------------------------

    def _measure_closed(self, now_ms: int) -> None:
        """Closed documents: every remaining checkpoint, at once, from the text at close."""
        for span, text in self._closed_spans:
            for checkpoint in span.checkpoints_s:
                self._emit_persistence(now_ms, span, text, checkpoint, closed=True)
        self._closed_spans = []

    def _emit_persistence(
        self, ts: int, span: TrackedSpan, current: str, checkpoint: int, *, closed: bool = False
    ) -> None:
        figures = measure(span.accepted_text, current)
        self._emit(
            ts,
            ev.SuggestionPersistence(
                suggestion=span.suggestion,
                candidate=span.candidate,
                checkpoint_s=checkpoint,
                unchanged=figures.unchanged,
                mostly_unchanged=figures.mostly_unchanged,
                distance=figures.distance,
                accepted_length=figures.accepted_length,
                current_text=current,
                document_closed=True if closed else None,
            ),
        )

    def _prune_spans(self) -> None:
        for document in self._documents.values():
            if len(document.spans) <= RECENT_SPANS_PER_DOCUMENT and all(
                span.checkpoints_s or span.accepted_ms >= self._now - RECENT_SPANS_MS
                for span in document.spans
            ):
                continue
            newest = sorted(document.spans, key=lambda span: span.accepted_ms, reverse=True)
            keep = {id(span) for span in newest[:RECENT_SPANS_PER_DOCUMENT]}
            document.spans = [
                span
                for span in document.spans
                if span.checkpoints_s
                or (id(span) in keep and span.accepted_ms >= self._now - RECENT_SPANS_MS)
            ]

    # --- inside: output -----------------------------------------------------------------

    def _emit(self, ts: int, data: ev.EventData) -> None:
        self._queue.append((ts, data.TYPE, data.to_data()))

    def _touch(self, now_ms: int) -> None:
        self._now = max(self._now, now_ms)


def _plain_change(change: Any) -> dict[str, Any]:
    """A change as plain maps: editors' objects may be read-only (lsprotocol's change
    classes, pygls' namedtuples) or carry keys we do not record (``rangeLength``)."""
    if type(change) is dict or isinstance(change, Mapping):
        text, change_range = change.get("text", ""), change.get("range")
    else:
        text, change_range = getattr(change, "text", ""), getattr(change, "range", None)
    if change_range is None:
        return {"text": str(text)}
    return {"range": range_dict(change_range), "text": str(text)}


def _source(source: str) -> Any:
    return source if source in SOURCES else "inferred"


def _index(value: Any, count: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < count


def _score(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
