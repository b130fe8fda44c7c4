"""Datasets for researchers from the collector's database; one function per format.

Every exporter reads the selected events in (session, seq) order, reports progress as a
count of events read, and returns how many records it wrote. Columns are documented in
docs/exports.md. The formats:

- ``jsonl``: every event, one JSON object a line (this module);
- ``preference`` and ``kto``: TRL training data (``export_training``);
- ``progsnap2``: a ProgSnap2 package directory (``export_progsnap2``);
- ``parquet``: ``events.parquet`` and ``suggestions.parquet`` (``export_parquet``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from edittrace.collector.event_reader import EventFilter, StoredEvent, read_events

FORMATS = ("jsonl", "preference", "kto", "progsnap2", "parquet")

Progress = Callable[[int], None]
"""Called with the number of events read since the last call."""


def _no_progress(_: int) -> None:
    pass


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: record counts by name (e.g. ``{"events": 120}``) and the paths."""

    counts: dict[str, int]
    paths: list[Path]


def counted(
    events: Iterable[StoredEvent], progress: Progress, every: int = 1000
) -> Iterator[StoredEvent]:
    """Pass events through, reporting progress every ``every`` events and at the end."""
    pending = 0
    for event in events:
        yield event
        pending += 1
        if pending >= every:
            progress(pending)
            pending = 0
    if pending:
        progress(pending)


def event_record(event: StoredEvent) -> dict[str, Any]:
    """The JSON Lines object of one event."""
    return {
        "session": event.session,
        "seq": event.seq,
        "type": event.type,
        "ts": event.ts,
        "contractor": event.contractor,
        "received": event.received,
        "data": dict(event.data),
    }


def export_jsonl(
    db: sqlite_utils.Database, selection: EventFilter, out: Path, progress: Progress = _no_progress
) -> ExportResult:
    """Every selected event, one JSON object a line, in (session, seq) order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8") as stream:
        for event in counted(read_events(db, selection), progress):
            stream.write(json.dumps(event_record(event), ensure_ascii=False) + "\n")
            written += 1
    return ExportResult({"events": written}, [out])


def run_export(
    db: sqlite_utils.Database,
    output_format: str,
    selection: EventFilter,
    out: Path,
    progress: Progress = _no_progress,
    *,
    kto_checkpoint: int = 30,
) -> ExportResult:
    """Export the selection in ``output_format`` to ``out`` (a file, or a directory for
    ``progsnap2`` and ``parquet``)."""
    if output_format == "jsonl":
        return export_jsonl(db, selection, out, progress)
    if output_format == "preference":
        from edittrace.collector.export_training import export_preference

        return export_preference(db, selection, out, progress)
    if output_format == "kto":
        from edittrace.collector.export_training import export_kto

        return export_kto(db, selection, out, progress, checkpoint=kto_checkpoint)
    if output_format == "progsnap2":
        from edittrace.collector.export_progsnap2 import export_progsnap2

        return export_progsnap2(db, selection, out, progress)
    if output_format == "parquet":
        from edittrace.collector.export_parquet import export_parquet

        return export_parquet(db, selection, out, progress)
    raise ValueError(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")


def write_jsonl(out: Path, records: Iterable[dict[str, Any]]) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8") as stream:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    return written
