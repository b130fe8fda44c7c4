"""The event vocabulary: one dataclass per event type, describing its ``data`` map.

Producers build these dataclasses and call ``to_data()``; the collector checks
incoming maps with ``validate_event_data``. Rules for evolving the schema are in
docs/protocol.md ("Evolving the schema"): fields are only ever added, as optional,
and readers keep keys they do not know.

Positions follow LSP: ``line`` and ``character`` count from 0, and ``character``
counts in the session's position encoding (``session.start``), UTF-16 code units
unless the editor negotiated otherwise.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from edittrace.protocol.errors import ErrorCode, ProtocolError

Position = dict[str, int]
"""``{"line": int, "character": int}``."""
Range = dict[str, Position]
"""``{"start": Position, "end": Position}``."""

Source = Literal["lsp", "inferred", "bridge"]
"""Who told us: the LSP protocol itself, inference from the edit stream, or the VS Code bridge."""


@dataclass(frozen=True, kw_only=True)
class Record:
    """A map of the wire format, built as a dataclass."""

    def to_data(self) -> dict[str, Any]:
        """The wire map: optional fields left as ``None`` are omitted."""
        return {
            field.name: _plain(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }


@dataclass(frozen=True, kw_only=True)
class EventData(Record):
    """Base of every event's data; ``TYPE`` is the event's ``type`` on the wire."""

    TYPE: ClassVar[str]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


# --- session -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionStart(EventData):
    """A language server started recording. One per session, always seq 1."""

    TYPE: ClassVar[str] = "session.start"
    client: str
    """Name of the recording program, e.g. ``edittrace-lsp``."""
    client_version: str
    position_encoding: str
    """``utf-16`` (LSP's default), ``utf-8`` or ``utf-32``: the unit of every ``character``."""
    editor: str | None = None
    """The editor's ``clientInfo.name``, e.g. ``Visual Studio Code``."""
    editor_version: str | None = None
    workspace_folders: list[str] | None = None
    """URIs of the workspace folders being captured."""
    settings: dict[str, Any] | None = None
    """Capture and provider settings in force (never the token)."""


@dataclass(frozen=True, kw_only=True)
class SessionEnd(EventData):
    """Recording stopped cleanly. A session cut off by a crash has no ``session.end``."""

    TYPE: ClassVar[str] = "session.end"
    reason: str
    """``shutdown``, ``exit`` or another word saying why."""


@dataclass(frozen=True, kw_only=True)
class CapturePaused(EventData):
    """The contractor paused recording; no document or suggestion events follow until resumed."""

    TYPE: ClassVar[str] = "capture.paused"
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaptureResumed(EventData):
    """Recording resumed. Documents changed while paused are re-sent as ``doc.snapshot``."""

    TYPE: ClassVar[str] = "capture.resumed"
    reason: str | None = None


# --- documents -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DocOpen(EventData):
    """A document came into scope, with its full text (secrets masked)."""

    TYPE: ClassVar[str] = "doc.open"
    uri: str
    language_id: str
    version: int
    text: str


@dataclass(frozen=True, kw_only=True)
class DocChange(EventData):
    """The editor's content changes, applied in order, as LSP ``didChange`` carries them.

    Each change is ``{"range": Range, "text": str}`` for an incremental change or
    ``{"text": str}`` for a full replacement. ``version`` is the version after them.
    """

    TYPE: ClassVar[str] = "doc.change"
    uri: str
    version: int
    changes: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class DocSave(EventData):
    TYPE: ClassVar[str] = "doc.save"
    uri: str
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class DocClose(EventData):
    TYPE: ClassVar[str] = "doc.close"
    uri: str


@dataclass(frozen=True, kw_only=True)
class DocSnapshot(EventData):
    """A replay checkpoint: the full text at ``version`` and the sha256 of its UTF-8 bytes."""

    TYPE: ClassVar[str] = "doc.snapshot"
    uri: str
    version: int
    text: str
    sha256: str


# --- suggestions ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Candidate(Record):
    """One candidate of an offer. ``arm`` names the comparison arm, never shown to the person."""

    index: int
    text: str
    """The text the item inserts (``insertText``)."""
    range: Range
    """The range the item replaces."""
    provider: str
    model: str | None = None
    arm: str | None = None


@dataclass(frozen=True, kw_only=True)
class SuggestionOffered(EventData):
    """The server answered an inline completion request with one or more candidates.

    ``suggestion`` identifies the offer; every later event about it names the
    suggestion and the candidate's index. ``prefix`` and ``suffix`` are the context the
    provider saw (truncated, masked).
    """

    TYPE: ClassVar[str] = "suggestion.offered"
    suggestion: str
    uri: str
    version: int
    position: Position
    trigger: Literal["automatic", "invoked"]
    latency_ms: float
    candidates: list[dict[str, Any]]
    """``Candidate.to_data()`` maps: index, text, range, provider, model, arm."""
    prefix: str | None = None
    suffix: str | None = None
    shown_order: list[int] | None = None
    """Candidate indexes in the order the editor received them (arms are shuffled per request)."""


@dataclass(frozen=True, kw_only=True)
class SuggestionShown(EventData):
    """The candidate appeared on screen as ghost text. Repeats while it stays shown are not sent."""

    TYPE: ClassVar[str] = "suggestion.shown"
    suggestion: str
    candidate: int
    source: Source


@dataclass(frozen=True, kw_only=True)
class SuggestionPartialAccept(EventData):
    """Part of a candidate was accepted: a word (Ctrl+Right) or a line."""

    TYPE: ClassVar[str] = "suggestion.partial_accept"
    suggestion: str
    candidate: int
    kind: Literal["word", "line", "other"]
    accepted_length: int
    """Characters of the candidate accepted so far, counted from its start."""
    source: Source


@dataclass(frozen=True, kw_only=True)
class SuggestionAccepted(EventData):
    """The candidate's text is in the document, whole (or as far as ``text`` says).

    ``range`` is where the accepted text now sits, in the document at ``version``.
    """

    TYPE: ClassVar[str] = "suggestion.accepted"
    suggestion: str
    candidate: int
    source: Source
    uri: str
    text: str
    range: Range | None = None
    version: int | None = None
    partial: bool | None = None
    """True when only part of the candidate was accepted (partial accepts, then left)."""


Outcome = Literal["accepted", "rejected", "ignored"]


@dataclass(frozen=True, kw_only=True)
class SuggestionEnded(EventData):
    """The candidate's life on screen ended. Exactly one per candidate that was offered.

    ``reason`` refines ``ignored``: ``superseded``, ``typed_other``, ``left_document``,
    ``closed``, ``paused``, ``session_end``; or ``explicit`` for a dismiss.
    """

    TYPE: ClassVar[str] = "suggestion.ended"
    suggestion: str
    candidate: int
    outcome: Outcome
    source: Source
    reason: str | None = None
    shown_ms: int | None = None
    """How long the candidate was on screen, when known."""
    user_typing_disagreed: bool | None = None


@dataclass(frozen=True, kw_only=True)
class SuggestionPersistence(EventData):
    """At a checkpoint after an accept: how much of the accepted text is still there.

    ``distance`` is the Levenshtein distance between the accepted text and the
    text now in its tracked span; ``mostly_unchanged`` is distance / max(len) < 0.33.
    """

    TYPE: ClassVar[str] = "suggestion.persistence"
    suggestion: str
    candidate: int
    checkpoint_s: int
    unchanged: bool
    mostly_unchanged: bool
    distance: int
    accepted_length: int
    current_text: str | None = None
    document_closed: bool | None = None
    """The document was closed before the checkpoint; figures are as of the close."""


# --- feedback ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RatingSubmitted(EventData):
    """The contractor rated a suggestion. Any of the parts may be given; a later rating adds."""

    TYPE: ClassVar[str] = "rating.submitted"
    suggestion: str
    source: Source
    candidate: int | None = None
    thumbs: Literal["up", "down"] | None = None
    stars: int | None = None
    rubric: dict[str, int] | None = None
    """Scores 1..5 for ``correctness``, ``efficiency``, ``maintainability``, ``security``."""
    comment: str | None = None


@dataclass(frozen=True, kw_only=True)
class ComparisonChoice(EventData):
    """The contractor compared the candidates of one offer side by side."""

    TYPE: ClassVar[str] = "comparison.choice"
    suggestion: str
    choice: Literal["candidate", "tie", "both_bad"]
    source: Source
    candidate: int | None = None
    """The preferred candidate's index when ``choice`` is ``candidate``."""
    order: list[int] | None = None
    """Candidate indexes in the order they were shown, left to right."""
    decision_ms: int | None = None


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.TYPE: cls
    for cls in (
        SessionStart,
        SessionEnd,
        CapturePaused,
        CaptureResumed,
        DocOpen,
        DocChange,
        DocSave,
        DocClose,
        DocSnapshot,
        SuggestionOffered,
        SuggestionShown,
        SuggestionPartialAccept,
        SuggestionAccepted,
        SuggestionEnded,
        SuggestionPersistence,
        RatingSubmitted,
        ComparisonChoice,
    )
}

EXPERIMENTAL_PREFIX = "x."
"""Types starting with ``x.`` are stored without validation, for trying out new events."""


def validate_event_data(event_type: str, data: Mapping[str, Any], *, where: str = "event") -> None:
    """Check ``data`` against the dataclass of ``event_type``; unknown keys are allowed."""
    if event_type.startswith(EXPERIMENTAL_PREFIX):
        return
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise ProtocolError(
            ErrorCode.BAD_FRAME,
            f"{where}: unknown event type {event_type!r}; known types are listed in "
            "docs/protocol.md, experimental ones start with 'x.'",
        )
    for name, optional, check, expected in _schema(cls):
        value = data.get(name)
        if value is None:
            if not optional:
                raise ProtocolError(
                    ErrorCode.BAD_FRAME, f"{where} ({event_type}): data needs {name!r}"
                )
            continue
        if not check(value):
            raise ProtocolError(
                ErrorCode.BAD_FRAME,
                f"{where} ({event_type}): {name!r} should be {_describe(expected)}, "
                f"got {value!r:.80}",
            )


_Check = typing.Callable[[Any], bool]
_SCHEMAS: dict[type[EventData], tuple[tuple[str, bool, _Check, Any], ...]] = {}


def _schema(cls: type[EventData]) -> tuple[tuple[str, bool, _Check, Any], ...]:
    """Per field: name, optional, a compiled check, the hint. Built once per type, because
    the collector validates every event and reading type hints each time dominated."""
    schema = _SCHEMAS.get(cls)
    if schema is None:
        hints = _hints(cls)
        schema = tuple(
            (field.name, _optional(hint), _compile(hint), hint)
            for field in dataclasses.fields(cls)
            for hint in (hints[field.name],)
        )
        _SCHEMAS[cls] = schema
    return schema


def _compile(hint: Any) -> _Check:
    """A function that answers as ``_matches(value, hint)`` does, with the hint read once."""
    if hint is str:
        return lambda value: isinstance(value, str)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if _is_union(hint):
        arms = tuple(_compile(arm) for arm in typing.get_args(hint))
        return lambda value: any(arm(value) for arm in arms)
    if typing.get_origin(hint) is list:
        item = _compile(typing.get_args(hint)[0])
        return lambda value: isinstance(value, list) and all(item(v) for v in value)
    if typing.get_origin(hint) is dict and typing.get_args(hint)[1] is Any:
        return lambda value: isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return lambda value: _matches(value, hint)


_HINTS: dict[type[EventData], dict[str, Any]] = {}


def _hints(cls: type[EventData]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _is_union(hint: Any) -> bool:
    # ``Literal[...] | None`` is a ``typing.Union``, ``str | None`` a ``types.UnionType``.
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _optional(hint: Any) -> bool:
    return _is_union(hint) and type(None) in typing.get_args(hint)


def _matches(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if _is_union(hint):
        return any(_matches(value, arm) for arm in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(element, item) for element in value)
    if origin is dict:
        _key, item = typing.get_args(hint)
        return isinstance(value, dict) and all(
            isinstance(k, str) and _matches(v, item) for k, v in value.items()
        )
    raise TypeError(f"unsupported schema hint {hint!r}")


def _describe(hint: Any) -> str:
    if _is_union(hint):
        return " or ".join(_describe(arm) for arm in typing.get_args(hint) if arm is not type(None))
    if typing.get_origin(hint) is Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) is list:
        return "a list"
    if typing.get_origin(hint) is dict:
        return "a map"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        hint, str(hint)
    )
