"""``riskmodel contacts load`` and ``riskmodel reminders`` (SPEC 15): who to call, and what to text them.

Registered in :mod:`riskmodel.cli.commands`. Nothing here prints or logs a contact's value: loading reports
counts and row numbers only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from riskmodel.cli.console import console
from riskmodel.cli.conventions import (
    AsOfOption,
    ConfigOption,
    ModelOption,
    StoreOption,
    fail,
    load_fitted_model,
    load_settings,
)
from riskmodel.exceptions import RiskModelError
from riskmodel.records.writing import csv_safe

contacts_app = typer.Typer(
    help="The team's contacts (name, phone, address): stored apart, shown only on the team's own list.",
    no_args_is_help=True,
)


def store_contacts(path: Path, store_url: str | None, settings: Any) -> dict[str, Any]:
    """Load a contacts file into the store (``score``/``nightly --contacts``, ``contacts load``); counts only."""
    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.contacts import load_contacts

    loaded = load_contacts(
        ResultStore(store_url or settings.store.url), path, settings, today=settings.deployment.today()
    )
    return loaded.summary() | {"contacts_rejected_rows": [number for number, _, _ in loaded.rejected][:20]}


def prune_store_contacts(store_url: str | None, settings: Any) -> int:
    """Delete the contacts whose retention after the resident's removal ran out (every nightly run)."""
    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.contacts import prune_contacts

    return prune_contacts(ResultStore(store_url or settings.store.url), settings, today=settings.deployment.today())


@contacts_app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="Contacts, .csv or .parquet: resident_id, name, phone, address.")],
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Store a contacts file under each resident's team (the latest published batch's, or the file's team_id).

    Exit codes: 0 stored; 1 an unreadable file, no resident_id column, no published batch or a store problem."""
    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.contacts import load_contacts

    try:
        settings = load_settings(config)
        loaded = load_contacts(
            ResultStore(store or settings.store.url), file, settings, today=settings.deployment.today()
        )
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"read {loaded.rows_read:,} contacts: {loaded.stored:,} stored, {len(loaded.rejected):,} rejected, "
        f"{loaded.not_in_batch:,} not in the latest batch; {loaded.pruned:,} removed residents' contacts deleted",
        markup=False,
    )
    for number, column, reason in loaded.rejected[:20]:
        console.print(f"  row {number}: {column} {reason}", markup=False)


def reminders(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    within_days: Annotated[
        int, typer.Option("--within-days", min=0, max=90, help="Tasks due within this many days.")
    ] = 7,
    as_of: AsOfOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    store: StoreOption = None,
    model: ModelOption = None,
    config: ConfigOption = None,
) -> None:
    """智能提醒: one SMS text (at most 70 characters, no diagnosis) per resident with a task due in the window,
    for the team's own SMS or WeChat system; record the outcome 'reminded' to hide a resident's for 7 days.

    Exit codes: 0 printed; 1 an unknown team, no published batch, or a config or model problem."""
    import pandas as pd

    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.reminders import team_reminders

    if output_format not in ("table", "csv", "json"):
        raise fail(f"--format must be table, csv or json, not '{output_format}'")
    try:
        settings = load_settings(config)
        found, batch = team_reminders(
            ResultStore(store or settings.store.url),
            team,
            load_fitted_model(model, settings),
            today=settings.deployment.today(),
            within_days=within_days,
            as_of=as_of.date() if as_of else None,
            config=settings,
        )
    except (RiskModelError, LookupError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    if output_format == "json":
        body = {"team_id": team, "list_date": batch["list_date"], "within_days": within_days, "reminders": found}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        return
    rows = pd.DataFrame(
        [{"resident_id": r["resident_id"], "due_date": r["due_date"] or "", "message": r["message"]} for r in found],
        columns=["resident_id", "due_date", "message"],
    )
    if output_format == "csv":
        sys.stdout.write(csv_safe(rows).to_csv(index=False))
        return
    from rich.table import Table

    table = Table(title=f"智能提醒 {team}（{batch['list_date']} 起 {within_days} 天内）")
    for name in ("resident_id", "due_date", "message"):
        table.add_column(name)
    for row in rows.itertuples(index=False):
        table.add_row(*(str(value) for value in row))
    console.print(table)
