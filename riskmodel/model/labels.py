"""Training labels (SPEC section 3): the tier a resident's own measurements give, by the guideline rules.

Residents with a recorded diagnosis or treatment are ``chronic``; otherwise every defining measurement in
the record counts (a label describes the person when measured, whatever the date); residents with no
defining measurement get no label (``-1``) and are left out of training and evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.model.features import Disease
from riskmodel.rules.guidelines.glycaemia import glycaemic_status
from riskmodel.rules.recorded import recorded_in_row
from riskmodel.rules.tiers import CHRONIC, bp_tier, glycaemic_tier


def tier_labels(columns: Mapping[str, np.ndarray], disease: Disease, config: RiskConfig) -> np.ndarray:
    """0 healthy, 1 high_risk, 2 chronic, -1 no defining measurement and no record."""
    if disease == "diabetes":
        status = glycaemic_status(
            columns["fpg_mmol_l"],
            columns["ogtt_2h_mmol_l"],
            columns["hba1c_pct"],
            criteria=config.glycaemia.criteria,
            use_hba1c_prediabetes=config.glycaemia.hba1c_prediabetes,
        )
        measured = glycaemic_tier(status.category)
    else:
        measured = bp_tier(columns["sbp_mmhg"], columns["dbp_mmhg"])
    return np.where(recorded_in_row(columns, disease), CHRONIC, measured).astype(np.int8)


def served_labelled(
    columns: Mapping[str, np.ndarray], disease: Disease, config: RiskConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, labels): the residents the disease's model serves (nothing recorded) that carry a label (a defining
    measurement), and every resident's label; the population models are fitted, recalibrated and judged on."""
    labels = tier_labels(columns, disease, config)
    return (labels >= 0) & ~recorded_in_row(columns, disease), labels
