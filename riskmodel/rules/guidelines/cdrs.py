"""The Chinese Diabetes Risk Score (SPEC section 4.3).

References
----------
.. [Zhou2013] Zhou X, Qiao Q, Ji L, et al. Nonlaboratory-based risk assessment algorithm for undiagnosed
   type 2 diabetes developed on a nation-wide diabetes survey. Diabetes Care 2013;36(12):3944-52.
   0-51 points; >= 25 high risk; derived and validated for ages 20-74. Also adopted by CDS 2020
   (screening section) for opportunistic screening.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

CDRS_HIGH_RISK_POINTS = 25
"""A total of 25 points or more is high risk [Zhou2013]."""
CDRS_VALID_AGE_YEARS = (20, 74)
"""The score was derived and validated in ages 20-74 [Zhou2013]."""

# (lower bound, points) per item, ascending; the last bound reached gives the points [Zhou2013].
AGE_POINTS = ((25, 4), (35, 8), (40, 11), (45, 12), (50, 13), (55, 15), (60, 16), (65, 18))
BMI_POINTS = ((22, 1), (24, 3), (30, 5))
WAIST_MEN_POINTS = ((75, 3), (80, 5), (85, 7), (90, 8), (95, 10))
WAIST_WOMEN_POINTS = ((70, 3), (75, 5), (80, 7), (85, 8), (90, 10))
SBP_POINTS = ((110, 1), (120, 3), (130, 6), (140, 7), (150, 8), (160, 10))
FAMILY_HISTORY_POINTS = 6
MALE_POINTS = 2

CDRS_ITEMS = ("age", "bmi", "waist", "sbp", "family_history", "sex")


@dataclass(frozen=True)
class CdrsScore:
    """CDRS per resident.

    Attributes
    ----------
    points
        Points per item (``CDRS_ITEMS``); a missing item scores 0.
    total
        Sum of the item points, 0-51.
    complete
        Every item was known.
    in_validated_age
        Age within 20-74, where the score was validated.
    """

    points: dict[str, np.ndarray]
    total: np.ndarray
    complete: np.ndarray
    in_validated_age: np.ndarray


@functools.cache
def _band_table(bands: tuple[tuple[float, int], ...]) -> tuple[np.ndarray, np.ndarray]:
    """The bands' lower bounds (ascending) and their points after a leading 0 (below the first band)."""
    lowers = np.array([lower for lower, _ in bands], dtype=np.float64)
    if np.any(np.diff(lowers) <= 0):
        raise ValueError(f"CDRS bands must ascend: {bands}")
    return lowers, np.array([0, *(score for _, score in bands)], dtype=np.int16)


def _banded(values: np.ndarray, bands: tuple[tuple[float, int], ...]) -> np.ndarray:
    """The points of the highest band whose lower bound the value reaches (0 below the first or unknown): one
    table look-up per resident."""
    lowers, scores = _band_table(bands)
    index = np.searchsorted(lowers, values, side="right")  # how many lower bounds are <= the value
    index[np.isnan(values)] = 0  # NaN sorts last: an unknown value scores 0
    return scores[index]


def cdrs_score(
    age_years: np.ndarray,
    bmi_kg_m2: np.ndarray,
    waist_cm: np.ndarray,
    sbp_mmhg: np.ndarray,
    family_history_diabetes: np.ndarray,
    is_male: np.ndarray,
) -> CdrsScore:
    """Score each resident; booleans as floats (1.0/0.0, NaN unknown).

    References
    ----------
    Zhou X et al., Diabetes Care 2013;36:3944-52.
    """
    waist_men = _banded(waist_cm, WAIST_MEN_POINTS)
    waist_women = _banded(waist_cm, WAIST_WOMEN_POINTS)
    points = {
        "age": _banded(age_years, AGE_POINTS),
        "bmi": _banded(bmi_kg_m2, BMI_POINTS),
        "waist": np.where(is_male, waist_men, waist_women).astype(np.int16),
        "sbp": _banded(sbp_mmhg, SBP_POINTS),
        "family_history": np.where(family_history_diabetes == 1.0, FAMILY_HISTORY_POINTS, 0).astype(np.int16),
        "sex": np.where(is_male, MALE_POINTS, 0).astype(np.int16),
    }
    total = sum(points.values(), np.zeros(len(age_years), dtype=np.int16))
    complete = ~(np.isnan(bmi_kg_m2) | np.isnan(waist_cm) | np.isnan(sbp_mmhg) | np.isnan(family_history_diabetes))
    low, high = CDRS_VALID_AGE_YEARS
    in_age = (age_years >= low) & (age_years < high + 1)
    return CdrsScore(points=points, total=total.astype(np.int16), complete=complete, in_validated_age=in_age)
