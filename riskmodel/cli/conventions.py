"""What every command shares (SPEC 16 "CLI"): exit codes shown in each command's help, ``--version``, and
the closed sets of choices an option accepts (an unknown value is a usage error, exit code 2)."""

from __future__ import annotations

from typing import Any, Literal

import click
import typer
from typer.core import TyperGroup

from riskmodel.records.reading import ENCODINGS
from riskmodel.worklist.outcomes import OUTCOMES

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_PUBLISHED, EXIT_STORE_BUSY, EXIT_GATE_REFUSED = 0, 1, 2, 3, 4, 5
"""The exit codes of every command (SPEC 16)."""

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 input or config error (one line says which); 2 usage (an unknown option or "
    "choice); 3 not published (the previous batch stays in service); 4 store busy (another run holds its "
    "lock); 5 the promotion gate refused."
)

LangChoice = Literal["zh", "en"]
FormatChoice = Literal["table", "csv", "json"]
IndicatorFormatChoice = Literal["table", "csv", "json", "xlsx"]
EngineChoice = Literal["local", "spark"]
DiseaseChoice = Literal["diabetes", "hypertension"]
OutcomeChoice = Literal[OUTCOMES]  # type: ignore[valid-type]
EncodingChoice = Literal[ENCODINGS]  # type: ignore[valid-type]


class ExitCodesGroup(TyperGroup):
    """The command group: every command's help ends with the exit codes, whoever registered it."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not command.epilog:
            command.epilog = EXIT_CODES_HELP
        return command

    def format_help(self, ctx: click.Context, formatter: Any) -> None:
        if not self.epilog:
            self.epilog = EXIT_CODES_HELP
        super().format_help(ctx, formatter)


def show_version(value: bool) -> None:
    """``riskmodel --version``: print the installed package's version and stop."""
    if value:
        from riskmodel import __version__

        typer.echo(f"riskmodel {__version__}")
        raise typer.Exit(code=EXIT_OK)
