"""What every command shares (SPEC 16 "CLI"): exit codes shown in each command's help, ``--version``, the
closed sets of choices an option accepts (an unknown value is a usage error, exit code 2), the options several
commands take, and how a command loads its config and model and fails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import click
import typer
from typer.core import TyperGroup

from riskmodel.cli.console import err_console
from riskmodel.config import RiskConfig, load_config
from riskmodel.records.reading import ENCODINGS
from riskmodel.worklist.outcomes import OUTCOMES

if TYPE_CHECKING:
    from riskmodel.model.tier_model import RiskModel

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


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML config file (default: configs/default.yaml).", show_default=False)
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Model URI (models:/riskmodel@champion, models:/riskmodel/3) or a local model folder.",
        show_default=False,
    ),
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Result store URL (default: store.url in the config, a SQLite file in the working directory).",
        show_default=False,
    ),
]
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date (default: today).", show_default=False),
]


def load_settings(path: Path | None) -> RiskConfig:
    """The config of a command: ``--config`` or the embedded defaults (validated on load)."""
    return load_config(path)


def load_fitted_model(model_uri: str | None, settings: RiskConfig) -> RiskModel:
    """The model of ``--model`` (default: the registered champion), with a status line while it loads."""
    from serving.registry import load_model

    with err_console.status("loading the model"):
        return load_model(model_uri, settings)


def exit_code(error: BaseException) -> int:
    """The exit code of an error (SPEC 16): 3 not published, 4 store busy, 5 gate refused, else 1."""
    from riskmodel.exceptions import PromotionRefusedError, PublishRefusedError, StoreBusyError

    if isinstance(error, PublishRefusedError):
        return EXIT_NOT_PUBLISHED
    if isinstance(error, StoreBusyError):
        return EXIT_STORE_BUSY
    if isinstance(error, PromotionRefusedError):
        return EXIT_GATE_REFUSED
    return EXIT_ERROR


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print one line naming the problem on standard error and exit non-zero."""
    err_console.print(f"error: {message}", highlight=False, soft_wrap=True, markup=False, style="bold red")
    return typer.Exit(code=code)
