"""Operations and security on the command line (SPEC 16): keys issued per person, the audit log, voiding an
outcome recorded in error, erasing a resident's notes on request; and the audit row of a CLI write."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from riskmodel.cli.console import console
from riskmodel.cli.conventions import fail
from riskmodel.exceptions import RiskModelError

if TYPE_CHECKING:
    from riskmodel.config import RiskConfig
    from riskmodel.store.batches import ResultStore

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML config file (default: configs/default.yaml).", show_default=False)
]
StoreOption = Annotated[
    str | None, typer.Option("--store", help="Result store URL (default: store.url in the config).", show_default=False)
]
EXIT_CODES = "Exit codes: 0 success; 1 an input, config or store problem (one line says which); 2 usage."
FORMATS = ("table", "csv", "json")

keys_app = typer.Typer(
    help="API keys issued per person: only each key's SHA-256 digest is stored. " + EXIT_CODES,
    no_args_is_help=True,
)


def _open(store: str | None, config: Path | None) -> tuple[ResultStore, RiskConfig]:
    from riskmodel.config import load_config
    from riskmodel.store.batches import ResultStore

    settings = load_config(config)
    return ResultStore(store or settings.store.url), settings


def audit_write(
    store: ResultStore | None,
    settings: RiskConfig,
    command: str,
    *,
    teams: list[str] | None = None,
    residents: int,
    request_id: str | None = None,
) -> None:
    """The audit row of a write from the command line (``cli:<os user>``); a published batch's teams are read
    from the store when not given."""
    from riskmodel.store.audit import AuditEntry, cli_actor

    if store is None:
        return
    if teams is None:
        teams = store.teams()
    store.audit(settings.deployment.timezone).record(
        AuditEntry(cli_actor(), "write", command, teams, residents, request_id=request_id)
    )


@keys_app.command("add")
def keys_add(
    label: Annotated[str, typer.Option("--label", help="Who the key is for (unique; recorded with what it does).")],
    teams: Annotated[str, typer.Option("--teams", help="Teams it may read and write, comma-separated, or *.")],
    scopes: Annotated[str, typer.Option("--scopes", help="read, write and/or contact, comma-separated.")] = "read",
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Issue a key: printed once, never stored (only its digest is). A label already issued is an error."""
    from riskmodel.store.keys import KeyIssueError

    try:
        result_store, _ = _open(store, config)
        key = result_store.keys.add(label, tuple(teams.split(",")), tuple(s.strip() for s in scopes.split(",")))
    except (KeyIssueError, RiskModelError) as exc:
        raise fail(str(exc)) from exc
    sys.stdout.write(key + "\n")
    console.print(f"issued a key for '{label}': copy it now, it is not shown again", highlight=False, markup=False)


@keys_app.command("list")
def keys_list(
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Issued keys: labels, teams, scopes, when created and revoked (never a key or its digest)."""
    if output_format not in FORMATS:
        raise fail(f"--format must be table, csv or json, not '{output_format}'")
    try:
        result_store, _ = _open(store, config)
        rows = [key.public() for key in result_store.keys.all()]
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    _show(rows, output_format, "API keys", ("label", "teams", "scopes", "created_at", "revoked_at"))


@keys_app.command("revoke")
def keys_revoke(
    label: Annotated[str, typer.Option("--label", help="The key's label.")],
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Revoke a key: refused from the next request on (its label stays taken)."""
    from riskmodel.store.keys import KeyIssueError

    try:
        result_store, _ = _open(store, config)
        result_store.keys.revoke(label)
    except (KeyIssueError, RiskModelError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"revoked the key labelled '{label}'", highlight=False, markup=False)


def audit(
    since: Annotated[
        dt.datetime, typer.Option("--since", formats=["%Y-%m-%d"], help="From this local date (deployment.timezone).")
    ],
    key: Annotated[
        str | None, typer.Option("--key", help="Only this key label (or cli:<user>).", show_default=False)
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """The audit log: every read and write of residents' data, oldest first. Exit codes: 0 success; 1 an input,
    config or store problem; 2 usage."""
    if output_format not in FORMATS:
        raise fail(f"--format must be table, csv or json, not '{output_format}'")
    try:
        result_store, settings = _open(store, config)
        rows = result_store.audit(settings.deployment.timezone).since(since.date(), actor=key)
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    from riskmodel.store.audit import AUDIT_FIELDS

    _show(rows, output_format, f"audit log since {since.date()}", AUDIT_FIELDS)


def void(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    outcome_id: Annotated[str, typer.Option("--id", help="The outcome_id of the outcome recorded in error.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is voided.")],
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Void an outcome recorded in error: a new void record names it, with the reason; the voided outcome stops
    taking effect on the list and indicators. Exit codes: 0 success; 1 an input, config or store problem; 2 usage."""
    import getpass

    from riskmodel.worklist.team import OutcomeError, void_outcome

    try:
        result_store, settings = _open(store, config)
        row = void_outcome(
            result_store,
            team,
            outcome_id,
            reason,
            today=settings.deployment.today(),
            recorded_by=f"cli-{getpass.getuser()}",
            config=settings,
        )
        audit_write(result_store, settings, "void", teams=[team], residents=1)
    except (OutcomeError, RiskModelError) as exc:
        raise fail(str(exc)) from exc
    console.print(f"voided {outcome_id} ({row['outcome_id']})", highlight=False, markup=False)


def erase(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    resident: Annotated[str, typer.Option("--resident", help="Resident id.")],
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Erase a resident's free-text notes on request (PIPL), leaving an audit row. Exit codes: 0 success; 1 an
    input, config or store problem (an unknown team or resident); 2 usage."""
    from riskmodel.store.audit import cli_actor

    try:
        result_store, settings = _open(store, config)
        known = result_store.outcomes.for_team(team, resident_id=resident, effective=False)
        if not known and (team not in result_store.teams() or result_store.resident_of_team(team, resident)[0] is None):
            raise fail(f"team {team} has no resident {resident} in the store")
        erased = result_store.erase_resident(team, resident, actor=cli_actor(), timezone=settings.deployment.timezone)
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    console.print(
        "erased: " + ", ".join(f"{count} {kind}" for kind, count in erased.items()), highlight=False, markup=False
    )


def _show(rows: list[dict[str, Any]], output_format: str, title: str, names: tuple[str, ...]) -> None:
    import pandas as pd

    from riskmodel.records.writing import csv_safe

    if output_format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=1) + "\n")
        return
    if output_format == "csv":
        frame = pd.DataFrame(rows, columns=list(names))
        for name in frame.columns:
            frame[name] = frame[name].map(lambda v: ",".join(v) if isinstance(v, (list, tuple)) else v)
        sys.stdout.write(csv_safe(frame).to_csv(index=False))
        return
    table = Table(title=title)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*(Text(_cell(row[name])) for name in names))  # Text: a value is never read as markup
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.command()(audit)
    app.command()(void)
    app.command()(erase)
