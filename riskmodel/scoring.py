"""The one scoring path (SPEC section 3 and STYLE rule 3).

record -> (validated columns) -> features -> model probabilities -> guideline findings -> tier -> action
and due date -> assessment. The library, the batch job, the Spark job and the API all call
:func:`assess` (directly, or through :func:`score_frame` for validated frames).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.model.features import derived_features
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import resident_columns
from riskmodel.records.schema import OUTPUT_COLUMNS, TIERS
from riskmodel.rules.actions import ResidentAction, diabetes_action, hypertension_action, resident_action
from riskmodel.rules.guidelines.cdrs import CdrsScore, cdrs_score
from riskmodel.rules.guidelines.findings import diabetes_findings, hypertension_findings
from riskmodel.rules.guidelines.glycaemia import glycaemic_status
from riskmodel.rules.tiers import DiseaseTier, diabetes_tier, hypertension_tier, overall_tier, policy_tier

TIER_ARRAY = np.array(TIERS, dtype=object)


@dataclass(frozen=True)
class Assessment:
    """Assessments of a batch of residents, column-wise.

    Attributes
    ----------
    tiers
        Per disease: tier, source and confirmation.
    probabilities
        Per disease: calibrated (n, 3) P(healthy), P(high_risk), P(chronic).
    findings
        Guideline findings per criterion code (see :data:`riskmodel.rules.guidelines.FINDINGS`).
    cdrs
        CDRS per item and total.
    action
        Action, due date, priority, the disease behind it and the tests to order.
    derived
        Derived feature columns (reused for explanations).
    model_version
        The model that produced the probabilities.
    """

    tiers: dict[str, DiseaseTier]
    overall: np.ndarray
    probabilities: dict[str, np.ndarray]
    findings: dict[str, np.ndarray]
    cdrs: CdrsScore
    action: ResidentAction
    derived: dict[str, np.ndarray]
    model_version: str

    def __len__(self) -> int:
        return len(self.overall)


def as_of_day(as_of: dt.date | np.datetime64 | str | None) -> np.datetime64:
    """The as-of date as ``datetime64[D]``; today when ``None``."""
    if as_of is None:
        return np.datetime64(dt.date.today(), "D")
    return np.datetime64(pd.Timestamp(as_of).date(), "D")


def assess(
    columns: Mapping[str, np.ndarray],
    model: RiskModel,
    *,
    as_of: dt.date | np.datetime64 | str | None = None,
    config: RiskConfig | None = None,
    num_threads: int = 0,
    probabilities: Mapping[str, np.ndarray] | None = None,
) -> Assessment:
    """Assess residents given as validated columns (:func:`riskmodel.records.resident_columns`).

    Parameters
    ----------
    columns
        Schema columns as numpy arrays.
    model
        The fitted tier models.
    as_of
        The date results are judged fresh and actions fall due against; today by default.
    config
        Policy (thresholds, intervals); the model's own training config by default.
    num_threads
        LightGBM threads for prediction (0: all cores; 1 is fastest for a handful of residents).
    probabilities
        Probabilities computed earlier (e.g. by the batch that filled the store); the model is not run.
    """
    config = config or model.config
    day = as_of_day(as_of)
    is_male = columns["sex"] == "M"
    cdrs = cdrs_score(
        columns["age_years"],
        columns["bmi_kg_m2"],
        columns["waist_cm"],
        columns["sbp_mmhg"],
        columns["family_history_diabetes"],
        is_male,
    )
    htn_findings = hypertension_findings(columns)
    derived = derived_features(columns, cdrs.total, htn_findings)
    probabilities = (
        dict(probabilities) if probabilities is not None else model.predict(columns, derived, num_threads=num_threads)
    )
    dm_p, htn_p = probabilities["diabetes"], probabilities["hypertension"]
    tiers = {
        "diabetes": diabetes_tier(
            columns, day, config, cdrs_total=cdrs.total, model_tier=policy_tier(dm_p[:, 1], dm_p[:, 2], config)
        ),
        "hypertension": hypertension_tier(
            columns, day, config, model_tier=policy_tier(htn_p[:, 1], htn_p[:, 2], config)
        ),
    }
    history = glycaemic_status(
        columns["fpg_mmol_l"],
        columns["ogtt_2h_mmol_l"],
        columns["hba1c_pct"],
        criteria=config.glycaemia.criteria,
        use_hba1c_prediabetes=config.glycaemia.hba1c_prediabetes,
    )
    findings = {
        **diabetes_findings(columns, history, cdrs.total, profile=config.glycaemia.high_risk_profile),
        **htn_findings,
    }
    action = resident_action(
        diabetes_action(columns, tiers["diabetes"], dm_p, day, config),
        hypertension_action(columns, tiers["hypertension"], htn_p, day, config),
    )
    return Assessment(
        tiers=tiers,
        overall=TIER_ARRAY[overall_tier(tiers["diabetes"].tier, tiers["hypertension"].tier)],
        probabilities=probabilities,
        findings=findings,
        cdrs=cdrs,
        action=action,
        derived=derived,
        model_version=model.version,
    )


def output_columns(assessment: Assessment) -> dict[str, np.ndarray]:
    """The batch output columns of SPEC section 7, in order."""
    out: dict[str, np.ndarray] = {}
    for disease in ("diabetes", "hypertension"):
        out[f"{disease}_tier"] = assessment.tiers[disease].tier_names()
    out["overall_tier"] = assessment.overall
    for disease in ("diabetes", "hypertension"):
        out[f"{disease}_tier_source"] = assessment.tiers[disease].source_names()
    for disease in ("diabetes", "hypertension"):
        p = assessment.probabilities[disease]
        out[f"{disease}_p_healthy"], out[f"{disease}_p_high_risk"], out[f"{disease}_p_chronic"] = (
            p[:, 0],
            p[:, 1],
            p[:, 2],
        )
    out["cdrs_points"] = assessment.cdrs.total.astype(np.int64)
    out["action"] = assessment.action.action
    out["due_date"] = assessment.action.due
    out["priority"] = assessment.action.priority
    out["model_version"] = np.full(len(assessment), assessment.model_version, dtype=object)
    assert tuple(out) == OUTPUT_COLUMNS  # the contract's order; a code change that breaks it fails loudly
    return out


def score_frame(
    residents: pd.DataFrame,
    model: RiskModel,
    *,
    as_of: dt.date | np.datetime64 | str | None = None,
    config: RiskConfig | None = None,
) -> pd.DataFrame:
    """Score validated residents: every input column, then the SPEC section 7 output columns."""
    assessment = assess(resident_columns(residents), model, as_of=as_of, config=config)
    return with_outputs(residents, assessment)


def with_outputs(residents: pd.DataFrame, assessment: Assessment) -> pd.DataFrame:
    """The input frame with the output columns appended (and the confirmation flags the store needs)."""
    outputs = output_columns(assessment)
    frame = residents.copy()
    for name, values in outputs.items():
        frame[name] = values
    frame["due_date"] = frame["due_date"].astype("datetime64[s]")
    return frame
