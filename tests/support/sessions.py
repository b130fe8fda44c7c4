"""Build realistic sessions' events with the protocol dataclasses, for researchers' tests.

A ``SessionBuilder`` plays a person at an editor: open a document, type char by char,
paste, get suggestions offered and shown, accept or reject them, edit what was accepted,
rate and compare. It keeps its own copy of every document, so it knows the exact text
(and sha256 of each ``doc.snapshot``) a correct replay must reproduce, and it emits the
events the capture core would: LSP positions in the session's position encoding, ``seq``
from 1, ``ts`` advancing by ``step_ms`` per event unless told otherwise.

Offsets in this API are Python string indexes (code points) into the builder's text;
the builder converts them to LSP positions itself (independently of the replay code,
so a bug on either side shows up as a difference).

    b = SessionBuilder("s-1")
    b.open("file:///w/a.py", "")
    b.type("file:///w/a.py", "def f(")
    s = b.offer("file:///w/a.py", ["x):\\n    return x\\n"], model="m1")
    b.show(s)
    b.accept(s)
    b.store(db_path, contractor="alice")
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from edittrace.protocol import Event, EventData
from edittrace.protocol.events import (
    Candidate,
    CapturePaused,
    CaptureResumed,
    ComparisonChoice,
    DocChange,
    DocClose,
    DocOpen,
    DocSave,
    DocSnapshot,
    RatingSubmitted,
    SessionEnd,
    SessionStart,
    SuggestionAccepted,
    SuggestionEnded,
    SuggestionOffered,
    SuggestionPartialAccept,
    SuggestionPersistence,
    SuggestionShown,
)


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in LSP ``character`` units of ``encoding``."""
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


def position_of(text: str, offset: int, encoding: str) -> dict[str, int]:
    """The LSP position of code point ``offset`` in ``text``."""
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": units(text[line_start:offset], encoding)}


def range_of(text: str, start: int, end: int, encoding: str) -> dict[str, dict[str, int]]:
    return {"start": position_of(text, start, encoding), "end": position_of(text, end, encoding)}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


@dataclass
class _Doc:
    text: str
    version: int
    language_id: str
    cursor: int
    changes_since_snapshot: int = 0
    changed_while_paused: bool = False


@dataclass
class _Offer:
    uri: str
    start: int
    """Where each candidate's range starts (code point offset, tracked through edits)."""
    end: int
    texts: list[str]
    offered_ms: int
    shown_ms: dict[int, int]
    ended: set[int]


@dataclass
class AcceptedSpan:
    """Where an accepted candidate's text sits now, tracked through later edits."""

    suggestion: str
    candidate: int
    uri: str
    text: str
    start: int
    end: int


class SessionBuilder:
    """Events of one recorded session, built step by step (see the module docstring)."""

    def __init__(
        self,
        session: str = "session-1",
        *,
        start_ms: int = 1_767_225_600_000,
        position_encoding: str = "utf-16",
        step_ms: int = 120,
        snapshot_every: int | None = None,
        editor: str = "Visual Studio Code",
        keep_history: bool = False,
    ) -> None:
        self.session = session
        self.encoding: str = position_encoding
        self.now_ms = start_ms
        self.step_ms = step_ms
        self.snapshot_every = snapshot_every
        self.events: list[Event] = []
        self.docs: dict[str, _Doc] = {}
        self.offers: dict[str, _Offer] = {}
        self.spans: list[AcceptedSpan] = []
        self.recording = True
        self._next_suggestion = 1
        self.history: list[dict[str, str]] | None = [] if keep_history else None
        """With ``keep_history``: every open document's text after each event (index seq - 1)."""
        self.emit(
            SessionStart(
                client="edittrace-lsp",
                client_version="0.1.0",
                position_encoding=position_encoding,
                editor=editor,
                editor_version="1.139.1",
                workspace_folders=["file:///w"],
                settings={"snapshotEveryChanges": snapshot_every or 200},
            )
        )

    # --- clock and output ---------------------------------------------------------------

    def wait(self, ms: int) -> None:
        """Let ``ms`` pass before the next event."""
        self.now_ms += ms

    def emit(self, data: EventData) -> Event:
        """Append one event (``seq`` next, ``ts`` now) and advance the clock by ``step_ms``."""
        event = Event(seq=len(self.events) + 1, type=data.TYPE, ts=self.now_ms, data=data.to_data())
        self.events.append(event)
        self.now_ms += self.step_ms
        if self.history is not None:
            self.history.append({uri: doc.text for uri, doc in self.docs.items()})
        return event

    @property
    def last_seq(self) -> int:
        return len(self.events)

    def text(self, uri: str) -> str:
        return self.docs[uri].text

    def store(self, db_path: str | Path, contractor: str = "alice", batch_size: int = 500) -> None:
        """Write every event into a real collector database through ``Store.store_batch``."""
        from edittrace.collector.storage import Store

        store = Store.open(db_path)
        try:
            for first in range(0, len(self.events), batch_size):
                batch = self.events[first : first + batch_size]
                store.store_batch(
                    contractor,
                    self.session,
                    batch,
                    received_ms=batch[-1].ts + 50,
                    client_name="edittrace-lsp",
                    client_version="0.1.0",
                )
        finally:
            store.close()

    # --- documents ----------------------------------------------------------------------

    def open(self, uri: str, text: str = "", language_id: str = "python") -> None:
        self.docs[uri] = _Doc(text=text, version=1, language_id=language_id, cursor=len(text))
        if self.recording:
            self.emit(DocOpen(uri=uri, language_id=language_id, version=1, text=text))

    def replace(self, uri: str, start: int, end: int, text: str) -> None:
        """One ``doc.change`` replacing code points ``start..end`` with ``text``."""
        doc = self.docs[uri]
        change = {"range": range_of(doc.text, start, end, self.encoding), "text": text}
        doc.text = doc.text[:start] + text + doc.text[end:]
        doc.version += 1
        doc.cursor = start + len(text)
        self._shift(uri, start, end, len(text))
        if not self.recording:
            doc.changed_while_paused = True
            return
        self.emit(DocChange(uri=uri, version=doc.version, changes=[change]))
        doc.changes_since_snapshot += 1
        if self.snapshot_every and doc.changes_since_snapshot >= self.snapshot_every:
            self.snapshot(uri)

    def replace_all(self, uri: str, text: str) -> None:
        """One ``doc.change`` carrying the full text (no range), as some editors send."""
        doc = self.docs[uri]
        doc.text = text
        doc.version += 1
        doc.cursor = len(text)
        self.spans = [span for span in self.spans if span.uri != uri]
        if self.recording:
            self.emit(DocChange(uri=uri, version=doc.version, changes=[{"text": text}]))

    def insert(self, uri: str, text: str, at: int | None = None) -> None:
        """Insert ``text`` in one change at ``at`` (default: the cursor): a paste when long."""
        offset = self.docs[uri].cursor if at is None else at
        self.replace(uri, offset, offset, text)

    paste = insert

    def type(self, uri: str, text: str, at: int | None = None, step_ms: int | None = None) -> None:
        """Type ``text`` one character per change, from ``at`` (default: the cursor)."""
        if at is not None:
            self.docs[uri].cursor = at
        for char in text:
            self.insert(uri, char)
            if step_ms is not None:
                self.now_ms += step_ms - self.step_ms

    def delete(self, uri: str, start: int, end: int) -> None:
        self.replace(uri, start, end, "")

    def backspace(self, uri: str, count: int = 1) -> None:
        for _ in range(count):
            cursor = self.docs[uri].cursor
            self.replace(uri, cursor - 1, cursor, "")

    def move(self, uri: str, offset: int) -> None:
        """Put the cursor at ``offset`` (no event: the replay only knows edit positions)."""
        self.docs[uri].cursor = offset

    def save(self, uri: str) -> None:
        self.emit(DocSave(uri=uri, version=self.docs[uri].version))

    def close(self, uri: str) -> None:
        del self.docs[uri]
        self.emit(DocClose(uri=uri))

    def snapshot(self, uri: str, *, sha256: str | None = None, text: str | None = None) -> None:
        """A ``doc.snapshot``; pass ``sha256`` or ``text`` to forge a corrupt one."""
        doc = self.docs[uri]
        body = doc.text if text is None else text
        self.emit(
            DocSnapshot(uri=uri, version=doc.version, text=body, sha256=sha256 or sha256_text(body))
        )
        doc.changes_since_snapshot = 0

    def _shift(self, uri: str, start: int, end: int, inserted: int) -> None:
        """Move tracked offer ranges and accepted spans past an edit."""
        delta = inserted - (end - start)

        def moved(offset: int, *, is_end: bool) -> int:
            if offset > end or (offset == end and (is_end or start != end)):
                return offset + delta
            if offset > start:
                return start + inserted if is_end else start
            return offset

        for offer in self.offers.values():
            if offer.uri == uri and len(offer.ended) < len(offer.texts):
                offer.start = moved(offer.start, is_end=False)
                offer.end = max(offer.start, moved(offer.end, is_end=True))
        for span in self.spans:
            if span.uri == uri:
                span.start = moved(span.start, is_end=False)
                span.end = max(span.start, moved(span.end, is_end=True))

    # --- capture -----------------------------------------------------------------------

    def pause(self, reason: str = "contractor") -> None:
        for suggestion, offer in self.offers.items():
            for candidate in range(len(offer.texts)):
                if candidate not in offer.ended:
                    self._end(suggestion, candidate, "ignored", reason="paused")
        self.emit(CapturePaused(reason=reason))
        self.recording = False

    def resume(self, reason: str = "contractor") -> None:
        """Resume; documents changed while paused are re-sent as ``doc.snapshot``."""
        self.recording = True
        self.emit(CaptureResumed(reason=reason))
        for uri, doc in self.docs.items():
            if doc.changed_while_paused:
                doc.changed_while_paused = False
                self.snapshot(uri)

    def end(self, reason: str = "shutdown") -> None:
        self.emit(SessionEnd(reason=reason))

    # --- suggestions --------------------------------------------------------------------

    def offer(
        self,
        uri: str,
        texts: Sequence[str] | str,
        *,
        replace_from: int | None = None,
        model: str | None = "model-a",
        models: Sequence[str | None] | None = None,
        arms: Sequence[str] | None = None,
        provider: str = "fake",
        trigger: Literal["automatic", "invoked"] = "automatic",
        latency_ms: float = 42.0,
        suggestion: str | None = None,
    ) -> str:
        """Offer candidates at the cursor; each replaces ``replace_from..cursor`` (default empty).

        Returns the suggestion id.
        """
        if isinstance(texts, str):
            texts = [texts]
        doc = self.docs[uri]
        cursor = doc.cursor
        start = cursor if replace_from is None else replace_from
        if suggestion is None:
            suggestion = f"{self.session}-sugg-{self._next_suggestion}"
            self._next_suggestion += 1
        candidates = [
            Candidate(
                index=index,
                text=text,
                range=range_of(doc.text, start, cursor, self.encoding),
                provider=provider,
                model=models[index] if models is not None else model,
                arm=arms[index] if arms is not None else None,
            ).to_data()
            for index, text in enumerate(texts)
        ]
        self.emit(
            SuggestionOffered(
                suggestion=suggestion,
                uri=uri,
                version=doc.version,
                position=position_of(doc.text, cursor, self.encoding),
                trigger=trigger,
                latency_ms=latency_ms,
                candidates=candidates,
                prefix=doc.text[max(0, cursor - 2000) : cursor],
                suffix=doc.text[cursor : cursor + 2000],
                shown_order=list(range(len(texts))),
            )
        )
        self.offers[suggestion] = _Offer(
            uri, start, cursor, list(texts), self.now_ms, shown_ms={}, ended=set()
        )
        return suggestion

    def show(self, suggestion: str, candidate: int = 0) -> None:
        self.offers[suggestion].shown_ms[candidate] = self.now_ms
        self.emit(SuggestionShown(suggestion=suggestion, candidate=candidate, source="lsp"))

    def _end(
        self,
        suggestion: str,
        candidate: int,
        outcome: Literal["accepted", "rejected", "ignored"],
        *,
        reason: str | None = None,
    ) -> None:
        offer = self.offers[suggestion]
        shown_at = offer.shown_ms.get(candidate)
        offer.ended.add(candidate)
        self.emit(
            SuggestionEnded(
                suggestion=suggestion,
                candidate=candidate,
                outcome=outcome,
                source="lsp",
                reason=reason,
                shown_ms=None if shown_at is None else self.now_ms - shown_at,
            )
        )

    def _end_others(self, suggestion: str, candidate: int) -> None:
        for other in range(len(self.offers[suggestion].texts)):
            if other != candidate and other not in self.offers[suggestion].ended:
                self._end(suggestion, other, "ignored", reason="superseded")

    def accept(self, suggestion: str, candidate: int = 0) -> AcceptedSpan:
        """Tab: the candidate's text replaces its range (one change), then accepted + ended."""
        offer = self.offers[suggestion]
        text = offer.texts[candidate]
        self.replace(offer.uri, offer.start, offer.end, text)
        start = self.docs[offer.uri].cursor - len(text)
        return self._accepted(suggestion, candidate, text, start, partial=None)

    def partial_accept(
        self, suggestion: str, candidate: int, length: int, kind: Literal["word", "line"] = "word"
    ) -> None:
        """Ctrl+Right: insert the next part of the candidate, up to ``length`` characters."""
        offer = self.offers[suggestion]
        done = offer.end - offer.start if offer.start != offer.end else 0
        part = offer.texts[candidate][done:length]
        self.replace(offer.uri, offer.end, offer.end, part)
        offer.end = self.docs[offer.uri].cursor
        self.emit(
            SuggestionPartialAccept(
                suggestion=suggestion,
                candidate=candidate,
                kind=kind,
                accepted_length=length,
                source="lsp",
            )
        )

    def finish_partial(self, suggestion: str, candidate: int) -> AcceptedSpan:
        """The person moved on after partial accepts: accepted (partial) + ended."""
        offer = self.offers[suggestion]
        text = self.docs[offer.uri].text[offer.start : offer.end]
        return self._accepted(suggestion, candidate, text, offer.start, partial=True)

    def _accepted(
        self, suggestion: str, candidate: int, text: str, start: int, *, partial: bool | None
    ) -> AcceptedSpan:
        offer = self.offers[suggestion]
        doc = self.docs[offer.uri]
        self.emit(
            SuggestionAccepted(
                suggestion=suggestion,
                candidate=candidate,
                source="lsp",
                uri=offer.uri,
                text=text,
                range=range_of(doc.text, start, start + len(text), self.encoding),
                version=doc.version,
                partial=partial,
            )
        )
        self._end(suggestion, candidate, "accepted")
        self._end_others(suggestion, candidate)
        span = AcceptedSpan(suggestion, candidate, offer.uri, text, start, start + len(text))
        self.spans.append(span)
        return span

    def reject(self, suggestion: str, candidate: int | None = None) -> None:
        """Escape: every candidate (or just ``candidate``) ends rejected."""
        for index in range(len(self.offers[suggestion].texts)):
            if (candidate is None or index == candidate) and index not in self.offers[
                suggestion
            ].ended:
                self._end(suggestion, index, "rejected", reason="explicit")

    def ignore(self, suggestion: str, reason: str = "typed_other") -> None:
        for index in range(len(self.offers[suggestion].texts)):
            if index not in self.offers[suggestion].ended:
                self._end(suggestion, index, "ignored", reason=reason)

    def persistence(self, span: AcceptedSpan, checkpoint_s: int) -> None:
        """The capture core's checkpoint for an accepted span, computed from the builder's text."""
        current = self.docs[span.uri].text[span.start : span.end]
        distance = levenshtein(span.text, current)
        longest = max(len(span.text), len(current), 1)
        self.emit(
            SuggestionPersistence(
                suggestion=span.suggestion,
                candidate=span.candidate,
                checkpoint_s=checkpoint_s,
                unchanged=distance == 0,
                mostly_unchanged=distance / longest < 0.33,
                distance=distance,
                accepted_length=len(span.text),
                current_text=current,
            )
        )

    def rate(self, suggestion: str, candidate: int | None = 0, **parts: Any) -> None:
        """``thumbs="up"``, ``stars=4``, ``rubric={...}``, ``comment="..."``."""
        self.emit(
            RatingSubmitted(suggestion=suggestion, source="bridge", candidate=candidate, **parts)
        )

    def compare(
        self,
        suggestion: str,
        choice: Literal["candidate", "tie", "both_bad"] = "candidate",
        candidate: int | None = 0,
        order: Sequence[int] | None = None,
        decision_ms: int = 2500,
    ) -> None:
        self.emit(
            ComparisonChoice(
                suggestion=suggestion,
                choice=choice,
                source="bridge",
                candidate=candidate if choice == "candidate" else None,
                order=list(order)
                if order is not None
                else list(range(len(self.offers[suggestion].texts))),
                decision_ms=decision_ms,
            )
        )


def realistic_session(session: str = "session-1", **options: Any) -> SessionBuilder:
    """A short session with every kind of event, used by the docs' examples and many tests.

    Document ``file:///w/app.py`` ends as ``EXPECTED_APP_TEXT``; the first suggestion is
    accepted then edited, the second rejected, the third ignored, and there is a paste,
    a rating, a comparison, a pause with an edit while paused, and snapshots.
    """
    b = SessionBuilder(session, **options)
    app = "file:///w/app.py"
    b.open(app, "import os\n")
    b.type(app, "def greet(name):\n    ")
    first = b.offer(app, ['return "Hello, " + name\n'], model="model-a")
    b.show(first)
    b.wait(900)
    span = b.accept(first)
    b.rate(first, 0, thumbs="up", stars=4)
    b.snapshot(app)
    # Edit the accepted text: "Hello" -> "Hi", typed.
    hello = b.text(app).index("Hello")
    b.delete(app, hello, hello + len("Hello"))
    b.type(app, "Hi")
    b.persistence(span, 30)
    b.move(app, len(b.text(app)))
    b.type(app, "\n")
    second = b.offer(
        app,
        ["def bye():\n    pass\n", "def bye():\n    return None\n"],
        models=["model-a", "model-b"],
        arms=["a", "b"],
    )
    b.show(second, 0)
    b.wait(1500)
    b.reject(second)
    b.compare(second, "candidate", candidate=1, order=[1, 0])
    b.paste(app, "PI = 3.14159\n")
    third = b.offer(app, ["print(PI)\n"], model="model-b")
    b.show(third)
    b.type(app, "x = 1\n")
    b.ignore(third)
    b.snapshot(app)
    b.pause()
    b.insert(app, "# written while paused\n")
    b.resume()
    b.type(app, "y")
    b.save(app)
    b.end()
    return b


EXPECTED_APP_TEXT = (
    "import os\n"
    "def greet(name):\n"
    '    return "Hi, " + name\n'
    "\n"
    "PI = 3.14159\n"
    "x = 1\n"
    "# written while paused\n"
    "y"
)
