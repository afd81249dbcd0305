"""``riskmodel export``: residents and events (SPEC 2) written as FHIR R4 (NDJSON or a Bundle) or as the BPHS 2017
forms (SPEC 14.4), e.g. a synthetic population for the import paths."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.exceptions import RiskModelError

TARGETS = ("fhir-ndjson", "fhir-bundle", "bphs-forms")


def export_records(
    to: Annotated[str, typer.Option("--to", help="fhir-ndjson, fhir-bundle or bphs-forms.")],
    residents_file: Annotated[Path, typer.Option("--input", help="Residents file (.parquet or .csv).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    events_file: Annotated[
        Path | None, typer.Option("--events", help="Events file (default: <stem>.events.<ext> beside --input).")
    ] = None,
    as_of: Annotated[
        dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Birth dates are ages back from it.")
    ] = None,
    file_format: Annotated[str, typer.Option("--form-format", help="bphs-forms: csv or xlsx.")] = "csv",
    encoding: Annotated[str, typer.Option("--encoding", help="bphs-forms CSV: utf-8 or gbk.")] = "utf-8",
) -> None:
    """Write residents and their events as FHIR R4 resources or as the BPHS 2017 forms."""
    from riskmodel.records.events import validate_events
    from riskmodel.records.reading import read_residents
    from riskmodel.synth.population import events_path

    day = as_of.date() if as_of else dt.date.today()
    try:
        if to not in TARGETS:
            raise typer.BadParameter(f"--to {to}: choose {', '.join(TARGETS)}")
        if file_format not in ("csv", "xlsx") or encoding not in ("utf-8", "gbk"):
            raise typer.BadParameter("--form-format csv or xlsx; --encoding utf-8 or gbk")
        residents = read_residents(residents_file).residents
        source = events_file or events_path(residents_file)
        events = None
        if source.exists():
            import pyarrow.csv as pacsv
            import pyarrow.parquet as pq

            table = pq.read_table(source) if source.suffix == ".parquet" else pacsv.read_csv(source)
            events = validate_events(table, as_of=day).events.to_pandas()
        if to == "bphs-forms":
            from riskmodel.interchange.bphs_export import write_forms

            paths, skipped = write_forms(residents, events, out, as_of=day, file_format=file_format, encoding=encoding)
            note = f"; {skipped} events have no place in the forms" if skipped else ""
        else:
            from riskmodel.interchange import population_resources, write_bundle, write_ndjson
            from riskmodel.interchange.settings import load_fhir_settings

            resources = population_resources(residents, events, day, load_fhir_settings())
            paths = (
                write_ndjson(resources, out) if to == "fhir-ndjson" else [write_bundle(resources, out / "bundle.json")]
            )
            note = ""
    except RiskModelError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {', '.join(p.name for p in paths)} to {out}{note}")
