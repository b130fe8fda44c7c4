"""Hold-back masking: decide, when events leave the outbox, which characters are secret.

A secret typed one key at a time is no secret in any single ``doc.change``: ``A``, ``K``,
``I``... Events therefore wait in the outbox, and ``release_session`` replays every event
not yet released (the due ones and those still held back) over a raw mirror of each
document in which every character carries an identity. After every edit the text around
it is scanned, and so is each document's newest text at the end; a character that was
ever part of a detected secret, at any moment of the replay, is masked wherever it is
released. So a finished key masks its earlier keystrokes, a pasted-then-deleted key is
masked in the paste, and a half-deleted key stays masked in the keystrokes that typed it.

Masking keeps lengths in every position encoding (``mask_char``), so every later range
still holds, and each document's masked mirror (what the collector has seen) is carried
from release to release, so ``doc.snapshot`` text and sha256 equal what a replayer of the
released stream computes. Pure: no I/O; the outbox persists ``SessionState``.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from edittrace.capture.secrets import find_secrets, merge_spans
from edittrace.protocol.frames import Event

_MASK_BY_UTF8_LENGTH = {1: "*", 2: "\u00b7", 3: "\u2022", 4: "\U0001f512"}
"""Stand-ins with the same UTF-8 length, hence also the same UTF-16 and UTF-32 length."""

WINDOW_CHARS = 1_000
"""How far either side of an edit the scan after that edit reaches (within its lines)."""
PEM_REACH_CHARS = 20_000
"""How far back from an edit a private key header widens that scan."""
FRAGMENT_CHARS = 8
"""Known secrets are also masked by any fragment of this many characters (or the whole)."""
MIN_KNOWN_SECRET = 6
"""Shorter detections are not remembered for exact matching (too many false matches)."""

# Keys whose string values are identifiers or vocabulary, never user text.
_STRUCTURAL_KEYS = frozenset(
    {
        "uri",
        "suggestion",
        "sha256",
        "language_id",
        "source",
        "outcome",
        "kind",
        "reason",
        "trigger",
        "choice",
        "thumbs",
        "position_encoding",
        "client",
        "client_version",
        "editor",
        "editor_version",
        "provider",
        "model",
        "arm",
        "workspace_folders",
    }
)


def mask_char(char: str) -> str:
    """A stand-in for ``char`` of equal length in UTF-8, UTF-16 and UTF-32; newlines stay."""
    if char in "\r\n":
        return char
    return _MASK_BY_UTF8_LENGTH[len(char.encode("utf-8", "surrogatepass"))]


def mask_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the characters inside ``spans`` replaced by same-length stand-ins."""
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end in merge_spans(spans):
        parts.append(text[position:start])
        parts.append("".join(mask_char(c) for c in text[start:end]))
        position = end
    parts.append(text[position:])
    return "".join(parts)


def mask_content(text: str, known_secrets: Sequence[str] | frozenset[str] = ()) -> str:
    """Mask what detection finds in ``text`` alone, plus any known secret or fragment of one."""
    spans = [(f.start, f.end) for f in find_secrets(text)]
    spans.extend(_known_secret_spans(text, known_secrets))
    return mask_spans(text, spans)


def _known_secret_spans(
    text: str, known_secrets: Sequence[str] | frozenset[str]
) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    fragments: set[str] = set()
    for secret in known_secrets:
        start = text.find(secret)
        while start >= 0:
            spans.append((start, start + len(secret)))
            start = text.find(secret, start + 1)
        for i in range(len(secret) - FRAGMENT_CHARS + 1):
            fragments.add(secret[i : i + FRAGMENT_CHARS])
    if fragments and len(text) >= FRAGMENT_CHARS:
        for i in range(len(text) - FRAGMENT_CHARS + 1):
            if text[i : i + FRAGMENT_CHARS] in fragments:
                spans.append((i, i + FRAGMENT_CHARS))
    return spans


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- positions -------------------------------------------------------------------------------


def offset_of(text: str, position: Mapping[str, Any], encoding: str) -> int:
    """The index in ``text`` of an LSP position counted in ``encoding`` (clamped like LSP)."""
    line = max(0, int(position.get("line", 0)))
    character = max(0, int(position.get("character", 0)))
    start = 0
    for _ in range(line):
        newline = text.find("\n", start)
        if newline < 0:
            return len(text)
        start = newline + 1
    end = text.find("\n", start)
    if end < 0:
        end = len(text)
    if end > start and text[end - 1] == "\r":
        end -= 1
    line_text = text[start:end]
    if encoding == "utf-32" or line_text.isascii():
        return start + min(character, len(line_text))
    units = 0
    for index, char in enumerate(line_text):
        if units >= character:
            return start + index
        units += _units(char, encoding)
    return end


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if ord(char) > 0xFFFF else 1


def apply_change(text: str, change: Mapping[str, Any], encoding: str) -> tuple[str, int, int]:
    """Apply one LSP content change; returns the new text and the replaced span ``(s, e)``."""
    new_text = str(change.get("text", ""))
    if "range" not in change or change["range"] is None:
        return new_text, 0, len(text)
    start = offset_of(text, change["range"]["start"], encoding)
    end = max(start, offset_of(text, change["range"]["end"], encoding))
    return text[:start] + new_text + text[end:], start, end


# --- the release pass ------------------------------------------------------------------------


@dataclass
class Mirror:
    """A document as released so far: its raw text and what the collector holds (masked)."""

    raw: str
    masked: str


@dataclass
class SessionState:
    """What masking carries from one release to the next; persisted by the outbox."""

    encoding: str = "utf-16"
    mirrors: dict[str, Mirror] = field(default_factory=dict)
    known_secrets: set[str] = field(default_factory=set)


@dataclass
class _Doc:
    raw: str
    ids: array[int]


class _Pass:
    """One replay of a session's unreleased events; characters carry integer identities."""

    def __init__(self, state: SessionState) -> None:
        self.state = state
        self.encoding = state.encoding
        self.docs: dict[str, _Doc] = {}
        self.released_masked = bytearray()  # identity < first_new: masked in a mirror?
        self.first_new = -1
        self.tainted = bytearray()  # identity - first_new: ever part of a secret?
        self.found: set[str] = set()

    def doc(self, uri: str) -> _Doc | None:
        return self.docs.get(uri)

    def load_all(self, uris: set[str]) -> None:
        """Give the released characters of these documents identities below ``first_new``."""
        for uri in sorted(uris):
            mirror = self.state.mirrors.get(uri)
            if mirror is None:
                continue
            base = len(self.released_masked)
            self.released_masked.extend(
                0 if raw == masked else 1
                for raw, masked in zip(mirror.raw, mirror.masked, strict=True)
            )
            self.docs[uri] = _Doc(mirror.raw, array("q", range(base, base + len(mirror.raw))))
        self.first_new = len(self.released_masked)

    def new_ids(self, count: int) -> array[int]:
        start = self.first_new + len(self.tainted)
        self.tainted.extend(bytes(count))
        return array("q", range(start, start + count))

    def masked(self, identity: int) -> bool:
        if identity < self.first_new:
            return self.released_masked[identity] == 1
        return self.tainted[identity - self.first_new] == 1

    def render(self, text: str, ids: array[int]) -> str:
        return "".join(
            mask_char(char) if self.masked(identity) else char
            for char, identity in zip(text, ids, strict=True)
        )

    def scan(self, doc: _Doc, low: int, high: int) -> None:
        """Detect secrets in ``doc.raw[low:high]``; taint the new characters inside them."""
        window = doc.raw[low:high]
        for finding in find_secrets(window):
            if finding.end - finding.start >= MIN_KNOWN_SECRET:
                self.found.add(window[finding.start : finding.end])
            for index in range(low + finding.start, low + finding.end):
                identity = doc.ids[index]
                if identity >= self.first_new:
                    self.tainted[identity - self.first_new] = 1

    def scan_around(self, doc: _Doc, start: int, end: int) -> None:
        raw = doc.raw
        low = max(0, start - WINDOW_CHARS)
        newline = raw.rfind("\n", low, start)
        low = newline + 1 if newline >= 0 else low
        high = min(len(raw), end + WINDOW_CHARS)
        newline = raw.find("\n", end, high)
        high = newline if newline >= 0 else high
        header = raw.rfind("PRIVATE KEY", max(0, start - PEM_REACH_CHARS), end)
        if header >= 0:
            low = min(low, raw.rfind("\n", 0, header) + 1)
            footer = raw.find("-----END", end, end + PEM_REACH_CHARS)
            high = max(high, footer + 64 if footer >= 0 else min(len(raw), end + PEM_REACH_CHARS))
            high = min(high, len(raw))
        self.scan(doc, low, high)


def release_session(
    state: SessionState, pending: Sequence[Event], due: int
) -> tuple[list[Event], SessionState]:
    """Mask the first ``due`` of ``pending`` (all unreleased events, in seq order).

    The events after ``due`` are still held back; they are read only to learn what the
    characters of the due events became. Returns the masked due events and the state as
    of the last of them.
    """
    work = _Pass(state)
    for event in pending:
        if event.type == "session.start":
            encoding = event.data.get("position_encoding")
            if isinstance(encoding, str) and encoding in {"utf-8", "utf-16", "utf-32"}:
                work.encoding = encoding
    work.load_all({str(e.data.get("uri")) for e in pending if e.type.startswith("doc.")})

    renders: list[Any] = []  # per due event: what to render once every taint is known
    boundary: dict[str, _Doc | None] = {}
    boundary_encoding = state.encoding
    for index, event in enumerate(pending):
        renders.append(_replay(work, event))
        if index == due - 1:
            boundary = {
                uri: (_Doc(doc.raw, array("q", doc.ids)) if doc is not None else None)
                for uri, doc in _touched(work, pending[:due]).items()
            }
            boundary_encoding = work.encoding
    for doc in work.docs.values():
        work.scan(doc, 0, len(doc.raw))  # the newest known text

    known = frozenset(state.known_secrets | work.found)
    released = [_render(work, event, renders[i], known) for i, event in enumerate(pending[:due])]
    mirrors = dict(state.mirrors)
    for uri, last in boundary.items():
        if last is None:
            mirrors.pop(uri, None)
        else:
            mirrors[uri] = Mirror(last.raw, work.render(last.raw, last.ids))
    new_state = SessionState(encoding=boundary_encoding, mirrors=mirrors, known_secrets=set(known))
    return released, new_state


def _touched(work: _Pass, events: Sequence[Event]) -> dict[str, _Doc | None]:
    uris = {str(e.data.get("uri")) for e in events if e.type.startswith("doc.")}
    return {uri: work.docs.get(uri) for uri in uris}


def _replay(work: _Pass, event: Event) -> Any:
    """Apply a document event to the mirrors; return the identities its texts will need."""
    data = event.data
    uri = str(data.get("uri"))
    text = data.get("text")
    if event.type == "doc.open" and isinstance(text, str):
        return array("q", _fresh(work, uri, text).ids)
    if event.type == "doc.snapshot" and isinstance(text, str):
        known = work.doc(uri)
        if known is None or known.raw != text:  # out of step: start this document afresh
            known = _fresh(work, uri, text)
        return array("q", known.ids)
    if event.type == "doc.change":
        return _replay_change(work, work.doc(uri), data.get("changes"))
    if event.type == "doc.close":
        closed = work.docs.pop(uri, None)
        if closed is not None:
            work.scan(closed, 0, len(closed.raw))  # its newest known text
    return None


def _fresh(work: _Pass, uri: str, text: str) -> _Doc:
    doc = _Doc(text, work.new_ids(len(text)))
    work.docs[uri] = doc
    work.scan(doc, 0, len(text))
    return doc


def _replay_change(work: _Pass, doc: _Doc | None, changes: Any) -> list[array[int]] | None:
    if doc is None or not isinstance(changes, list):
        return None  # unknown document: its texts are masked by content alone
    inserted: list[array[int]] = []
    for change in changes:
        if not isinstance(change, Mapping) or not isinstance(change.get("text", ""), str):
            inserted.append(array("q"))
            continue
        doc.raw, start, end = apply_change(doc.raw, change, work.encoding)
        ids = work.new_ids(len(str(change.get("text", ""))))
        doc.ids[start:end] = ids
        inserted.append(ids)
        work.scan_around(doc, start, start + len(ids))
    return inserted


def _render(work: _Pass, event: Event, needs: Any, known: frozenset[str]) -> Event:
    data = dict(event.data)
    if event.type in {"doc.open", "doc.snapshot"} and isinstance(needs, array):
        text = str(data["text"])
        data["text"] = work.render(text, needs)
        if event.type == "doc.snapshot":
            data["sha256"] = sha256_text(data["text"])
        return replace(event, data=data)
    if event.type == "doc.change" and isinstance(needs, list):
        changes = []
        for change, ids in zip(data["changes"], needs, strict=True):
            if isinstance(change, Mapping) and isinstance(change.get("text"), str):
                change = {**change, "text": work.render(change["text"], ids)}
            changes.append(change)
        data["changes"] = changes
        return replace(event, data=data)
    return replace(event, data=_mask_strings(data, known))


def _mask_strings(value: Any, known: frozenset[str], key: str | None = None) -> Any:
    if isinstance(value, str):
        return value if key in _STRUCTURAL_KEYS else mask_content(value, known)
    if isinstance(value, Mapping):
        return {k: _mask_strings(v, known, k) for k, v in value.items()}
    if isinstance(value, list):
        if key in _STRUCTURAL_KEYS:
            return value
        return [_mask_strings(item, known) for item in value]
    return value
