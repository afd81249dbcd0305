"""``riskmodel import``: records in from FHIR R4 (SPEC 14.2) or the BPHS 2017 forms (SPEC 14.4) into the residents
and events of SPEC 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.exceptions import RiskModelError

SOURCES = ("fhir", "bphs-forms")


def import_records(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="FHIR Bundles (.json) or bulk NDJSON (.ndjson); or BPHS forms (.xlsx or .csv)."),
    ],
    source: Annotated[str, typer.Option("--from", help="What the files are: fhir or bphs-forms.")] = "fhir",
    out: Annotated[Path, typer.Option("--out", help="Residents file (.parquet); events beside it.")] = Path(
        "residents.parquet"
    ),
    as_of: Annotated[
        dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Age and event dates are judged at it.")
    ] = None,
    validate: Annotated[
        str,
        typer.Option("--validate", help="fhir: full: every resource through the FHIR R4 model; bundles: Bundles only."),
    ] = "bundles",
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="bphs-forms: CSV encoding utf-8, gbk or gb18030 (default: UTF-8, else GBK)."),
    ] = None,
    form: Annotated[
        str | None,
        typer.Option(
            "--form",
            help="bphs-forms: every file is this form (hypertension_followup, diabetes_followup, "
            "health_check, profile); default: told from each file's title or headers.",
        ),
    ] = None,
) -> None:
    """Read FHIR R4 records or BPHS forms into residents and events; rejected rows beside the output, counts."""
    from riskmodel.interchange.importing import rejected_path, write_import

    day = as_of.date() if as_of else dt.date.today()
    try:
        if source not in SOURCES:
            raise typer.BadParameter(f"--from {source}: choose fhir or bphs-forms")
        if source == "fhir":
            from riskmodel.interchange.fhir_bulk import import_fhir
            from riskmodel.interchange.settings import load_fhir_settings

            if validate not in ("full", "bundles"):
                raise typer.BadParameter(f"--validate {validate}: choose full or bundles")
            # bulk NDJSON in buckets of bounded size (memory flat in the input's size), one worker per core up to 2
            summary = import_fhir(inputs, out, as_of=day, settings=load_fhir_settings(), validate=validate)
        else:
            from riskmodel.interchange.bphs_in import ENCODINGS, read_forms

            if encoding is not None and encoding.lower() not in ENCODINGS:
                raise typer.BadParameter(f"--encoding {encoding}: choose {', '.join(ENCODINGS)}")
            result = read_forms(inputs, as_of=day, encoding=encoding and encoding.lower(), form=form)
            for file in result.files:
                typer.echo(f"{file['file']}: {file['form']} ({file['encoding']})")
                if file["unknown"]:
                    typer.echo(f"  headers not in the mapping (not read): {', '.join(file['unknown'])}")
            summary = write_import(result, out, as_of=day, source=source)
    except RiskModelError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    unit = "rows" if source == "bphs-forms" else ""
    for kind, c in sorted(summary.counts.items()):
        skipped = f" + {c['skipped']} skipped" if source == "fhir" else ""
        typer.echo(
            f"{kind}: {c['in']} {unit}{' ' if unit else ''}in = {c['used']} used{skipped} + {c['rejected']} rejected"
        )
    typer.echo(
        f"wrote {summary.residents} residents to {out} and {summary.events} events beside it; "
        f"{summary.rejected} rejected rows in {rejected_path(out, source)}"
    )
