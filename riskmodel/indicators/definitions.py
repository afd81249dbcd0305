"""The indicators of SPEC 11, their names in both languages, and what a rate means.

References
----------
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017), assessment indicators:
   管理率 (managed / estimated patients), 规范管理率 (managed with >= 4 face-to-face follow-ups a year /
   managed), 控制率 (controlled at the last follow-up / managed).
.. [HEARTS] WHO HEARTS technical package, monitoring module (2020); as Simple.org and DHIS2 compute it:
   patients registered before the last 3 months with a visit in 12 months; controlled, uncontrolled, visit
   without a measurement, and no visit in the last 3 months sum to that denominator; lost to follow-up
   (no visit in 12 months) reported apart. Its quarterly cohort report: patients registered in a quarter,
   controlled at their last visit in the next quarter.
.. [SPEC13.6] Indicators II: a patient with the disease recorded but no registration date (no diagnosis or
   follow-up event, no ``*_registered_date``) is counted as "registration date unknown", never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Indicator:
    code: str
    en: str
    zh: str
    rate: bool  # a rate (numerator / denominator) rather than a plain count
    reference: str
    estimated: str | None = None
    """Which figure is an estimate (``numerator`` or ``denominator``): shown rounded to whole residents, with
    约 / "about" (SPEC 13.6); the stored and returned number stays unrounded."""


INDICATORS: tuple[Indicator, ...] = (
    Indicator("managed", "managed patients", "管理人数", False, "BPHS 2017"),
    Indicator("estimated_patients", "estimated patients", "估计患者数", False, "BPHS 2017", "numerator"),
    Indicator("management_rate", "management coverage", "管理率", True, "BPHS 2017", "denominator"),
    Indicator("standard_management_rate", "standardised management", "规范管理率", True, "BPHS 2017"),
    Indicator("control_rate", "control at the last follow-up", "控制率", True, "BPHS 2017"),
    Indicator("guideline_high_risk", "guideline high-risk residents", "高危人群人数", False, "BPHS 2017; CDS 2020"),
    Indicator("high_risk_screened", "high-risk residents screened", "高危人群已筛查", True, "BPHS 2017; CDS 2020"),
    Indicator("screening_coverage", "screening coverage", "筛查覆盖率", True, "BPHS 2017; CDS 2020"),
    Indicator("hearts_controlled", "controlled in the last 3 months", "近3个月控制", True, "WHO HEARTS"),
    Indicator("hearts_uncontrolled", "uncontrolled in the last 3 months", "近3个月未控制", True, "WHO HEARTS"),
    Indicator("hearts_visit_no_measure", "visit without a measurement", "就诊未测量", True, "WHO HEARTS"),
    Indicator("hearts_missed_visit", "no visit in the last 3 months", "近3个月未就诊", True, "WHO HEARTS"),
    Indicator(
        "hearts_ltfu_12m", "lost to follow-up (no visit in 12 months)", "失访（12个月未就诊）", False, "WHO HEARTS"
    ),
    Indicator(
        "hearts_registration_unknown", "registration date unknown", "登记日期不详", False, "WHO HEARTS; SPEC 13.6"
    ),
    Indicator(
        "hearts_cohort_registered",
        "quarterly cohort: registered in the quarter",
        "季度队列：该季度登记人数",
        False,
        "WHO HEARTS quarterly cohort",
    ),
    Indicator(
        "hearts_cohort_controlled",
        "quarterly cohort: controlled at the last visit of the next quarter",
        "季度队列：次季度末次就诊控制",
        True,
        "WHO HEARTS quarterly cohort",
    ),
    Indicator("outcomes_recorded", "work-list outcomes recorded", "工作清单结果记录数", False, "SPEC 11"),
    Indicator("returned_within_15_days", "agreed and returned within 15 days", "同意后15天内返回", True, "SPEC 11"),
)
BY_CODE = {indicator.code: indicator for indicator in INDICATORS}
LEVELS = ("team", "grid", "county")
