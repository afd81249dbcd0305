"""Prioritised work lists per team (SPEC section 6).

The list holds every resident with an action, most urgent first (by the documented priority score of
:mod:`riskmodel.rules.actions`). A team's capacity truncates only ``follow_up_overdue`` and ``screen`` (each to
``capacity`` entries); classes 1-4 are never cut. Reasons are computed for the listed residents only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import resident_columns
from riskmodel.rules.actions import ACTIONS, TRUNCATED_ACTIONS
from riskmodel.scoring import assess
from riskmodel.worklist.explain import Lang, action_reason, finding_reasons, model_reasons

WORKLIST_COLUMNS = (
    "rank",
    "resident_id",
    "team_id",
    "grid_id",
    "action",
    "action_disease",
    "due_date",
    "priority",
    "tests",
    "diabetes_tier",
    "hypertension_tier",
    "overall_tier",
    "diabetes_p_chronic",
    "hypertension_p_chronic",
    "reasons",
)
_VALUE_COLUMNS = (
    "age_years",
    "bmi_kg_m2",
    "waist_cm",
    "sbp_mmhg",
    "dbp_mmhg",
    "fpg_mmol_l",
    "ogtt_2h_mmol_l",
    "hba1c_pct",
)


def _disease_test(tests: str, disease: str | None) -> str:
    """The test of the action's own disease out of the resident's test list."""
    if disease != "hypertension":
        return tests.split(", ")[0] if tests and tests != "BP" else ""
    return "BP" if "BP" in tests else ""


def _model_explanations(
    model: RiskModel, columns: dict[str, np.ndarray], assessment: Any, chosen: np.ndarray, lang: Lang, top: int
) -> dict[int, list[str]]:
    """Model reasons for listed residents whose action's disease tier the model decided (only they need one)."""
    explained: dict[int, list[str]] = {}
    for disease in ("diabetes", "hypertension"):
        rows = chosen[(assessment.action.disease[chosen] == disease) & (assessment.tiers[disease].source[chosen] == 2)]
        if not len(rows):
            continue
        sub_columns = {name: values[rows] for name, values in columns.items()}
        sub_derived = {name: values[rows] for name, values in assessment.derived.items()}
        words = model_reasons(model, sub_columns, sub_derived, disease, lang=lang, top=top)  # type: ignore[arg-type]
        explained.update({int(row): text for row, text in zip(rows, words, strict=True)})
    return explained


def select_entries(action: np.ndarray, priority: np.ndarray, capacity: int) -> np.ndarray:
    """Row positions on the list: every action except ``none``, by priority, classes 5-6 cut to capacity."""
    on_list = action != "none"
    order = np.flatnonzero(on_list)[np.argsort(-priority[on_list], kind="stable")]
    keep = []
    taken = dict.fromkeys(TRUNCATED_ACTIONS, 0)
    for position in order:
        name = action[position]
        if name in taken:
            if taken[name] >= capacity:
                continue
            taken[name] += 1
        keep.append(position)
    return np.asarray(keep, dtype=np.int64)


def build_worklist(
    residents: pd.DataFrame,
    model: RiskModel,
    *,
    as_of: dt.date | str | None = None,
    capacity: int | None = None,
    lang: Lang = "zh",
    config: RiskConfig | None = None,
    probabilities: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The work list of the given residents (normally one team) as of a date.

    Parameters
    ----------
    residents
        Validated residents (from a file, or the store's latest batch).
    model
        The model; used for probabilities (unless given) and for the feature contributions in reasons.
    capacity
        Slots for each truncated list; the config's ``worklist.capacity`` by default.
    probabilities
        Probabilities already computed by batch scoring, so that the list matches the stored batch.
    """
    config = config or model.config
    capacity = capacity or config.worklist.capacity
    columns = resident_columns(residents)
    assessment = assess(columns, model, as_of=as_of, config=config, probabilities=probabilities)
    chosen = select_entries(assessment.action.action, assessment.action.priority, capacity)
    explained = _model_explanations(model, columns, assessment, chosen, lang, config.worklist.top_features)
    tier_names = {disease: assessment.tiers[disease].tier_names() for disease in ("diabetes", "hypertension")}
    ids = residents["resident_id"].to_numpy(dtype=object)
    teams = residents["team_id"].to_numpy(dtype=object)
    grids = residents["grid_id"].to_numpy(dtype=object, na_value=None)
    entries: list[dict[str, Any]] = []
    for rank, position in enumerate(chosen, start=1):
        i = int(position)
        disease = assessment.action.disease[i]
        tests = assessment.action.tests[i]
        values = {name: float(columns[name][i]) for name in _VALUE_COLUMNS}
        values["cdrs_points"] = float(assessment.cdrs.total[i])
        values["is_male"] = float(columns["sex"][i] == "M")
        diseases = (disease,) if disease else ("diabetes", "hypertension")
        own_test = _disease_test(tests, disease)
        confirmed = bool(disease and assessment.tiers[disease].confirmed[i])
        reasons = [action_reason(assessment.action.action[i], disease, own_test, lang, values, confirmed=confirmed)]
        reasons += finding_reasons(assessment.findings, values, i, diseases, lang)
        reasons += explained.get(i, [])
        entries.append(
            {
                "rank": rank,
                "resident_id": ids[i],
                "team_id": teams[i],
                "grid_id": grids[i],
                "action": assessment.action.action[i],
                "action_disease": disease,
                "due_date": pd.Timestamp(assessment.action.due[i]).date(),
                "priority": float(assessment.action.priority[i]),
                "tests": tests,
                "diabetes_tier": tier_names["diabetes"][i],
                "hypertension_tier": tier_names["hypertension"][i],
                "overall_tier": assessment.overall[i],
                "diabetes_p_chronic": float(assessment.probabilities["diabetes"][i, 2]),
                "hypertension_p_chronic": float(assessment.probabilities["hypertension"][i, 2]),
                "reasons": reasons,
            }
        )
    return pd.DataFrame(entries, columns=list(WORKLIST_COLUMNS))


def action_counts(worklist: pd.DataFrame) -> dict[str, int]:
    """Entries per action class, in SPEC order."""
    counts = worklist["action"].value_counts().to_dict() if len(worklist) else {}
    return {name: int(counts.get(name, 0)) for name in ACTIONS if name != "none"}


def team_worklist(
    store: Any,
    team_id: str,
    model: RiskModel,
    *,
    as_of: dt.date | str | None = None,
    capacity: int | None = None,
    lang: Lang = "zh",
    config: RiskConfig | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A team's work list from the store's latest complete batch, with the batch's probabilities.

    Returns the list and the batch it came from. Raises :class:`~riskmodel.exceptions.StoreError` when the
    store has no complete batch, and :class:`LookupError` when the team has no residents in it.
    """
    from riskmodel.store.batches import stored_probabilities

    residents, batch = store.team_residents(team_id)
    if residents.empty:
        raise LookupError(f"team {team_id} has no residents in the latest batch")
    when = as_of or batch["as_of"]
    worklist = build_worklist(
        residents,
        model,
        as_of=when,
        capacity=capacity,
        lang=lang,
        config=config,
        probabilities=stored_probabilities(residents),
    )
    return worklist, {**batch, "worklist_as_of": str(pd.Timestamp(when).date())}
