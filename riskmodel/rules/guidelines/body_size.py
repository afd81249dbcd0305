"""Body-size categories for Chinese adults (SPEC section 4.4).

References
----------
.. [WST428] WS/T 428-2013, Criteria of weight for adults (成人体重判定), National Health and Family
   Planning Commission of China, 2013: BMI < 18.5 underweight, 18.5-<24 normal, 24-<28 overweight,
   >= 28 obese; central obesity waist >= 90 cm (men) / >= 85 cm (women).
"""

from __future__ import annotations

import numpy as np

from riskmodel.vectorised import first_match

BMI_UNDERWEIGHT_BELOW = 18.5
BMI_OVERWEIGHT_FROM = 24.0
BMI_OBESE_FROM = 28.0
WAIST_CENTRAL_OBESITY_MEN_CM = 90.0
WAIST_CENTRAL_OBESITY_WOMEN_CM = 85.0
"""[WST428] cut-points."""
WAIST_TO_HEIGHT_HIGH = 0.5
"""A waist-to-height ratio at or above this marks central adiposity (Ashwell M, Gunn P, Gibson S. Waist-to-height
ratio is a better screening tool than waist circumference and BMI for adult cardiometabolic risk factors:
systematic review and meta-analysis. Obes Rev 2012;13(3):275-86); not a WS/T 428 criterion."""

UNKNOWN, UNDERWEIGHT, NORMAL, OVERWEIGHT, OBESE = -1, 0, 1, 2, 3


def bmi_category(bmi_kg_m2: np.ndarray) -> np.ndarray:
    """``0`` underweight, ``1`` normal, ``2`` overweight, ``3`` obese, ``-1`` unknown [WST428]."""
    category = first_match(
        [bmi_kg_m2 < BMI_UNDERWEIGHT_BELOW, bmi_kg_m2 < BMI_OVERWEIGHT_FROM, bmi_kg_m2 < BMI_OBESE_FROM],
        [UNDERWEIGHT, NORMAL, OVERWEIGHT],
        default=OBESE,
    )
    return np.where(np.isnan(bmi_kg_m2), UNKNOWN, category).astype(np.int8)


def central_obesity_cutoff(is_male: np.ndarray) -> np.ndarray:
    """The waist cut-off that applies to each resident, cm [WST428]."""
    return np.where(is_male, WAIST_CENTRAL_OBESITY_MEN_CM, WAIST_CENTRAL_OBESITY_WOMEN_CM)


def central_obesity(waist_cm: np.ndarray, is_male: np.ndarray) -> np.ndarray:
    """Waist >= 90 cm (men) or >= 85 cm (women) [WST428]; False where unknown."""
    return waist_cm >= central_obesity_cutoff(is_male)
