"""Parquet files for pandas, DuckDB or Spark: ``events.parquet`` and ``suggestions.parquet``.

Events are written in row groups as they are read, so memory stays flat however large
the database; the per-candidate table is built in memory (it is one row per candidate).
Column types are fixed here, so an empty selection still gives files with every column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlite_utils

from edittrace.collector.event_reader import EventFilter, StoredEvent, read_events
from edittrace.collector.exports import ExportResult, Progress, counted
from edittrace.collector.metrics import build_table

EVENT_SCHEMA = pa.schema(
    [
        ("session", pa.string()),
        ("seq", pa.int64()),
        ("type", pa.string()),
        ("ts", pa.int64()),
        ("time", pa.timestamp("ms", tz="UTC")),
        ("contractor", pa.string()),
        ("received", pa.int64()),
        ("data", pa.string()),
    ]
)

_SUGGESTION_TYPES: dict[str, Any] = {
    "session": pa.string(),
    "contractor": pa.string(),
    "suggestion": pa.string(),
    "candidate": pa.int64(),
    "uri": pa.string(),
    "language": pa.string(),
    "provider": pa.string(),
    "model": pa.string(),
    "arm": pa.string(),
    "trigger": pa.string(),
    "latency_ms": pa.float64(),
    "offered_ts": pa.int64(),
    "offered_seq": pa.int64(),
    "text": pa.string(),
    "text_chars": pa.int64(),
    "prefix": pa.string(),
    "suffix": pa.string(),
    "shown": pa.bool_(),
    "shown_basis": pa.string(),
    "shown_ts": pa.int64(),
    "shown_ms": pa.int64(),
    "outcome": pa.string(),
    "end_reason": pa.string(),
    "source": pa.string(),
    "accepted": pa.bool_(),
    "accepted_ts": pa.int64(),
    "accepted_chars": pa.int64(),
    "partial": pa.bool_(),
    "thumbs": pa.string(),
    "stars": pa.int64(),
    "ratings": pa.int64(),
    "comments": pa.string(),
}

BATCH = 10_000


def _column_type(name: str) -> Any:
    if name in _SUGGESTION_TYPES:
        return _SUGGESTION_TYPES[name]
    if name.startswith(("unchanged_", "mostly_unchanged_")):
        return pa.bool_()
    if name.startswith(("distance_", "rubric_")):
        return pa.int64()
    raise KeyError(f"no parquet type for suggestion column {name!r}")


def _event_row(event: StoredEvent) -> dict[str, Any]:
    return {
        "session": event.session,
        "seq": event.seq,
        "type": event.type,
        "ts": event.ts,
        "time": event.ts,
        "contractor": event.contractor,
        "received": event.received,
        "data": json.dumps(dict(event.data), ensure_ascii=False, sort_keys=True),
    }


def export_parquet(
    db: sqlite_utils.Database, selection: EventFilter, out: Path, progress: Progress
) -> ExportResult:
    """Write ``OUT/events.parquet`` and ``OUT/suggestions.parquet``."""
    out.mkdir(parents=True, exist_ok=True)
    events_path, suggestions_path = out / "events.parquet", out / "suggestions.parquet"
    events = 0
    with pq.ParquetWriter(events_path, EVENT_SCHEMA) as writer:
        batch: list[dict[str, Any]] = []
        for event in counted(read_events(db, selection), progress):
            batch.append(_event_row(event))
            events += 1
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=EVENT_SCHEMA))
                batch = []
        if batch or events == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=EVENT_SCHEMA))
    # A second read rather than keeping every event in memory (documents' texts are large).
    table = build_table(read_events(db, selection))
    checkpoints, rubric_keys = table.checkpoints, table.rubric_keys
    records = [row.flat(checkpoints, rubric_keys) for row in table.rows]
    names = list(records[0]) if records else list(_SUGGESTION_TYPES)
    schema = pa.schema([(name, _column_type(name)) for name in names])
    pq.write_table(pa.Table.from_pylist(records, schema=schema), suggestions_path)
    return ExportResult(
        {"events": events, "suggestions": len(records)}, [events_path, suggestions_path]
    )
