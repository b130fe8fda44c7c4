"""``report`` and ``export`` only ever read the collector's database."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from edittrace.cli.main import cli
from tests.metrics_fixture import fill_database


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_mistyped_path_is_an_error_not_a_new_empty_database(tmp_path: Path) -> None:
    missing = tmp_path / "colector.sqlite"
    for command in (["report"], ["export", "--format", "jsonl", str(tmp_path / "out.jsonl")]):
        result = CliRunner().invoke(cli, [*command, "--db", str(missing)])
        assert result.exit_code != 0
        assert "does not exist" in result.output
        assert not missing.exists()


def test_a_file_that_is_not_a_collector_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "notes.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = digest(other)
    result = CliRunner().invoke(cli, ["report", "--db", str(other)])
    assert result.exit_code != 0
    assert "no events table" in result.output
    assert digest(other) == before


def test_reports_and_exports_leave_the_database_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "collector.sqlite"
    fill_database(db)
    before = digest(db)
    assert CliRunner().invoke(cli, ["report", "--db", str(db)]).exit_code == 0
    out = tmp_path / "events.jsonl"
    result = CliRunner().invoke(cli, ["export", "--db", str(db), "--format", "jsonl", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("\n") > 0
    assert digest(db) == before
