"""``edittrace export``: datasets for research from the collector's database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from edittrace.collector.cli_filters import (
    database_option,
    open_for_reading,
    selection,
    selection_options,
)
from edittrace.collector.event_reader import count_events
from edittrace.collector.exports import FORMATS, Progress, run_export

PROGRESS_FROM_EVENTS = 5_000
"""Exports of fewer events finish before a progress bar would be worth drawing."""


@contextmanager
def _progress(total: int) -> Iterator[Progress]:
    if total < PROGRESS_FROM_EVENTS:
        yield lambda _: None
        return
    with click.progressbar(length=total, label="exporting events", file=sys.stderr) as bar:
        yield bar.update


@click.command()
@database_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    required=True,
    help="jsonl, preference, kto (files); progsnap2, parquet (directories).",
)
@click.argument("out", type=click.Path(path_type=Path))
@selection_options
@click.option(
    "--kto-checkpoint",
    type=int,
    default=30,
    show_default=True,
    help="Persistence checkpoint (seconds) the kto labels are read at.",
)
def export(
    db_path: Path,
    output_format: str,
    out: Path,
    sessions: tuple[str, ...],
    contractors: tuple[str, ...],
    since: int | None,
    until: int | None,
    kto_checkpoint: int,
) -> None:
    """Export datasets for research: events, TRL training data, ProgSnap2, Parquet.

    \b
    Formats (every column is described in docs/exports.md):
      jsonl       OUT file: every event, one JSON object a line
      preference  OUT file: TRL preference pairs {prompt, chosen, rejected, metadata}
                  from comparison choices and accepted-versus-not-accepted candidates
      kto         OUT file: TRL unpaired {prompt, completion, label, metadata}
      progsnap2   OUT directory: MainTable.csv, DatasetMetadata.csv, CodeStates/
      parquet     OUT directory: events.parquet and suggestions.parquet

    \b
    Examples:
      edittrace export --db data/collector.sqlite --format jsonl events.jsonl
      edittrace export --db data/collector.sqlite --format preference prefs.jsonl --contractor alice
      edittrace export --db data/collector.sqlite --format parquet out/ --since 2026-11-01
    """
    if output_format in ("progsnap2", "parquet") and out.exists() and not out.is_dir():
        raise click.UsageError(f"{output_format} writes a directory, and {out} is a file")
    if output_format in ("jsonl", "preference", "kto") and out.is_dir():
        raise click.UsageError(f"{output_format} writes a file, and {out} is a directory")
    db = open_for_reading(db_path)
    chosen = selection(sessions, contractors, since, until)
    try:
        with _progress(count_events(db, chosen)) as progress:
            result = run_export(
                db, output_format, chosen, out, progress, kto_checkpoint=kto_checkpoint
            )
    finally:
        db.close()
    counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    click.echo(f"wrote {counts} to {out}", err=True)
