"""``riskmodel import``: records in from FHIR R4 (SPEC 14.2) into the residents and events of SPEC 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.exceptions import RiskModelError


def import_records(
    inputs: Annotated[list[Path], typer.Argument(help="FHIR Bundles (.json) or bulk NDJSON files (.ndjson).")],
    source: Annotated[str, typer.Option("--from", help="What the files are: fhir.")] = "fhir",
    out: Annotated[Path, typer.Option("--out", help="Residents file (.parquet); events beside it.")] = Path(
        "residents.parquet"
    ),
    as_of: Annotated[
        dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Age and event dates are judged at it.")
    ] = None,
    validate: Annotated[
        str, typer.Option("--validate", help="full: every resource through the FHIR R4 model; bundles: Bundles only.")
    ] = "bundles",
) -> None:
    """Read FHIR R4 records into residents and events; rejected rows beside the output, counts per type."""
    from riskmodel.interchange.fhir_in import read_fhir
    from riskmodel.interchange.importing import rejected_path, write_import
    from riskmodel.interchange.settings import load_fhir_settings

    day = as_of.date() if as_of else dt.date.today()
    try:
        if source != "fhir":
            raise typer.BadParameter(f"--from {source}: choose fhir")
        if validate not in ("full", "bundles"):
            raise typer.BadParameter(f"--validate {validate}: choose full or bundles")
        result = read_fhir(inputs, as_of=day, settings=load_fhir_settings(), validate=validate)
        summary = write_import(result, out, as_of=day)
    except RiskModelError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    for kind, c in sorted(summary.counts.items()):
        typer.echo(f"{kind}: {c['in']} in = {c['used']} used + {c['skipped']} skipped + {c['rejected']} rejected")
    typer.echo(f"wrote {summary.residents} residents to {out} and {summary.events} events beside it; "
               f"{summary.rejected} rejected rows in {rejected_path(out, source)}")  # fmt: skip
