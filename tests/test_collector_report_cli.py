"""``edittrace report`` on a real collector database filled through Store.store_batch."""

from __future__ import annotations

import csv
import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edittrace.cli.main import cli
from edittrace.collector.storage import open_database
from tests.metrics_fixture import B0, fill_database


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "collector.sqlite"
    fill_database(path)
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["report", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_table_shows_groups_rates_intervals_and_arm_wins(db_path: Path) -> None:
    output = run("--db", str(db_path), "--by", "model")
    header = output.splitlines()[0].split()
    assert header == ["by", "model", "m1", "m2"]
    lines = {line[:30].strip(): line[30:].split() for line in output.splitlines() if line.strip()}
    assert lines["opportunities (offers)"] == ["4", "2"]
    assert lines["acceptance rate [95% CI]"][0] == "50.0%"
    assert lines["persistence 30s"] == ["100.0%", "0.0%"]
    assert lines["fuzzy persistence 120s"] == ["50.0%", "0.0%"]
    assert "Arm win rates" in output
    arm_b = next(line for line in output.splitlines() if line.startswith("b "))
    assert arm_b.split()[:6] == ["b", "1", "1", "0", "0", "0"]
    assert "100.0% [20.7–100.0]" in arm_b
    # Session B has no shown events: the report says the fallback was used.
    assert "counted as shown by the fallback rule" in output


def test_csv_has_one_row_per_group_with_exact_figures(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "by-contractor.csv"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--db",
            str(db_path),
            "--by",
            "contractor",
            "--format",
            "csv",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {row["group"]: row for row in csv.DictReader(io.StringIO(out.read_text()))}
    assert sorted(rows) == ["alice", "bob"]
    assert rows["alice"]["accepted_chars"] == "18"
    assert float(rows["alice"]["suggestion_char_share"]) == pytest.approx(18 / 28)
    assert rows["bob"]["thumbs_up_share"] == ""  # nothing rated: no value, not zero
    arms = list(csv.DictReader(io.StringIO((tmp_path / "by-contractor-arms.csv").read_text())))
    assert {row["arm"]: row["win_rate"] for row in arms} == {"a": "0.0", "b": "1.0"}


def test_json_filters_by_contractor_and_time(db_path: Path) -> None:
    data = json.loads(run("--db", str(db_path), "--format", "json", "--contractor", "bob"))
    assert data["by"] == "all"
    (group,) = data["groups"]
    assert (group["opportunities"], group["shown"], group["accepted"]) == (2, 2, 1)
    assert data["checkpoints"] == [30]
    late = json.loads(run("--db", str(db_path), "--format", "json", "--since", str(B0)))
    assert late["groups"][0]["opportunities"] == 2
    early = json.loads(
        run("--db", str(db_path), "--format", "json", "--until", "2026-01-01T00:00:00Z")
    )
    assert early["groups"] == [] and "no suggestion.offered" in early["notes"][0]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plots_are_written_as_png(db_path: Path, tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    result = CliRunner().invoke(
        cli, ["report", "--db", str(db_path), "--by", "model", "--plots", str(plots)]
    )
    assert result.exit_code == 0, result.output
    for name in ("acceptance.png", "persistence.png"):
        width, height = png_size(plots / name)
        assert width > 300 and height > 200


def test_bad_time_is_explained(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--db", str(db_path), "--since", "yesterday"])
    assert result.exit_code == 2
    assert "not a time" in result.output


def test_report_runs_as_a_real_command(db_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "edittrace.cli", "report", "--db", str(db_path), "--by", "language"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[0].split() == ["by", "language", "python", "typescript"]


def test_an_empty_database_gives_an_empty_report(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    open_database(path).close()
    output = run("--db", str(path))
    assert "no suggestion.offered events" in output
