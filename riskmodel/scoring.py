"""The one scoring path (SPEC section 3 and STYLE rule 3).

record -> (validated columns) -> features -> model probabilities -> guideline findings -> tier -> action
and due date -> assessment. The library, the batch job, the Spark job and the API all call
:func:`assess` (directly, or through :func:`score_frame` for validated frames).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import numpy as np
import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.model.features import derived_features
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.history import STATE_COLUMNS, row_state, with_latest_values
from riskmodel.records.reading import resident_columns
from riskmodel.records.schema import DISEASES, OUTPUT_COLUMNS, TIERS
from riskmodel.rules.actions import DueActions, ResidentAction, combine, diabetes_actions, hypertension_actions
from riskmodel.rules.as_of import StateAsOf
from riskmodel.rules.guidelines.cdrs import CdrsScore, cdrs_score
from riskmodel.rules.guidelines.findings import diabetes_findings, guideline_high_risk, hypertension_findings
from riskmodel.rules.guidelines.glycaemia import glycaemic_status
from riskmodel.rules.tiers import DiseaseTier, diabetes_tier, hypertension_tier, overall_tier, policy_tier

TIER_ARRAY = np.array(TIERS, dtype=object)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _quiet(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """One ``np.errstate`` for the whole scoring path: missing values (NaN, NaT) flow through comparisons and
    ratios by design, and one context per call costs less than one per rule on a single resident."""

    @functools.wraps(function)
    def quiet(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with np.errstate(invalid="ignore", divide="ignore"):
            return function(*args, **kwargs)

    return quiet


@dataclass(frozen=True)
class Assessment:
    """Assessments of a batch of residents, column-wise.

    Attributes
    ----------
    columns
        The resident columns with each measure's latest value (row or events) in place.
    state
        The derived state (:mod:`riskmodel.records.history`): each measure with its date, follow-ups,
        uncontrolled streaks, confirmations.
    tiers
        Per disease: tier, source and confirmation.
    guideline_high_risk
        Per disease: SPEC 3's guideline high-risk flag.
    probabilities
        Per disease: calibrated (n, 3) P(healthy), P(high_risk), P(chronic).
    findings
        Guideline findings per criterion code (see :data:`riskmodel.rules.guidelines.FINDINGS`).
    cdrs
        CDRS per item and total.
    actions
        Every due action per disease (:class:`~riskmodel.rules.actions.DueActions`).
    action
        The most urgent action, its due date, priority, disease and the tests to order.
    derived
        Derived feature columns (reused for explanations).
    model_version
        The model that produced the probabilities.
    as_of
        The date it was assessed against.
    """

    columns: dict[str, np.ndarray]
    state: dict[str, np.ndarray]
    tiers: dict[str, DiseaseTier]
    guideline_high_risk: dict[str, np.ndarray]
    overall: np.ndarray
    probabilities: dict[str, np.ndarray]
    findings: dict[str, np.ndarray]
    cdrs: CdrsScore
    actions: DueActions
    action: ResidentAction
    derived: dict[str, np.ndarray]
    model_version: str
    control_profile: str
    as_of: np.datetime64

    def __len__(self) -> int:
        return len(self.overall)


def as_of_day(as_of: dt.date | np.datetime64 | str | None, config: RiskConfig | None = None) -> np.datetime64:
    """The as-of date as ``datetime64[D]``; today in the configured time zone when ``None`` (SPEC 8)."""
    if as_of is None:
        return np.datetime64((config or RiskConfig()).deployment.today(), "D")
    if type(as_of) is dt.date:  # the API's and the batch's case, without a pandas Timestamp
        return np.datetime64(as_of, "D")
    return np.datetime64(pd.Timestamp(as_of).date(), "D")


@_quiet
def assess(
    columns: Mapping[str, np.ndarray],
    model: RiskModel,
    *,
    as_of: dt.date | np.datetime64 | str | None = None,
    config: RiskConfig | None = None,
    num_threads: int = 0,
    probabilities: Mapping[str, np.ndarray] | None = None,
    state: Mapping[str, np.ndarray] | None = None,
) -> Assessment:
    """Assess residents given as validated columns (:func:`riskmodel.records.reading.resident_columns`).

    Parameters
    ----------
    columns
        Schema columns as numpy arrays.
    model
        The fitted tier models.
    as_of
        The date results are judged fresh and actions fall due against; today (configured zone) by default.
    config
        Policy (thresholds, intervals); the model's own training config by default.
    num_threads
        LightGBM threads for prediction (0: all cores; 1 is fastest for a handful of residents).
    probabilities
        Probabilities computed earlier (e.g. by the batch that filled the store); the model is not run.
    state
        The residents' state derived from their events (:mod:`riskmodel.records.derivation`); the row's
        own state when ``None`` (a version-1 input).
    """
    config = config or model.config
    state = dict(state) if state is not None else row_state(columns)
    inputs = _rule_inputs(columns, state)
    derived = None
    if probabilities is None:
        columns_now, cdrs, htn_findings = inputs
        derived = derived_features(columns_now, cdrs.total, htn_findings)
        probabilities = model.predict(columns_now, derived, num_threads=num_threads)
    return _assess_rules(
        inputs,
        state,
        probabilities,
        as_of=as_of,
        config=config,
        model_version=model.version,
        screen_cuts=getattr(model, "screen_cuts", None),
        derived=derived,
    )


def _rule_inputs(
    columns: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], CdrsScore, dict[str, np.ndarray]]:
    """What both the model's features and the rules read: the columns with each measure's latest value, CDRS
    and the BPHS hypertension findings (computed once per call)."""
    columns_now = with_latest_values(columns, state)
    cdrs = cdrs_score(
        columns_now["age_years"],
        columns_now["bmi_kg_m2"],
        columns_now["waist_cm"],
        columns_now["sbp_mmhg"],
        columns_now["family_history_diabetes"],
        columns_now["sex"] == "M",
    )
    return columns_now, cdrs, hypertension_findings(columns_now)


@_quiet
def assess_rules(
    columns: Mapping[str, np.ndarray],
    probabilities: Mapping[str, np.ndarray],
    *,
    as_of: dt.date | np.datetime64 | str | None,
    config: RiskConfig,
    state: Mapping[str, np.ndarray] | None = None,
    model_version: str = "",
    screen_cuts: Mapping[str, float] | None = None,
    derived: dict[str, np.ndarray] | None = None,
) -> Assessment:
    """The rules of SPEC sections 3-6 given the model's probabilities: a pure function of the residents, their
    state, the probabilities and the as-of date (what :func:`assess` runs after the model)."""
    state = dict(state) if state is not None else row_state(columns)
    return _assess_rules(
        _rule_inputs(columns, state),
        state,
        probabilities,
        as_of=as_of,
        config=config,
        model_version=model_version,
        screen_cuts=screen_cuts,
        derived=derived,
    )


def _assess_rules(
    inputs: tuple[dict[str, np.ndarray], CdrsScore, dict[str, np.ndarray]],
    state: dict[str, np.ndarray],
    probabilities: Mapping[str, np.ndarray],
    *,
    as_of: dt.date | np.datetime64 | str | None,
    config: RiskConfig,
    model_version: str,
    screen_cuts: Mapping[str, float] | None,
    derived: dict[str, np.ndarray] | None,
) -> Assessment:
    day = as_of_day(as_of, config)
    columns, cdrs, htn_findings = inputs
    derived = derived if derived is not None else derived_features(columns, cdrs.total, htn_findings)
    probabilities = dict(probabilities)
    dm_p, htn_p = probabilities["diabetes"], probabilities["hypertension"]
    cuts = dict(screen_cuts or {})
    facts = StateAsOf(columns, state, day, config)
    tiers = {
        "diabetes": diabetes_tier(
            facts, cdrs=cdrs, model_tier=policy_tier(dm_p[:, 1], dm_p[:, 2], config, cuts.get("diabetes"))
        ),
        "hypertension": hypertension_tier(
            facts, model_tier=policy_tier(htn_p[:, 1], htn_p[:, 2], config, cuts.get("hypertension"))
        ),
    }
    history = glycaemic_status(
        columns["fpg_mmol_l"],
        columns["ogtt_2h_mmol_l"],
        columns["hba1c_pct"],
        criteria=config.glycaemia.criteria,
        use_hba1c_prediabetes=config.glycaemia.hba1c_prediabetes,
    )
    managed = {disease: facts.recorded(disease) for disease in DISEASES}
    htn = tiers["hypertension"]
    findings = {
        **diabetes_findings(
            columns,
            history,
            cdrs.total,
            cdrs_in_age=cdrs.in_validated_age,
            prediabetes_history=state["prediabetes_history"],
            # SPEC 13.5: CDS's "hypertension or on antihypertensives" only for a recorded or confirmed one
            hypertension_known=managed["hypertension"] | (htn.confirmed & (htn.tier == 2)),
            profile=config.glycaemia.high_risk_profile,
            overweight=htn_findings["htn_overweight"],  # the same criterion on the same columns
        ),
        **htn_findings,
    }
    flags = {
        disease: guideline_high_risk(findings, managed[disease], disease, profile=config.glycaemia.high_risk_profile)
        for disease in DISEASES
    }
    actions = combine(
        diabetes_actions(
            facts, tiers["diabetes"], dm_p, cdrs=cdrs, guideline_high_risk=flags["diabetes"], glycaemia=history
        ),
        hypertension_actions(facts, tiers["hypertension"], htn_p, guideline_high_risk=flags["hypertension"]),
        config=config,
    )
    return Assessment(
        columns=columns,
        state=state,
        tiers=tiers,
        guideline_high_risk=flags,
        overall=TIER_ARRAY[overall_tier(tiers["diabetes"].tier, tiers["hypertension"].tier)],
        probabilities=probabilities,
        findings=findings,
        cdrs=cdrs,
        actions=actions,
        action=actions.most_urgent(),
        derived=derived,
        model_version=model_version,
        control_profile=config.control.profile,
        as_of=day,
    )


def output_columns(assessment: Assessment) -> dict[str, np.ndarray]:
    """The batch output columns of SPEC section 7, in order."""
    out: dict[str, np.ndarray] = {}
    for disease in DISEASES:
        out[f"{disease}_tier"] = assessment.tiers[disease].tier_names()
    out["overall_tier"] = assessment.overall
    for disease in DISEASES:
        out[f"{disease}_tier_source"] = assessment.tiers[disease].source_names()
    for disease in DISEASES:
        out[f"{disease}_confirmed"] = assessment.tiers[disease].confirmed
    for disease in DISEASES:
        out[f"{disease}_guideline_high_risk"] = assessment.guideline_high_risk[disease]
    for disease in DISEASES:
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
    if tuple(out) != OUTPUT_COLUMNS:  # the contract's order; a code change that breaks it fails loudly
        raise RuntimeError(f"output columns {tuple(out)} differ from the contract {OUTPUT_COLUMNS}")
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
    """The input frame with the output columns appended, then the derived state the store keeps
    (``state_*``; output files leave those out)."""
    outputs = output_columns(assessment)
    extra = {f"state_{name}": assessment.state[name] for name in STATE_COLUMNS}
    frame = pd.concat([residents.reset_index(drop=True), pd.DataFrame({**outputs, **extra})], axis=1).set_axis(
        residents.index
    )
    frame["due_date"] = frame["due_date"].astype("datetime64[s]")
    return frame
