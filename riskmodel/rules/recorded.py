"""Whether a disease is recorded for a resident: a diagnosis or treatment (SPEC section 3, source ``record``).

A rule, so it lives with the rules: the tiers, the actions, the model's labels and the records module all read
this one definition.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def recorded_in_row(columns: Mapping[str, np.ndarray], disease: str) -> np.ndarray:
    """A diagnosis or treatment of the disease is recorded in the resident row."""
    if disease == "diabetes":
        return (columns["diagnosed_diabetes"] == 1.0) | (columns["on_glucose_lowering"] == 1.0)
    return (columns["diagnosed_hypertension"] == 1.0) | (columns["on_antihypertensive"] == 1.0)


def recorded(columns: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray], disease: str) -> np.ndarray:
    """A diagnosis or treatment of the disease is recorded: in the row, or by its events (a diagnosis, a
    follow-up, treatment)."""
    return recorded_in_row(columns, disease) | (state[f"{disease}_recorded_by_events"] == 1.0)
