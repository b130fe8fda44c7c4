"""The one ``edittrace`` command; each part of the project contributes its subcommands."""

from __future__ import annotations

import importlib
import importlib.util
from importlib.metadata import version

import click

# Subcommands are imported on first use so that ``edittrace lsp`` does not pay for the
# collector's imports (and the other way round): start-up time is typing time lost.
_SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "collector": (
        "edittrace.collector.cli",
        "collector",
        "Run the collector and manage contractor tokens.",
    ),
    "lsp": ("edittrace.server.cli", "lsp", "Run the language server on stdio."),
    "replay": ("edittrace.collector.replay_cli", "replay", "Replay a recorded session."),
    "report": ("edittrace.collector.report_cli", "report", "Suggestion metrics by group."),
    "export": ("edittrace.collector.export_cli", "export", "Export datasets for research."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _SUBCOMMANDS if self._available(name))

    @staticmethod
    def _available(name: str) -> bool:
        module, _, _ = _SUBCOMMANDS[name]
        return importlib.util.find_spec(module) is not None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _SUBCOMMANDS or not self._available(cmd_name):
            return None
        module, attribute, _ = _SUBCOMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing commands from the table keeps ``edittrace --help`` from importing every part.
        rows = [(name, _SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(version("edittrace"), prog_name="edittrace")
def cli() -> None:
    """edittrace: collect human feedback on AI code suggestions.

    A language server in the contractor's editor serves suggestions and records
    what happens to each one; a collector stores it for researchers to replay,
    measure and export. Run ``edittrace COMMAND --help`` for any command.
    """
