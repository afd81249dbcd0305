"""Guideline rules (SPEC section 4): pure, vectorised functions over numpy columns, each with its source.

Guideline thresholds are named constants beside the rule that uses them; the numbers we chose ourselves
live in :mod:`riskmodel.config`.
"""

from riskmodel.rules.guidelines.blood_pressure import (
    bp_category,
    bp_controlled,
    bp_emergency,
    bp_grade,
    bphs_high_risk_band,
)
from riskmodel.rules.guidelines.body_size import bmi_category, central_obesity
from riskmodel.rules.guidelines.cdrs import CDRS_HIGH_RISK_POINTS, CdrsScore, cdrs_score
from riskmodel.rules.guidelines.findings import FINDINGS, Finding, diabetes_findings, hypertension_findings
from riskmodel.rules.guidelines.glycaemia import (
    GlycaemicStatus,
    glucose_controlled,
    glucose_emergency,
    glycaemic_status,
)

__all__ = [
    "CDRS_HIGH_RISK_POINTS",
    "FINDINGS",
    "CdrsScore",
    "Finding",
    "GlycaemicStatus",
    "bmi_category",
    "bp_category",
    "bp_controlled",
    "bp_emergency",
    "bp_grade",
    "bphs_high_risk_band",
    "cdrs_score",
    "central_obesity",
    "diabetes_findings",
    "glucose_controlled",
    "glucose_emergency",
    "glycaemic_status",
    "hypertension_findings",
]
