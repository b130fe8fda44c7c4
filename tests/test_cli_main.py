"""The one ``edittrace`` command: every subcommand explains itself and is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from edittrace.cli.main import cli

ROOT = Path(__file__).parent.parent
DOCS = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))])


def all_commands() -> list[tuple[str, click.Command]]:
    """Every command and subcommand, by its full name (``collector token create``)."""
    found: list[tuple[str, click.Command]] = []
    context = click.Context(cli)

    def walk(prefix: str, group: click.Group) -> None:
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            assert command is not None, f"{prefix}{name} is listed but cannot be loaded"
            found.append((prefix + name, command))
            if isinstance(command, click.Group):
                walk(f"{prefix}{name} ", command)

    walk("", cli)
    return found


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "collect human feedback on AI code suggestions" in result.output
    assert "collector" in result.output


@pytest.mark.parametrize(("name", "command"), all_commands(), ids=lambda v: str(v))
def test_every_command_has_help_and_is_documented(name: str, command: click.Command) -> None:
    assert command.help and len(command.help.split()) >= 3, f"`edittrace {name}` has no help text"
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert f"edittrace {name}" in DOCS, f"`edittrace {name}` is not documented in README or docs/"


def test_installed_under_one_namespace_only() -> None:
    """No top-level ``server`` or ``protocol`` module shadows other projects after install."""
    probe = (
        "import importlib.util as u, sys;"
        "names = ('server', 'protocol', 'capture', 'collector', 'cli');"
        "bad = [m for m in names if u.find_spec(m)];"
        "import edittrace.protocol, edittrace.cli.main;"
        "sys.exit(', '.join(bad) or None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd="/", capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"importable at top level: {result.stderr or result.stdout}"


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("edittrace, version ")
