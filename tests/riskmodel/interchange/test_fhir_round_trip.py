"""SPEC 14.4: synth → FHIR → import gives the same assessments as synth itself (tiers, actions per resident)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.interchange import population_resources, read_fhir, write_import, write_ndjson
from riskmodel.interchange.settings import FhirSettings
from riskmodel.records.derivation import history_state
from riskmodel.records.events import validate_events
from riskmodel.records.reading import resident_columns
from riskmodel.records.validation import validate_table
from riskmodel.scoring import assess, assess_rules
from riskmodel.synth.population import events_path, write_population

AS_OF = dt.date(2026, 7, 1)


def _assess(residents_file: Path, config, model=None) -> pd.DataFrame:
    """Assessments of a residents file with its events: the trained ``model``'s probabilities, or fixed ones."""
    residents = validate_table(pq.read_table(residents_file)).residents
    events = validate_events(pq.read_table(events_path(residents_file)), as_of=AS_OF).events
    columns = resident_columns(residents)
    ids = residents["resident_id"].astype(str).to_numpy(dtype=object)
    state = history_state(columns, ids, events, as_of=AS_OF, config=config)
    n = len(ids)
    if model is not None:
        assessment = assess(columns, model, as_of=AS_OF, config=config, state=state)
    else:
        probabilities = {d: np.tile([0.8, 0.15, 0.05], (n, 1)) for d in ("diabetes", "hypertension")}
        assessment = assess_rules(columns, probabilities, as_of=AS_OF, config=config, state=state)
    from riskmodel.scoring import output_columns

    out = pd.DataFrame(output_columns(assessment))
    for d in ("diabetes", "hypertension"):
        out[f"{d}_p"] = np.asarray(assessment.probabilities[d])[:, 2] if model is not None else np.nan
    out.insert(0, "resident_id", ids)
    return out.sort_values("resident_id").reset_index(drop=True)


@pytest.mark.parametrize("residents", [300])
def test_synth_through_fhir_scores_the_same(tmp_path, config, residents):
    synth = tmp_path / "synth.parquet"
    write_population(synth, residents, teams=1, seed=7, as_of=AS_OF, history_years=3)
    frame = pq.read_table(synth).to_pandas()
    events = pq.read_table(events_path(synth)).to_pandas()
    files = write_ndjson(population_resources(frame, events, AS_OF, FhirSettings()), tmp_path / "fhir")
    imported = tmp_path / "imported.parquet"
    summary = write_import(read_fhir(files, as_of=AS_OF), imported, as_of=AS_OF)
    assert summary.rejected == 0 and summary.residents == residents
    before, after = _assess(synth, config), _assess(imported, config)
    columns = ["resident_id", "diabetes_tier", "hypertension_tier", "action", "due_date"]
    diff = before[columns].compare(after[columns])
    assert diff.empty, diff.head(20).to_string()


@pytest.mark.slow
def test_synth_through_fhir_scores_the_same_with_the_model(tmp_path, config, model):
    """The trained model's P(chronic) and the tiers, actions and due dates it leads to, per resident."""
    synth = tmp_path / "synth.parquet"
    write_population(synth, 300, teams=1, seed=11, as_of=AS_OF, history_years=3)
    frame = pq.read_table(synth).to_pandas()
    events = pq.read_table(events_path(synth)).to_pandas()
    files = write_ndjson(population_resources(frame, events, AS_OF, FhirSettings()), tmp_path / "fhir")
    imported = tmp_path / "imported.parquet"
    write_import(read_fhir(files, as_of=AS_OF), imported, as_of=AS_OF)
    assert_same_assessments(_assess(synth, config, model), _assess(imported, config, model))


def assert_same_assessments(before: pd.DataFrame, after: pd.DataFrame) -> None:
    columns = ["resident_id", "diabetes_tier", "hypertension_tier", "action", "due_date"]
    diff = before[columns].compare(after[columns])
    assert diff.empty, diff.head(20).to_string()
    for d in ("diabetes", "hypertension"):
        np.testing.assert_allclose(after[f"{d}_p"], before[f"{d}_p"], atol=1e-9, err_msg=d)
