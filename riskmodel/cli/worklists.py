"""``riskmodel worklist``, ``outcome`` and ``outcomes``: a team's prioritised work list (SPEC 9) and what happened
to its actions (SPEC 10)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Annotated, cast

import typer

from riskmodel.cli.console import console, print_outcomes, print_worklist
from riskmodel.cli.conventions import (
    AsOfOption,
    ConfigOption,
    DiseaseChoice,
    FormatChoice,
    LangChoice,
    ModelOption,
    OutcomeChoice,
    StoreOption,
    fail,
    load_fitted_model,
    load_settings,
)
from riskmodel.cli.operations import audit_write
from riskmodel.exceptions import RiskModelError
from riskmodel.records.writing import csv_safe

if TYPE_CHECKING:
    from riskmodel.worklist.explain import Lang


def worklist(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    as_of: AsOfOption = None,
    capacity: Annotated[
        int | None,
        typer.Option(
            "--capacity",
            min=1,
            help="Entries shared by bands 2-4; band 1 is never cut (default: worklist.capacity).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[LangChoice, typer.Option("--lang", help="Language of the reasons: zh or en.")] = "zh",
    output_format: Annotated[FormatChoice, typer.Option("--format", help="table, csv or json.")] = "table",
    contacts: Annotated[
        bool, typer.Option("--contacts", help="Show each resident's name, phone and address (the team's own list).")
    ] = False,
    store: StoreOption = None,
    model: ModelOption = None,
    config: ConfigOption = None,
) -> None:
    """Print a team's prioritised work list from the latest scored batch (as of its date unless --as-of).

    Exit codes: 0 printed; 1 an unknown team, no published batch, or a config or model problem."""
    import json

    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.entries import worklist_body
    from riskmodel.worklist.team import team_worklist

    try:
        settings = load_settings(config)
        fitted = load_fitted_model(model, settings)
        result_store = ResultStore(store or settings.store.url)
        entries, batch = team_worklist(
            result_store,
            team,
            fitted,
            today=settings.deployment.today(),
            as_of=as_of.date() if as_of else None,
            capacity=capacity,
            lang=cast("Lang", lang),
            config=settings,
        )
        if contacts:
            from riskmodel.worklist.contacts import attach_contacts

            attach_contacts(result_store, team, entries.entries)
    except (RiskModelError, LookupError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    if output_format == "table":
        print_worklist(entries, team, batch, lang)
    elif output_format == "csv":
        sys.stdout.write(csv_safe(entries.to_frame(contacts=contacts)).to_csv(index=False))
    else:
        body = {"team_id": team, **worklist_body(entries, batch, cast("Lang", lang))}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")


def outcome(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    resident: Annotated[str, typer.Option("--resident", help="Resident id.")],
    outcome_code: Annotated[
        OutcomeChoice,
        typer.Option(
            "--outcome",
            help="agreed, call_later, unreachable, declined, done, referred, referral_arrived, referral_returned, "
            "moved, died, transferred, reinstate or reminded.",
        ),
    ],
    action: Annotated[
        str | None,
        typer.Option(
            "--action", help="The action it answers (not needed for moved/died/transferred/reinstate/reminded)."
        ),
    ] = None,
    disease: Annotated[DiseaseChoice | None, typer.Option("--disease", help="diabetes or hypertension.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required for declined).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note for the team.")] = None,
    recorded_on: Annotated[
        dt.datetime | None,
        typer.Option(
            "--recorded-on", formats=["%Y-%m-%d"], help="When it happened (default: today).", show_default=False
        ),
    ] = None,
    store: StoreOption = None,
    model: ModelOption = None,
    config: ConfigOption = None,
) -> None:
    """Record what happened to a work-list action; the list hides, removes or tracks it from then on."""
    import getpass

    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.team import OutcomeError, record_outcome

    try:
        settings = load_settings(config)
        result_store = ResultStore(store or settings.store.url)
        row, _ = record_outcome(
            result_store,
            team,
            load_fitted_model(model, settings),
            {
                "resident_id": resident,
                "disease": disease,
                "action": action,
                "outcome": outcome_code,
                "reason": reason,
                "note": note,
                "recorded_on": recorded_on.date() if recorded_on else None,
            },
            today=settings.deployment.today(),
            recorded_by=f"cli-{getpass.getuser()}",
            config=settings,
        )
        audit_write(result_store, settings, "outcome", teams=[team], residents=1)
    except (RiskModelError, LookupError, OutcomeError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    until = f", hidden until {row['hidden_until']}" if row["hidden_until"] else ""
    console.print(
        f"recorded {row['outcome']} for {resident} on {row['recorded_on']}{until} ({row['outcome_id']})", markup=False
    )


def outcomes(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            "--since", formats=["%Y-%m-%d"], help="Only outcomes recorded on or after this date.", show_default=False
        ),
    ] = None,
    output_format: Annotated[FormatChoice, typer.Option("--format", help="table, csv or json.")] = "table",
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """List a team's recorded outcomes (the audit trail: who, what, when)."""
    import json

    import pandas as pd

    from riskmodel.store.batches import ResultStore

    try:
        settings = load_settings(config)
        result_store = ResultStore(store or settings.store.url)
        rows = result_store.outcomes.for_team(
            team, since=since.date() if since else None, effective=False
        )  # the whole log: void records (and the outcomes they void) included
        if not rows and team not in result_store.teams():
            raise fail(f"team {team} has no residents in the latest batch and no recorded outcomes")
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    if output_format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=1) + "\n")
        return
    if output_format == "csv":
        sys.stdout.write(csv_safe(pd.DataFrame(rows)).to_csv(index=False))
        return
    print_outcomes(rows, team)
