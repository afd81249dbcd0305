"""The one scoring path (riskmodel.scoring; STYLE rule 3, SPEC 10 version 3): the same rules serve one record and
a million. A resident assessed alone, with their history, gets exactly what they get among 400 others; the same
as-of date gives the same answer; and the rules over stored probabilities (how the store's lists are rebuilt)
give what the assessment gave."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from riskmodel.intake import assess_records
from riskmodel.model.tier_model import RiskModel
from riskmodel.scoring import Assessment, assess_rules, output_columns
from riskmodel.synth import write_population
from riskmodel.synth.population import events_path

AS_OF = dt.date(2026, 7, 1)


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, pa.Table]:
    """400 synthetic residents with 3-year histories (follow-ups, checks, results, referrals)."""
    path = tmp_path_factory.mktemp("scoring") / "residents.parquet"
    write_population(Path(path), 400, teams=1, seed=17, as_of=AS_OF, history_years=3)
    return pq.read_table(path), pq.read_table(events_path(path))


def _rows(assessment: Assessment) -> dict[str, np.ndarray]:
    """What a resident is told (SPEC 7's columns) and the state it rests on."""
    out = output_columns(assessment)
    return out | {f"state_{name}": values for name, values in assessment.state.items()}


def _assert_same(batch: dict[str, np.ndarray], at: int, alone: dict[str, np.ndarray], resident: str) -> None:
    for name, values in batch.items():
        mine, theirs = values[at], alone[name][0]
        if isinstance(mine, float | np.floating) and name.endswith(("_p_healthy", "_p_high_risk", "_p_chronic")):
            # LightGBM's one-row path sums the same trees in another order (equal within 1e-12)
            assert theirs == pytest.approx(mine, abs=1e-12), (resident, name)
        elif pd.isna(mine):
            assert pd.isna(theirs), (resident, name, theirs)
        else:
            assert theirs == mine, (resident, name, mine, theirs)


def test_one_resident_alone_is_assessed_as_among_many(model: RiskModel, histories: tuple[pa.Table, pa.Table]) -> None:
    residents, events = histories
    together = assess_records(residents, events, as_of=AS_OF, model=model)
    assert together.assessment is not None and len(together.resident_ids) == residents.num_rows
    batch = _rows(together.assessment)
    ids = together.resident_ids
    with_events = set(events.column("resident_id").to_pylist())
    # every kind of resident: with a history and without, chronic, high-risk and healthy
    sample = [i for i in range(len(ids)) if ids[i] in with_events][:30] + [
        i for i in range(len(ids)) if ids[i] not in with_events
    ][:5]
    assert len({batch["overall_tier"][i] for i in sample}) >= 2
    for at in sample:
        resident = ids[at]
        mine = events.filter(pc.equal(events.column("resident_id"), resident))
        one = residents.filter(pc.equal(residents.column("resident_id"), resident))
        alone = assess_records(one, mine, as_of=AS_OF, model=model, num_threads=1)
        assert alone.assessment is not None
        _assert_same(batch, at, _rows(alone.assessment), resident)


def test_the_same_as_of_date_gives_the_same_answer(model: RiskModel, histories: tuple[pa.Table, pa.Table]) -> None:
    residents, events = histories
    first = assess_records(residents, events, as_of=AS_OF, model=model).assessment
    again = assess_records(residents, events, as_of=AS_OF, model=model).assessment
    assert first is not None and again is not None
    for name, values in _rows(first).items():
        np.testing.assert_array_equal(values, _rows(again)[name], err_msg=name)


def test_the_rules_over_stored_probabilities_give_the_assessment(
    model: RiskModel, histories: tuple[pa.Table, pa.Table]
) -> None:
    residents, events = histories
    result = assess_records(residents, events, as_of=AS_OF, model=model)
    assessment = result.assessment
    assert assessment is not None
    rebuilt = assess_rules(
        result.columns,
        assessment.probabilities,
        as_of=AS_OF,
        config=model.config,
        state=assessment.state,
        model_version=assessment.model_version,
        screen_cuts=model.screen_cuts,
    )
    for name, values in output_columns(assessment).items():
        np.testing.assert_array_equal(values, output_columns(rebuilt)[name], err_msg=name)


def test_dated_facts_do_not_move_with_a_later_as_of_date(
    model: RiskModel, histories: tuple[pa.Table, pa.Table]
) -> None:
    """Re-run a year on with the same records and events: each value keeps the date it was taken on (a value
    carries its date; only what is fresh or due changes with the as-of date)."""
    residents, events = histories
    now = assess_records(residents, events, as_of=AS_OF, model=model).assessment
    later = assess_records(residents, events, as_of=AS_OF + dt.timedelta(days=365), model=model).assessment
    assert now is not None and later is not None
    before, after = now.state, later.state
    for name in ("hypertension_last_followup_date", "diabetes_last_followup_date", "bp_date", "fpg_date", "hba1c_date"):
        np.testing.assert_array_equal(before[name], after[name], err_msg=name)  # the history itself is unchanged
