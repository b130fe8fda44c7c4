"""A ProgSnap2 package, so programming-process researchers' tools read the edit stream.

Layout (ProgSnap2, Price et al. 2020): ``MainTable.csv`` (one row per event),
``DatasetMetadata.csv`` (Property, Value) and ``CodeStates/CodeStates.csv`` (CodeStateID,
Code) in the *Table* code-state representation. A code state here is the full text of one
document (named by ``CodeStateSection``) after the event; identical texts share an ID, and
ID 0 is the empty state used by events that concern no document.

Documents are rebuilt from ``doc.open``/``doc.change``/``doc.snapshot`` by applying the LSP
changes in the session's position encoding; a ``doc.snapshot`` replaces the text (it is the
recorder's authoritative copy, e.g. after a pause). The event mapping is in docs/exports.md.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import sqlite_utils

from edittrace.collector.event_reader import EventFilter, StoredEvent, read_events
from edittrace.collector.exports import ExportResult, Progress, counted

PROGSNAP2_VERSION = "6"

MAIN_COLUMNS = (
    "EventType",
    "EventID",
    "Order",
    "SubjectID",
    "ToolInstances",
    "CodeStateID",
    "ServerTimestamp",
    "ServerTimezone",
    "ClientTimestamp",
    "ClientTimezone",
    "SessionID",
    "CodeStateSection",
    "EditType",
    "X-EdittraceType",
    "X-Seq",
    "X-Language",
    "X-SuggestionID",
    "X-Candidate",
    "X-Data",
)

EVENT_TYPES = {
    "session.start": "Session.Start",
    "session.end": "Session.End",
    "doc.open": "File.Open",
    "doc.change": "File.Edit",
    "doc.save": "File.Save",
    "doc.close": "File.Close",
    "doc.snapshot": "X-File.Snapshot",
    "capture.paused": "X-Capture.Paused",
    "capture.resumed": "X-Capture.Resumed",
    "suggestion.offered": "X-Suggestion.Offered",
    "suggestion.shown": "X-Suggestion.Shown",
    "suggestion.partial_accept": "X-Suggestion.PartialAccept",
    "suggestion.accepted": "X-Suggestion.Accepted",
    "suggestion.ended": "X-Suggestion.Ended",
    "suggestion.persistence": "X-Suggestion.Persistence",
    "rating.submitted": "X-Rating.Submitted",
    "comparison.choice": "X-Comparison.Choice",
}
"""Our event type -> ProgSnap2 EventType; types not listed become ``X-`` + the type."""

_TEXT_FIELDS = ("text", "changes", "prefix", "suffix", "current_text")
"""Left out of ``X-Data``: texts live in CodeStates, and prefixes would dwarf the table."""


# --- rebuilding documents ----------------------------------------------------------------------


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8"))
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    return 1


def offset_of(text: str, position: Mapping[str, int], encoding: str) -> int:
    """Code point offset of an LSP position; past a line's end clamps to the line's end."""
    line, character = int(position["line"]), int(position["character"])
    # split() finds the line's start in C: a Python loop over lines would make every
    # keystroke near the end of a long file cost thousands of calls.
    rest = text.split("\n", line)
    if len(rest) <= line:
        return len(text)
    start = len(text) - len(rest[-1])
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    content = text[start:end]
    if encoding == "utf-32" or content.isascii():
        return start + min(character, len(content))
    counted_units = 0
    for index, char in enumerate(content):
        if counted_units >= character:
            return start + index
        counted_units += _units(char, encoding)
    return end


def apply_changes(text: str, changes: Sequence[Mapping[str, Any]], encoding: str) -> str:
    """The text after LSP ``didChange`` content changes, applied in order."""
    for change in changes:
        if change.get("range") is None:
            text = change["text"]
            continue
        start = offset_of(text, change["range"]["start"], encoding)
        end = offset_of(text, change["range"]["end"], encoding)
        text = text[:start] + change["text"] + text[max(start, end) :]
    return text


def _edit_type(changes: Sequence[Mapping[str, Any]]) -> str:
    if len(changes) != 1 or changes[0].get("range") is None:
        return "GenericEdit"
    span = changes[0]["range"]
    empty = span["start"] == span["end"]
    if empty and changes[0]["text"]:
        return "Insert"
    if not changes[0]["text"] and not empty:
        return "Delete"
    return "Replace"


@functools.lru_cache(maxsize=1024)
def _path_of(uri: str) -> str:
    """The file path a URI names (``CodeStateSection``); other schemes keep the URI."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _iso(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds")


# --- the package -------------------------------------------------------------------------------


class _CodeStates:
    """Assigns IDs to distinct texts, writing each text once.

    Texts are remembered by digest, not kept: a keystroke-level session has one state per
    keystroke, and keeping them all would hold every version of every file in memory.
    """

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self._ids: dict[bytes, int] = {}
        self.add("")

    def add(self, text: str) -> int:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = self._ids.get(digest)
        if found is None:
            found = self._ids[digest] = len(self._ids)
            self._writer.writerow([found, text])
        return found

    def __len__(self) -> int:
        return len(self._ids)


class _Session:
    def __init__(self) -> None:
        self.encoding = "utf-16"
        self.tools = "edittrace"
        self.texts: dict[str, str] = {}
        self.languages: dict[str, str] = {}
        self.offer_uri: dict[str, str] = {}
        self.last_uri: str | None = None


def export_progsnap2(
    db: sqlite_utils.Database, selection: EventFilter, out: Path, progress: Progress
) -> ExportResult:
    """Write MainTable.csv, DatasetMetadata.csv and CodeStates/CodeStates.csv into ``out``."""
    (out / "CodeStates").mkdir(parents=True, exist_ok=True)
    main_path = out / "MainTable.csv"
    states_path = out / "CodeStates" / "CodeStates.csv"
    rows = 0
    with (
        main_path.open("w", encoding="utf-8", newline="") as main_file,
        states_path.open("w", encoding="utf-8", newline="") as states_file,
    ):
        main = csv.writer(main_file)
        main.writerow(MAIN_COLUMNS)
        states_writer = csv.writer(states_file)
        states_writer.writerow(["CodeStateID", "Code"])
        states = _CodeStates(states_writer)
        sessions: dict[str, _Session] = {}
        for event in counted(read_events(db, selection), progress):
            session = sessions.setdefault(event.session, _Session())
            rows += 1
            main.writerow(_row(event, session, states, rows))
        code_states = len(states)
    _write_metadata(out / "DatasetMetadata.csv")
    return ExportResult(
        {"events": rows, "code_states": code_states},
        [main_path, out / "DatasetMetadata.csv", states_path],
    )


def _row(event: StoredEvent, session: _Session, states: _CodeStates, order: int) -> list[Any]:
    data = event.data
    uri: str | None = data.get("uri")
    if uri is None and "suggestion" in data:
        uri = session.offer_uri.get(data["suggestion"])
    edit_type = ""
    if event.type == "session.start":
        session.encoding = data.get("position_encoding", "utf-16")
        editor = " ".join(part for part in (data.get("editor"), data.get("editor_version")) if part)
        client = f"{data.get('client', 'edittrace')} {data.get('client_version', '')}".strip()
        session.tools = "; ".join(part for part in (editor, client) if part)
    elif event.type in ("doc.open", "doc.snapshot") and uri is not None:
        session.texts[uri] = data["text"]
        if event.type == "doc.open":
            session.languages[uri] = data["language_id"]
    elif event.type == "doc.change" and uri is not None:
        session.texts[uri] = apply_changes(
            session.texts.get(uri, ""), data["changes"], session.encoding
        )
        edit_type = _edit_type(data["changes"])
    elif event.type == "suggestion.offered" and uri is not None:
        session.offer_uri[data["suggestion"]] = uri
    if uri is not None:
        session.last_uri = uri
    code_state = states.add(session.texts[uri]) if uri in session.texts else 0
    extra = {key: value for key, value in data.items() if key not in _TEXT_FIELDS}
    if event.type == "suggestion.offered":
        # Candidate texts are the point of an offer: keep them, without their ranges.
        extra["candidates"] = [
            {key: value for key, value in candidate.items() if key != "range"}
            for candidate in data.get("candidates", [])
        ]
    return [
        EVENT_TYPES.get(event.type, "X-" + event.type),
        f"{event.session}:{event.seq}",
        order,
        event.contractor,
        session.tools,
        code_state,
        _iso(event.received),
        "0",
        _iso(event.ts),
        "0",
        event.session,
        _path_of(uri) if uri else "",
        edit_type,
        event.type,
        event.seq,
        session.languages.get(uri, "") if uri else "",
        data.get("suggestion", ""),
        "" if data.get("candidate") is None else data["candidate"],
        json.dumps(extra, ensure_ascii=False, sort_keys=True),
    ]


def _write_metadata(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Property", "Value"])
        writer.writerow(["Version", PROGSNAP2_VERSION])
        writer.writerow(["IsEventOrderingConsistent", "true"])
        writer.writerow(["EventOrderScope", "Restricted"])
        writer.writerow(["EventOrderScopeColumns", "SessionID"])
        writer.writerow(["CodeStateRepresentation", "Table"])
