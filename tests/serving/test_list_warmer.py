"""The API prepares a newly published batch for the teams it served lately (SPEC 10: a team's first page), so
that the first list after the nightly batch does not read the team's rows while its user waits."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

import riskmodel.worklist.team as team_module
from riskmodel.batch import score_file
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from riskmodel.worklist.entries import assess_residents
from riskmodel.worklist.team import team_worklist
from serving.state import ListWarmer, ModelHolder
from tests.conftest import SYNTH_AS_OF

TODAY = SYNTH_AS_OF + dt.timedelta(days=2)  # the date the API resolves at its edge


def _reads_of_scored_rows(store: ResultStore, call) -> int:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        call()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
    return sum("FROM scored_residents" in s and "count(" not in s.lower() for s in statements)


def test_a_new_batch_is_read_for_the_teams_served_lately_before_anyone_asks(tmp_path, model, config, monkeypatch):
    source = write_population(tmp_path / "teams.parquet", 600, teams=2, seed=4, as_of=SYNTH_AS_OF)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    score_file(source, tmp_path / "a.parquet", model, config=config, as_of=SYNTH_AS_OF, store=ResultStore(url))
    store = ResultStore(url)  # the API's store
    holder = ModelHolder(str(model.save(tmp_path / "model")), config)
    holder.load()
    warmer = ListWarmer(store, holder, config)
    assert warmer.check() == []  # the batch found at start-up: nothing served yet
    served, other = store.teams()
    team_worklist(store, served, model, today=TODAY, limit=50, config=config)

    nightly = SYNTH_AS_OF + dt.timedelta(days=1)  # the nightly run, another process
    score_file(source, tmp_path / "b.parquet", model, config=config, as_of=nightly, store=ResultStore(url))
    assert warmer.check() == [served]  # only the team served lately; the other waits for its first request
    assert warmer.check() == []  # the same batch again: nothing to do

    def first_page(team: str):  # type: ignore[no-untyped-def]  # as the list route asks: the served model, its own config
        return lambda: team_worklist(store, team, holder.current, today=TODAY, limit=50)

    made = []
    monkeypatch.setattr(team_module, "assess_residents", lambda *a, **k: made.append(1) or assess_residents(*a, **k))
    assert _reads_of_scored_rows(store, first_page(served)) == 0
    assert not made  # the warmed assessment is the one the request uses
    assert _reads_of_scored_rows(store, first_page(other)) == 1
    listing, batch = team_worklist(store, served, model, today=TODAY, limit=50, config=config)
    assert batch["as_of"] == nightly and listing.as_of == nightly
    store.dispose()
