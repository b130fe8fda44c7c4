"""``edittrace replay``: play a recorded session in the terminal, or print it at one point."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from edittrace.collector.replay import Replay, ReplayMismatch, SessionReplay


@click.command("replay")
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The collector's SQLite database.",
)
@click.argument("session", required=False)
@click.option("--at", "at_seq", type=int, help="Start at (or, with --print, print) this seq.")
@click.option(
    "--print",
    "print_mode",
    is_flag=True,
    help="Write each document's text at --at (default: the end) to stdout and exit.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Replay the whole session checking every doc.snapshot; exit 1 on a mismatch.",
)
def replay(
    db_path: Path, session: str | None, at_seq: int | None, print_mode: bool, verify: bool
) -> None:
    """Replay a recorded session.

    Without SESSION, lists the sessions in the database. With it, plays the session in
    the terminal: the document as it evolved, suggestions' ghost text (dim), outcomes and
    ratings on the status line. Keys: space play/pause, + and - speed, n/p step one
    event, j jump to a time (m:ss from the start) or #SEQ, Tab next document, q quit.

    With --print, writes every open document at --at SEQ (default: the end) to stdout,
    each after a header line "==> URI"; a newline is added after a text that does not
    end with one. Exit status 2 when a snapshot on the way disagrees with the replay.
    """
    with Replay.open(db_path) as database:
        if session is None:
            _list_sessions(database)
            return
        try:
            player = database.session(session)
        except KeyError as missing:
            raise click.ClickException(str(missing.args[0])) from None
        try:
            if verify:
                _verify(player)
            elif print_mode:
                _print_documents(player, at_seq)
            else:
                if not (sys.stdin.isatty() and sys.stdout.isatty()):
                    raise click.ClickException(
                        "the player needs a terminal; in scripts use --print (and --at SEQ)"
                    )
                from edittrace.collector.replay_tui import play

                play(player, start_seq=at_seq)
        except ReplayMismatch as mismatch:
            click.echo(f"edittrace replay: mismatch: {mismatch}", err=True)
            sys.exit(2)


def _list_sessions(database: Replay) -> None:
    summaries = database.sessions()
    if not summaries:
        click.echo("no sessions", err=True)
        return
    click.echo(f"{'SESSION':<38} {'CONTRACTOR':<14} {'STARTED (UTC)':<20} EVENTS  LANGUAGES")
    for summary in summaries:
        started = datetime.fromtimestamp(summary.started_ms / 1000, UTC).strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        click.echo(
            f"{summary.id:<38} {summary.contractor:<14} {started:<20} "
            f"{summary.events:>6}  {','.join(summary.languages)}"
        )


def _print_documents(player: SessionReplay, at_seq: int | None) -> None:
    seq = player.last_seq if at_seq is None else at_seq
    state = player.state_at(seq=seq, provenance=False)
    out = sys.stdout
    for uri, document in state.documents.items():
        out.write(f"==> {uri}\n")
        out.write(document.text)
        if document.text and not document.text.endswith("\n"):
            out.write("\n")
    out.flush()


def _verify(player: SessionReplay) -> None:
    mismatches = player.verify()
    for mismatch in mismatches:
        click.echo(f"mismatch: {mismatch}", err=True)
    if mismatches:
        sys.exit(1)
    click.echo(f"{player.id}: {player.last_seq} events, every snapshot matches")
