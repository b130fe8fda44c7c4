"""``edittrace report``: suggestion metrics by group, printed and exported."""

from __future__ import annotations

from pathlib import Path

import click

from edittrace.collector.aggregates import GROUPINGS
from edittrace.collector.cli_filters import (
    database_option,
    open_for_reading,
    selection,
    selection_options,
)
from edittrace.collector.event_reader import read_events
from edittrace.collector.metrics import build_table
from edittrace.collector.report import FORMATS, build_report, render, to_csv


@click.command()
@database_option
@click.option(
    "--by",
    type=click.Choice(GROUPINGS),
    default="all",
    show_default=True,
    help="Group the figures by this.",
)
@selection_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; csv (one row per group) or json for programs.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--plots",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also draw acceptance.png and persistence.png into this directory.",
)
def report(
    db_path: Path,
    by: str,
    sessions: tuple[str, ...],
    contractors: tuple[str, ...],
    since: int | None,
    until: int | None,
    output_format: str,
    out: Path | None,
    plots: Path | None,
) -> None:
    """Suggestion metrics by group, as defined by Ziegler et al. (2022).

    Prints, per group: opportunities, shown, accepted, acceptance rate (accepted/shown, with
    a 95% Wilson interval) beside the character-based rate, persistence and fuzzy
    persistence at every checkpoint in the data, efficiency, accepted characters per active
    hour, the share of inserted characters that came from suggestions, a ratings summary;
    then arm win rates from side-by-side comparisons and how often the first-placed
    candidate won (position bias). Every figure is defined in docs/metrics.md.

    \b
    Examples:
      edittrace report --db data/collector.sqlite --by model
      edittrace report --db data/collector.sqlite --by arm --format csv --out arms.csv
      edittrace report --db data/collector.sqlite --since 2026-11-01 --plots plots/
    """
    db = open_for_reading(db_path)
    try:
        table = build_table(read_events(db, selection(sessions, contractors, since, until)))
    finally:
        db.close()
    result = build_report(table, by)
    text = render(result, output_format)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)
        if output_format == "csv" and result.arms:
            arms_path = out.with_name(f"{out.stem}-arms.csv")
            arms_path.write_text(to_csv(result.arms), encoding="utf-8")
            click.echo(f"wrote {arms_path}", err=True)
    if plots is not None:
        from edittrace.collector.report_plots import write_plots

        for path in write_plots(result, plots):
            click.echo(f"wrote {path}", err=True)
