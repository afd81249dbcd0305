"""Glycaemic categories, control and emergency values (SPEC sections 4.1 and 4.5).

References
----------
.. [CDS2020] Chinese Diabetes Society. Guideline for the prevention and treatment of type 2 diabetes
   mellitus in China (2020 edition). Chin J Diabetes Mellitus 2021;13(4):315-409. Table: diagnostic
   criteria (WHO 1999): FPG >= 7.0, OGTT-2h >= 11.1, HbA1c >= 6.5 %; IFG 6.1-<7.0; IGT 7.8-<11.1.
.. [ADA2024] American Diabetes Association. Standards of Care in Diabetes-2024, section 2: prediabetes
   FPG 5.6-6.9 mmol/L (100-125 mg/dL), HbA1c 5.7-6.4 %.
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017), T2DM patient health
   management: controlled FPG < 7.0; refer at once (紧急转诊) for a fasting or random glucose >= 16.7 or
   <= 3.9 mmol/L.
.. [CDS2024] Chinese Diabetes Society, guideline 2024 edition: HbA1c target < 7.0 % for most adults.
.. [CDS2020-GDM] CDS 2020, hyperglycaemia in pregnancy: gestational diabetes on a 75 g OGTT at 24-28 weeks
   with any of fasting >= 5.1, 1-h >= 10.0, 2-h >= 8.5 mmol/L (IADPSG criteria).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

FPG_DIABETES_MMOL_L = 7.0
"""FPG at or above this meets the diabetes threshold [CDS2020]."""
OGTT_2H_DIABETES_MMOL_L = 11.1
"""OGTT 2-h glucose at or above this meets the diabetes threshold [CDS2020]."""
HBA1C_DIABETES_PCT = 6.5
"""HbA1c at or above this meets the diabetes threshold [CDS2020]."""
RANDOM_GLUCOSE_DIABETES_MMOL_L = 11.1
"""A random glucose at or above this with the typical symptoms (多饮、多尿、多食、体重下降) is a diagnostic result
on its own; without symptoms it calls for a fasting glucose or HbA1c to confirm [CDS2020]."""
FPG_PREGNANCY_ABOVE_NORMAL_MMOL_L = 5.1
"""In pregnancy a fasting glucose at or above this is above normal (gestational diabetes threshold)
[CDS2020-GDM]; BPHS 2017 refers 妊娠期及哺乳期血糖高于正常 at once."""
OGTT_2H_PREGNANCY_ABOVE_NORMAL_MMOL_L = 8.5
"""In pregnancy an OGTT 2-h glucose at or above this is above normal [CDS2020-GDM]."""
FPG_IFG_WHO_MMOL_L = 6.1
"""Impaired fasting glucose from this FPG, WHO 1999 as used by CDS [CDS2020]."""
FPG_IFG_ADA_MMOL_L = 5.6
"""Impaired fasting glucose from this FPG in the ADA criteria [ADA2024]."""
OGTT_2H_IGT_MMOL_L = 7.8
"""Impaired glucose tolerance from this OGTT 2-h glucose [CDS2020]."""
HBA1C_PREDIABETES_PCT = 5.7
"""Prediabetes by HbA1c from this value [ADA2024]."""
FPG_RECOMMEND_OGTT_MMOL_L = 5.6
"""A screening FPG at or above this recommends an OGTT or HbA1c [CDS2020, screening section]."""
FPG_CONTROLLED_BELOW_MMOL_L = 7.0
"""A managed patient is controlled when FPG is below this [BPHS2017]."""
HBA1C_CONTROLLED_BELOW_PCT = 7.0
"""Under the 2024 profile a managed patient's HbA1c is controlled below this [CDS2024]."""
OGTT_2H_URGENT_MMOL_L = 16.7
"""An OGTT 2-h value at or above this is an urgent confirmation at the top of its band (SPEC 4.5), not an
emergency: the value is provoked by the glucose load."""
GLUCOSE_EMERGENCY_HIGH_MMOL_L = 16.7
"""Glucose at or above this: refer at once [BPHS2017]."""
GLUCOSE_EMERGENCY_LOW_MMOL_L = 3.9
"""Glucose at or below this: refer at once [BPHS2017]."""

UNKNOWN, NORMAL, PREDIABETES, DIABETES = -1, 0, 1, 2


@dataclass(frozen=True)
class GlycaemicStatus:
    """Glycaemic category per resident from whichever results are given.

    Attributes
    ----------
    category
        ``-1`` no result, ``0`` normal, ``1`` prediabetes (IFG, IGT or HbA1c range), ``2`` diabetes range.
    diabetic_tests
        How many different tests (FPG, OGTT-2h, HbA1c) meet their diabetes threshold.
    ifg, igt, hba1c_prediabetes
        The prediabetes findings, each below the diabetes range of its own test.
    """

    category: np.ndarray
    diabetic_tests: np.ndarray
    ifg: np.ndarray
    igt: np.ndarray
    hba1c_prediabetes: np.ndarray


def glycaemic_status(
    fpg_mmol_l: np.ndarray,
    ogtt_2h_mmol_l: np.ndarray,
    hba1c_pct: np.ndarray,
    *,
    criteria: Literal["who", "ada"] = "who",
    use_hba1c_prediabetes: bool = True,
) -> GlycaemicStatus:
    """Classify glycaemia (SPEC 4.1).

    Parameters
    ----------
    fpg_mmol_l, ogtt_2h_mmol_l, hba1c_pct
        Results; NaN where not measured (or not counted, e.g. stale).
    criteria
        ``who``: IFG from 6.1 mmol/L; ``ada``: IFG from 5.6 mmol/L.
    use_hba1c_prediabetes
        Whether HbA1c 5.7-6.4 % counts as prediabetes.

    References
    ----------
    CDS 2020 diagnostic criteria (WHO 1999); ADA Standards of Care 2024, section 2.
    """
    fpg_dm = fpg_mmol_l >= FPG_DIABETES_MMOL_L
    ogtt_dm = ogtt_2h_mmol_l >= OGTT_2H_DIABETES_MMOL_L
    hba1c_dm = hba1c_pct >= HBA1C_DIABETES_PCT
    ifg_low = FPG_IFG_ADA_MMOL_L if criteria == "ada" else FPG_IFG_WHO_MMOL_L
    ifg = (fpg_mmol_l >= ifg_low) & ~fpg_dm
    igt = (ogtt_2h_mmol_l >= OGTT_2H_IGT_MMOL_L) & ~ogtt_dm
    hba1c_pre = (hba1c_pct >= HBA1C_PREDIABETES_PCT) & ~hba1c_dm
    if not use_hba1c_prediabetes:
        hba1c_pre = np.zeros_like(hba1c_pre)
    measured = ~np.isnan(fpg_mmol_l) | ~np.isnan(ogtt_2h_mmol_l) | ~np.isnan(hba1c_pct)
    diabetic_tests = fpg_dm.astype(np.int8) + ogtt_dm + hba1c_dm
    category = np.where(
        diabetic_tests > 0, DIABETES, np.where(ifg | igt | hba1c_pre, PREDIABETES, np.where(measured, NORMAL, UNKNOWN))
    )
    return GlycaemicStatus(category.astype(np.int8), diabetic_tests, ifg, igt, hba1c_pre)


def glucose_controlled(
    fpg_mmol_l: np.ndarray, hba1c_pct: np.ndarray | None = None, *, profile: str = "bphs2017"
) -> np.ndarray:
    """Control of a managed diabetes patient under a control profile: ``1.0`` controlled, ``0.0`` not, NaN unknown.

    ``bphs2017``: FPG < 7.0 [BPHS2017]. ``guideline2024``: FPG < 7.0 and, where an HbA1c is given (fresh),
    HbA1c < 7.0 % [CDS2024]; known when either result is.
    """
    fpg_ok = fpg_mmol_l < FPG_CONTROLLED_BELOW_MMOL_L
    if profile != "guideline2024" or hba1c_pct is None:
        return np.where(np.isnan(fpg_mmol_l), np.nan, fpg_ok.astype(float))
    hba1c_ok = hba1c_pct < HBA1C_CONTROLLED_BELOW_PCT
    known = ~np.isnan(fpg_mmol_l) | ~np.isnan(hba1c_pct)
    controlled = (np.isnan(fpg_mmol_l) | fpg_ok) & (np.isnan(hba1c_pct) | hba1c_ok)
    return np.where(known, controlled.astype(float), np.nan)


def glucose_emergency(glucose_mmol_l: np.ndarray, *, managed: np.ndarray) -> np.ndarray:
    """A fasting or random glucose >= 16.7 mmol/L (anyone), or <= 3.9 mmol/L in a managed diabetes patient:
    refer at once [BPHS2017].

    BPHS means a fasting or random glucose: a 2-h OGTT value is a provoked diagnostic result and never an
    emergency by itself (SPEC 4.5). The low bound flags treatment-induced hypoglycaemia, so it applies to
    residents with a recorded diagnosis or treatment.
    """
    return (glucose_mmol_l >= GLUCOSE_EMERGENCY_HIGH_MMOL_L) | (
        managed & (glucose_mmol_l <= GLUCOSE_EMERGENCY_LOW_MMOL_L)
    )
