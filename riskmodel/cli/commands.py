"""The ``riskmodel`` command line (SPEC section 7): the Typer app and its commands, in the order ``--help``
lists them. Each command lives with its group (``synthetic``, ``model_registry``, ``batch``, ``worklists``,
``reports``, ``service``, ``imports``, ``exports``, ``team_list``, ``operations``); they parse, call the library
and format, and what they draw is in :mod:`riskmodel.cli.console`."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from riskmodel.cli import operations
from riskmodel.cli.batch import nightly, score
from riskmodel.cli.conventions import ExitCodesGroup, show_version
from riskmodel.cli.exports import export_records
from riskmodel.cli.imports import import_records
from riskmodel.cli.model_registry import promote, recalibrate, train
from riskmodel.cli.reports import indicators, monitor
from riskmodel.cli.service import serve
from riskmodel.cli.synthetic import demo, synth
from riskmodel.cli.team_list import contacts_app, reminders
from riskmodel.cli.worklists import outcome, outcomes, worklist

app = typer.Typer(
    name="riskmodel",
    help="Find and follow residents with type 2 diabetes and hypertension: tiers, calibrated risk, "
    "and prioritised work lists for family-doctor teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=ExitCodesGroup,
)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if not verbose:  # MLflow sets up its own INFO logging when imported; keep the screen to our output
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


for command in (synth, train, promote, recalibrate, score, nightly, worklist, outcome, outcomes, indicators, monitor):
    app.command()(command)
app.command()(serve)
app.command()(demo)
app.command("import")(import_records)  # records in (SPEC 14)
app.command("export")(export_records)  # records out (SPEC 14.4)
app.add_typer(contacts_app, name="contacts")  # the team's list at volume (SPEC 15)
app.command()(reminders)
operations.register(app)  # keys, audit, void, erase (SPEC 16)
