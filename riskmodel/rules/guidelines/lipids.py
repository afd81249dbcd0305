"""Lipid cut-points of the Chinese adult dyslipidaemia guideline (SPEC section 6: a model reason names a lipid
value only when it raises risk).

These are the lipid guideline's own borderline-high and low bounds. They are not the diabetes risk factor
"dyslipidaemia" of the CDS screening criteria, which counts only a TG >= 2.22 mmol/L (200 mg/dL) or an HDL
<= 0.91 mmol/L (< 0.90 in 2024) and lives in :mod:`riskmodel.rules.guidelines.findings`
(``TG_HIGH_MMOL_L``, ``HDL_LOW_CDS2020_MMOL_L``, ``HDL_LOW_CDS2024_MMOL_L``). A TG of 1.7-2.21 mmol/L is
therefore worded as a value that raises risk, but it is not the CDS finding.

References
----------
.. [CDLG2016] Joint Committee for Developing Chinese Guidelines on Prevention and Treatment of Dyslipidemia
   in Adults. Chinese guidelines for the management of dyslipidemia in adults (2016 revision). Chin Circ J
   2016;31(10):937-53. Table of lipid levels for ASCVD primary prevention: borderline high (边缘升高)
   TC >= 5.2, LDL-C >= 3.4, non-HDL-C >= 4.1, TG >= 1.7 mmol/L; low (降低) HDL-C < 1.0 mmol/L.
"""

from __future__ import annotations

TC_BORDERLINE_HIGH_MMOL_L = 5.2
"""Total cholesterol at or above this is borderline high or high [CDLG2016]."""
LDL_BORDERLINE_HIGH_MMOL_L = 3.4
"""LDL cholesterol at or above this is borderline high or high [CDLG2016]."""
NON_HDL_BORDERLINE_HIGH_MMOL_L = 4.1
"""Non-HDL cholesterol at or above this is borderline high or high [CDLG2016]."""
TG_BORDERLINE_HIGH_MMOL_L = 1.7
"""Triglycerides at or above this are borderline high or high [CDLG2016] (the CDS diabetes risk factor
starts higher, at 2.22 mmol/L: see the module docstring)."""
HDL_LOW_MMOL_L = 1.0
"""HDL cholesterol below this is low [CDLG2016]."""
