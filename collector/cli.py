"""``edittrace collector ...``: run the collector and manage its tokens."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlite_utils

from edittrace.collector.limits import ServerLimits
from edittrace.collector.storage import open_database
from edittrace.collector.tokens import (
    Role,
    TokenError,
    count_tokens,
    create_token,
    list_tokens,
    revoke_token,
)

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("data/collector.sqlite"),
    show_default=True,
    help="The collector's SQLite file (created if missing).",
)


@click.group()
def collector() -> None:
    """Run the collector and manage contractor and researcher tokens.

    The collector receives the event streams of contractors' editors over a websocket
    and stores them exactly once in a SQLite file. See docs/collector.md.
    """


@collector.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8700,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (printed).",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TLS certificate (PEM): serve wss:// instead of ws://.",
)
@click.option(
    "--keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TLS private key (PEM) for --certfile.",
)
@click.option(
    "--rate",
    "events_per_second",
    type=click.FloatRange(min=0),
    default=5000.0,
    show_default=True,
    help="Events per second one connection may send; 0: no limit.",
)
@click.option(
    "--burst",
    "burst_events",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Events one connection may send at once after a pause.",
)
@click.option(
    "--fsync/--no-fsync",
    default=True,
    show_default=True,
    help="Acknowledge only after the commit is fsynced (survives a power loss). "
    "--no-fsync acknowledges once SQLite committed to the OS: survives a crash of the "
    "collector, not of the machine.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every connection to stderr.")
def serve(
    db_path: Path,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    events_per_second: float,
    burst_events: int,
    fsync: bool,
    verbose: bool,
) -> None:
    """Run the collector until SIGTERM or Ctrl-C.

    Listens on ws://HOST:PORT/v1/stream (wss:// with --certfile/--keyfile) and prints
    how an editor connects. If the database has no tokens yet, creates a contractor
    token named `local` and prints it once. On SIGTERM or SIGINT it commits and
    acknowledges everything already received, then exits 0.
    """
    from edittrace.collector.server import Collector, run_until_signalled

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("edittrace.collector.websockets").setLevel(
        logging.INFO if verbose else logging.WARNING
    )
    if (certfile is None) != (keyfile is None):
        raise click.UsageError("--certfile and --keyfile go together")
    context: ssl.SSLContext | None = None
    if certfile is not None and keyfile is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(certfile, keyfile)
        except (ssl.SSLError, OSError) as exc:
            raise click.ClickException(f"cannot load the certificate or key: {exc}") from None
    db_path.parent.mkdir(parents=True, exist_ok=True)
    first_token = _first_token(db_path)
    limits = ServerLimits(events_per_second=events_per_second, burst_events=burst_events)
    server = Collector(db_path, host, port, limits, context, fsync=fsync)

    def announce(running: Collector) -> None:
        token = first_token or "<a token from `edittrace collector token create NAME`>"
        url = running.url
        if host in ("0.0.0.0", "::", ""):  # listening everywhere: editors use a real name
            url = url.replace(f"//{host}:", f"//{socket.gethostname()}:", 1)
        lines = [
            f"edittrace collector listening on {running.url}",
            f"database: {db_path.resolve()}",
            "An editor connects with these settings (or environment variables):",
            f"  EDITTRACE_COLLECTOR_URL={url}",
            f"  EDITTRACE_TOKEN={token}",
        ]
        if first_token:
            lines.append("(a contractor token named `local` was created; it is shown only once)")
        click.echo("\n".join(lines))
        sys.stdout.flush()

    try:
        asyncio.run(run_until_signalled(server, announce))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from None


def _first_token(db_path: Path) -> str | None:
    db = open_or_fail(db_path)
    try:
        return create_token(db, "local") if count_tokens(db) == 0 else None
    finally:
        db.close()


@collector.group()
def token() -> None:
    """Create, list and revoke access tokens (stored hashed in the database)."""


@token.command("create")
@click.argument("name")
@click.option(
    "--researcher",
    is_flag=True,
    help="A researcher token (replay and other read routes) instead of a contractor's.",
)
@DB_OPTION
def token_create(name: str, researcher: bool, db_path: Path) -> None:
    """Create a token named NAME and print it, alone on stdout, once.

    Only its hash is stored: keep the printed token, it cannot be shown again. NAME is
    the identity recorded with everything the token sends.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_or_fail(db_path)
    try:
        click.echo(create_token(db, name, Role.RESEARCHER if researcher else Role.CONTRACTOR))
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.close()


@token.command("list")
@DB_OPTION
def token_list(db_path: Path) -> None:
    """List tokens: name, role, created, revoked (never the tokens themselves)."""
    db = open_or_fail(db_path, must_exist=True)
    try:
        infos = list_tokens(db)
    finally:
        db.close()
    if not infos:
        click.echo("no tokens; create one with `edittrace collector token create NAME`", err=True)
        return
    click.echo(f"{'NAME':<24} {'ROLE':<11} {'CREATED (UTC)':<20} REVOKED (UTC)")
    for info in infos:
        revoked = _when(info.revoked) if info.revoked is not None else "-"
        click.echo(f"{info.name:<24} {info.role:<11} {_when(info.created):<20} {revoked}")


@token.command("revoke")
@click.argument("name")
@DB_OPTION
def token_revoke(name: str, db_path: Path) -> None:
    """Revoke the token named NAME: it is refused from the next connection on.

    The name stays taken, so stored data keeps pointing at the right person.
    """
    db = open_or_fail(db_path, must_exist=True)
    try:
        changed = revoke_token(db, name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.close()
    click.echo(f"revoked {name}" if changed else f"{name} was already revoked", err=True)


def open_or_fail(db_path: Path, must_exist: bool = False) -> sqlite_utils.Database:
    if must_exist and not db_path.exists():
        raise click.ClickException(f"no database at {db_path}; pass --db PATH")
    try:
        return open_database(db_path)
    except Exception as exc:  # a directory, a file that is not SQLite, no permission
        raise click.ClickException(f"cannot open the database {db_path}: {exc}") from None


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
