"""Every error code and every collector command is documented where a user looks for it."""

from __future__ import annotations

import re
from pathlib import Path

import click

from edittrace.collector.cli import collector
from edittrace.protocol import ErrorCode

DOCS = Path(__file__).parent.parent / "docs"


def table_first_cells(markdown: str) -> set[str]:
    """The first cell of every table row, backticks removed."""
    cells = set()
    for line in markdown.splitlines():
        match = re.match(r"^\|\s*`([^`]+)`", line)
        if match:
            cells.add(match.group(1))
    return cells


def commands(group: click.Group, prefix: str) -> list[str]:
    found = []
    for name, command in group.commands.items():
        found.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            found.extend(commands(command, f"{prefix} {name}"))
    return found


def test_every_error_code_has_a_row_in_the_collector_errors_table() -> None:
    text = (DOCS / "collector.md").read_text()
    errors = text.split("## Errors and close codes", 1)[1].split("\n## ", 1)[0]
    assert set(ErrorCode) <= table_first_cells(errors)


def test_every_collector_command_and_option_is_documented() -> None:
    text = (DOCS / "collector.md").read_text()
    names = commands(collector, "edittrace collector")
    assert "edittrace collector token create" in names
    for name in names:
        assert f"`{name}" in text, f"{name} is not in docs/collector.md"
    serve = collector.commands["serve"]
    for option in serve.params:
        for flag in option.opts:
            assert f"`{flag}" in text, f"serve {flag} is not in docs/collector.md"


def test_every_table_and_column_is_in_storage_md(tmp_path: Path) -> None:
    from edittrace.collector.storage import open_database

    db = open_database(tmp_path / "c.sqlite")
    text = (DOCS / "storage.md").read_text()
    for table in db.table_names():
        section = text.split(f"## `{table}`", 1)
        assert len(section) == 2, f"table {table} has no section in docs/storage.md"
        documented = table_first_cells(section[1].split("\n## ", 1)[0])
        assert set(db.table(table).columns_dict) <= documented, table
