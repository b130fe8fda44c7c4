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

import functools
import hashlib
import re
from array import array
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from edittrace.capture.documents import units_to_index
from edittrace.capture.secrets import Finding, find_secrets, merge_spans
from edittrace.protocol.frames import Event

_EOL = re.compile(r"\r\n|\r|\n")
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
YIELD_EVERY = 8
"""The replay lets other threads run after this many events (about a millisecond of work)."""

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


def mask_content(text: str, known_secrets: Collection[str] = ()) -> str:
    """Mask what detection finds in ``text`` alone, plus any known secret or fragment of one."""
    spans = [(f.start, f.end) for f in find_secrets(text)]
    spans.extend(_known_secret_spans(text, known_secrets))
    return mask_spans(text, spans)


def _known_secret_spans(text: str, known_secrets: Collection[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for secret in known_secrets:
        start = text.find(secret)
        while start >= 0:
            spans.append((start, start + len(secret)))
            start = text.find(secret, start + 1)
    fragments = _fragments(frozenset(known_secrets))
    if fragments and len(text) >= FRAGMENT_CHARS:
        for i in range(len(text) - FRAGMENT_CHARS + 1):
            if text[i : i + FRAGMENT_CHARS] in fragments:
                spans.append((i, i + FRAGMENT_CHARS))
    return spans


@functools.lru_cache(maxsize=8)
def _fragments(known_secrets: frozenset[str]) -> frozenset[str]:
    """Every ``FRAGMENT_CHARS``-long piece of the known secrets (built once per release)."""
    return frozenset(
        secret[i : i + FRAGMENT_CHARS]
        for secret in known_secrets
        for i in range(len(secret) - FRAGMENT_CHARS + 1)
    )


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- positions -------------------------------------------------------------------------------


LineHint = tuple[int, int]
"""A line number and the offset where that line starts, valid while edits stay at or after it."""


def offset_of(
    text: str, position: Mapping[str, Any], encoding: str, hint: LineHint = (0, 0)
) -> int:
    """The index in ``text`` of an LSP position counted in ``encoding``, clamped as LSP says.

    Lines end at LF, CRLF or CR, and a position inside a character rounds down, exactly
    as ``edittrace.capture.documents`` (which produced the text) reads them. ``hint`` lets
    a caller that edits near its previous edit walk a few lines instead of the whole file.
    """
    return _locate(text, position, encoding, hint)[0]


def _locate(
    text: str, position: Mapping[str, Any], encoding: str, hint: LineHint
) -> tuple[int, LineHint]:
    line = max(0, int(position.get("line", 0)))
    units = max(0, int(position.get("character", 0)))
    found_fast = _locate_from_hint(text, line, hint)
    if found_fast is not None:
        start, end = found_fast
        if end < 0:
            return len(text), (0, 0)
        return start + units_to_index(text[start:end], units, encoding), (line, start)
    start = 0  # a CR somewhere on the way: LSP's three line endings, from the top
    for _ in range(line):
        found = _EOL.search(text, start)
        if found is None:
            return len(text), (0, 0)
        start = found.end()
    found = _EOL.search(text, start)
    end = found.start() if found is not None else len(text)
    return start + units_to_index(text[start:end], units, encoding), (0, 0)


def _locate_from_hint(text: str, line: int, hint: LineHint) -> tuple[int, int] | None:
    """Start and end of ``line`` walking LF by LF from ``hint`` (end -1: past the text), or
    None when a CR lies on the way (the hint is only ever made where none lay before)."""
    hint_line, hint_start = hint
    start = hint_start
    if line >= hint_line:
        for _ in range(line - hint_line):
            newline = text.find("\n", start)
            if newline < 0:
                return None if text.find("\r", hint_start) >= 0 else (len(text), -1)
            start = newline + 1
    else:
        for _ in range(hint_line - line):
            start = text.rfind("\n", 0, start - 1) + 1
    end = text.find("\n", start)
    end = end if end >= 0 else len(text)
    if text.find("\r", min(start, hint_start), max(end, hint_start)) >= 0:
        return None
    return start, end


def apply_change(text: str, change: Mapping[str, Any], encoding: str) -> tuple[str, int, int]:
    """Apply one LSP content change; returns the new text and the replaced span ``(s, e)``."""
    new_text, start, end, _ = apply_change_near(text, change, encoding, (0, 0))
    return new_text, start, end


def apply_change_near(
    text: str, change: Mapping[str, Any], encoding: str, hint: LineHint
) -> tuple[str, int, int, LineHint]:
    """``apply_change`` walking lines from ``hint``; also returns the hint for the next edit."""
    new_text = str(change.get("text", ""))
    if "range" not in change or change["range"] is None:
        return new_text, 0, len(text), (0, 0)
    start, start_hint = _locate(text, change["range"]["start"], encoding, hint)
    end = max(start, _locate(text, change["range"]["end"], encoding, start_hint)[0])
    return text[:start] + new_text + text[end:], start, end, start_hint


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
    hint: LineHint = (0, 0)


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
            self.released_masked.extend(_masked_positions(mirror))
            self.docs[uri] = _Doc(mirror.raw, _identities(base, len(mirror.raw)))
        self.first_new = len(self.released_masked)

    def new_ids(self, count: int) -> array[int]:
        start = self.first_new + len(self.tainted)
        self.tainted.extend(bytes(count))
        return _identities(start, count)

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
        for finding in _findings(window):
            # Remembered for exact matching elsewhere; hex runs (hashes in lock files) are
            # too many and too rarely pasted into a comment to be worth it.
            long_enough = finding.end - finding.start >= MIN_KNOWN_SECRET
            if long_enough and finding.kind != "high_entropy_hex":
                self.found.add(window[finding.start : finding.end])
            self.taint(doc.ids[low + finding.start : low + finding.end])

    def taint(self, ids: array[int]) -> None:
        """Mark these identities as secret; runs of consecutive identities cost one slice."""
        if not ids:
            return
        lowest, highest = min(ids), max(ids)
        if highest < self.first_new:
            return  # released long ago: what the collector has cannot change
        if highest - lowest + 1 == len(ids):  # unique, so exactly the range lowest..highest
            begin = max(lowest, self.first_new) - self.first_new
            self.tainted[begin : highest - self.first_new + 1] = b"\x01" * (
                highest - self.first_new + 1 - begin
            )
            return
        half = len(ids) // 2
        self.taint(ids[:half])
        self.taint(ids[half:])

    def scan_around(self, doc: _Doc, start: int, end: int) -> None:
        raw = doc.raw
        low = max(0, start - WINDOW_CHARS)
        newline = raw.rfind("\n", low, start)
        low = newline + 1 if newline >= 0 else low
        high = min(len(raw), end + WINDOW_CHARS)
        newline = raw.find("\n", end, high)
        high = newline if newline >= 0 else high
        header = _open_private_key_header(raw, start, end)
        if header >= 0:  # inside a private key block: scan it whole
            low = min(low, raw.rfind("\n", 0, header) + 1)
            footer = raw.find("-----END", header + 10, end + PEM_REACH_CHARS)
            reach = footer + 80 if footer >= 0 else end + PEM_REACH_CHARS
            high = min(len(raw), max(high, reach))
        self.scan(doc, low, high)


def _open_private_key_header(raw: str, start: int, end: int) -> int:
    """Where the private key header of the block holding ``start..end`` starts, or -1."""
    floor = max(0, start - PEM_REACH_CHARS)
    header = raw.rfind("-----BEGIN", floor, end)
    while header >= 0:
        line_end = raw.find("\n", header)
        if "PRIVATE KEY" in raw[header : line_end if line_end >= 0 else len(raw)]:
            footer = raw.find("-----END", header + 10)
            # still open, or closed by the very text this edit touched
            return header if footer < 0 or footer + 80 >= start else -1
        header = raw.rfind("-----BEGIN", floor, header)
    return -1


_IOTA: array[int] = array("q")
IOTA_LIMIT = 4_000_000
"""Identities up to this many are sliced from one kept array (32 MB at most) rather than
built one by one at every release: a released document of a megabyte costs a memcpy."""


def _identities(start: int, count: int) -> array[int]:
    """``array('q', range(start, start + count))``, fast."""
    global _IOTA
    end = start + count
    if end > IOTA_LIMIT:
        return array("q", range(start, end))
    if len(_IOTA) < end:
        grown = max(end, 2 * len(_IOTA), 4096)
        _IOTA = _IOTA + array("q", range(len(_IOTA), min(grown, IOTA_LIMIT)))
    return _IOTA[start:end]


def keep_going() -> None:
    """The default ``pause``: carry on without handing over."""


def release_session(
    state: SessionState,
    pending: Sequence[Event],
    due: int,
    pause: Callable[[], None] = keep_going,
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

    # Every edit is followed by a scan of the text around it, so the last scan of each
    # region is its newest known state; open and close scan the whole document.
    renders: list[Any] = []  # per due event: what to render once every taint is known
    boundary: dict[str, str | None] = {}  # raw text of each touched document after ``due``
    for index, event in enumerate(pending):
        if index % YIELD_EVERY == YIELD_EVERY - 1:
            # A long pass holds the interpreter; the caller's ``pause`` may let other
            # threads run (the server's outbox thread hands the GIL to the LSP handlers).
            pause()
        renders.append(_replay(work, event))
        if index == due - 1:
            uris = {str(e.data.get("uri")) for e in pending[:due] if e.type.startswith("doc.")}
            boundary = {uri: d.raw if (d := work.docs.get(uri)) else None for uri in uris}

    known = frozenset(state.known_secrets | work.found)
    released = [_render(work, event, renders[i], known) for i, event in enumerate(pending[:due])]
    # The masked mirror is the old one with the released (masked) events applied: exactly
    # what a replayer of the released stream computes.
    masked = {uri: mirror.masked for uri, mirror in state.mirrors.items()}
    hints: dict[str, LineHint] = {}
    for event in released:
        _apply_released(masked, hints, event, work.encoding)
    mirrors = dict(state.mirrors)
    for uri, raw in boundary.items():
        if raw is None or uri not in masked:
            mirrors.pop(uri, None)
        elif len(masked[uri]) == len(raw):
            mirrors[uri] = Mirror(raw, masked[uri])
        else:  # cannot happen while masking keeps lengths; never trust a mirror out of step
            mirrors.pop(uri, None)
    new_state = SessionState(encoding=work.encoding, mirrors=mirrors, known_secrets=set(known))
    return released, new_state


def _apply_released(
    masked: dict[str, str], hints: dict[str, LineHint], event: Event, encoding: str
) -> None:
    uri = str(event.data.get("uri"))
    text = event.data.get("text")
    if event.type in {"doc.open", "doc.snapshot"} and isinstance(text, str):
        masked[uri] = text
        hints[uri] = (0, 0)
    elif event.type == "doc.close":
        masked.pop(uri, None)
        hints.pop(uri, None)
    elif event.type == "doc.change" and uri in masked:
        changes = event.data.get("changes")
        for change in changes if isinstance(changes, list) else []:
            if isinstance(change, Mapping) and isinstance(change.get("text", ""), str):
                masked[uri], _, _, hints[uri] = apply_change_near(
                    masked[uri], change, encoding, hints.get(uri, (0, 0))
                )


_MASK_RUN = re.compile("[" + "".join(_MASK_BY_UTF8_LENGTH.values()) + "]+")


def _masked_positions(mirror: Mirror) -> bytearray:
    """1 where the collector's copy holds a stand-in for the raw character, else 0."""
    flags = bytearray(len(mirror.raw))
    if mirror.raw != mirror.masked:
        for run in _MASK_RUN.finditer(mirror.masked):
            for index in range(run.start(), run.end()):
                if mirror.raw[index] != mirror.masked[index]:
                    flags[index] = 1
    return flags


CACHED_WINDOW_CHARS = 8_000
"""Windows up to this size are cached by the thousand; larger texts (whole documents) by four."""


def _findings(window: str) -> tuple[Finding, ...]:
    """Detection over a window of text. A held event is replayed at every release until it
    is due, over the same window each time, so for edit windows this is mostly a cache hit."""
    if len(window) > CACHED_WINDOW_CHARS:
        return _cached_documents(window)  # a whole document held back: a few at a time
    return _cached_findings(window)


@functools.lru_cache(maxsize=1024)
def _cached_findings(window: str) -> tuple[Finding, ...]:
    return tuple(find_secrets(window))


@functools.lru_cache(maxsize=4)
def _cached_documents(text: str) -> tuple[Finding, ...]:
    return tuple(find_secrets(text))


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
    if event.type == "suggestion.offered":
        return _offer_context(work, work.doc(uri), data)
    return None


@dataclass
class _OfferContext:
    """Where an offer's prefix and suffix sit in the document, to mask them by identity."""

    prefix: array[int] | None
    suffix: array[int] | None
    line_before: str
    """The raw text of the cursor's line before it: a candidate may complete a secret."""


def _offer_context(work: _Pass, doc: _Doc | None, data: Mapping[str, Any]) -> _OfferContext | None:
    position = data.get("position")
    if doc is None or not isinstance(position, Mapping):
        return None
    offset = offset_of(doc.raw, position, work.encoding)
    prefix, suffix = data.get("prefix"), data.get("suffix")
    context = _OfferContext(None, None, doc.raw[doc.raw.rfind("\n", 0, offset) + 1 : offset])
    if isinstance(prefix, str) and doc.raw[offset - len(prefix) : offset] == prefix:
        context.prefix = array("q", doc.ids[offset - len(prefix) : offset])
    if isinstance(suffix, str) and doc.raw[offset : offset + len(suffix)] == suffix:
        context.suffix = array("q", doc.ids[offset : offset + len(suffix)])
    return context


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
        doc.raw, start, end, doc.hint = apply_change_near(doc.raw, change, work.encoding, doc.hint)
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
    masked = _mask_strings(data, known)
    if event.type == "suggestion.offered" and isinstance(needs, _OfferContext):
        _mask_offer(work, data, masked, needs)
    return replace(event, data=masked)


def _mask_offer(
    work: _Pass, raw: Mapping[str, Any], masked: dict[str, Any], context: _OfferContext
) -> None:
    """Prefix and suffix also by identity (a key half typed at the cursor is no pattern yet,
    but its characters are tainted by what they become); candidates within their line."""
    for key in ("prefix", "suffix"):
        ids = getattr(context, key)
        if ids is not None:
            masked[key] = _union(work.render(raw[key], ids), masked[key])
    raw_candidates, candidates = raw.get("candidates"), masked.get("candidates")
    if not isinstance(raw_candidates, list) or not isinstance(candidates, list):
        return
    for original, candidate in zip(raw_candidates, candidates, strict=True):
        text = original.get("text") if isinstance(original, Mapping) else None
        if not isinstance(text, str) or not isinstance(candidate, dict) or not context.line_before:
            continue
        skip = len(context.line_before)
        spans = [
            (max(f.start, skip) - skip, f.end - skip)
            for f in find_secrets(context.line_before + text)
            if f.end > skip
        ]
        candidate["text"] = _union(mask_spans(text, spans), candidate["text"])


_MASK_CHARS = frozenset(_MASK_BY_UTF8_LENGTH.values())


def _union(first: str, second: str) -> str:
    """Two maskings of one text: a character masked in either stays masked."""
    if len(first) != len(second):
        return "".join(mask_char(c) for c in second)  # cannot line them up: mask it all
    return "".join(
        a if a != b and a in _MASK_CHARS else b for a, b in zip(first, second, strict=True)
    )


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
