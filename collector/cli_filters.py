"""Command-line options shared by ``edittrace report`` and ``edittrace export``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlite_utils

from edittrace.collector.event_reader import EventFilter, parse_time

F = TypeVar("F", bound=Callable[..., Any])


def _time(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from error


def database_option(function: F) -> F:
    return click.option(
        "--db",
        "db_path",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The collector's SQLite file.",
    )(function)


def selection_options(function: F) -> F:
    """--session, --contractor (repeatable), --since, --until."""
    for option in reversed(
        [
            click.option(
                "--session", "sessions", multiple=True, help="Only this session (repeatable)."
            ),
            click.option(
                "--contractor",
                "contractors",
                multiple=True,
                help="Only this contractor's sessions (repeatable).",
            ),
            click.option(
                "--since",
                callback=_time,
                help="Sessions that started at or after this time (ISO 8601, UTC if no zone, "
                "or Unix ms).",
            ),
            click.option("--until", callback=_time, help="Sessions that started before this time."),
        ]
    ):
        function = option(function)
    return function


def selection(
    sessions: tuple[str, ...],
    contractors: tuple[str, ...],
    since: int | None,
    until: int | None,
) -> EventFilter:
    return EventFilter(
        sessions=tuple(sessions), contractors=tuple(contractors), since_ms=since, until_ms=until
    )


def open_for_reading(path: Path) -> sqlite_utils.Database:
    """Open the collector database read-only, explaining failures.

    Read-only so that a report or an export can never change stored data, and a
    mistyped path is an error rather than a new, empty database reported as zeros.
    """
    if not path.is_file():
        raise click.ClickException(
            f"{path} does not exist: give --db the collector's database file "
            "(the one `edittrace collector serve --db` writes)"
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        db = sqlite_utils.Database(conn)
        has_events = db.table("events").exists()
    except sqlite3.DatabaseError as error:  # sqlite3 errors name the file badly; say what we opened
        raise click.ClickException(
            f"cannot open {path} as a collector database: {error}"
        ) from error
    if not has_events:
        raise click.ClickException(f"{path} has no events table: is it a collector database?")
    return db
