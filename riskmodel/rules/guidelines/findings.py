"""Guideline high-risk findings, reported per criterion with their reference (SPEC section 4.4).

References
----------
.. [CDS2020] Chinese Diabetes Society, T2DM guideline 2020 edition, section on screening: adults with
   any one of: age >= 40; prediabetes history; BMI >= 24 or central obesity; sedentary; first-degree
   relative with T2DM; history of GDM or macrosomia; hypertension or on antihypertensives;
   dyslipidaemia (HDL <= 0.91 or TG >= 2.22 mmol/L) or on lipid-lowering drugs; ASCVD.
.. [CDS2024] Chinese Diabetes Society, guideline 2024 edition: age >= 35, HDL < 0.90 mmol/L, and a
   CDRS >= 25 added.
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017), hypertension high-risk
   population (any one): BP 130-139/85-89; BMI >= 24 or waist >= 90 (men) / >= 85 (women); family
   history of hypertension; long-term excess alcohol; age >= 55; long-term high-salt diet.
.. [CHG2018] 2018 Chinese Guidelines for Prevention and Treatment of Hypertension: high-normal BP
   120-139/80-89.
.. [WST428] WS/T 428-2013, Criteria of weight for adults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from riskmodel.rules.guidelines.blood_pressure import (
    DBP_HYPERTENSION_MMHG,
    SBP_HYPERTENSION_MMHG,
    bp_category,
    bphs_high_risk_band,
)
from riskmodel.rules.guidelines.body_size import BMI_OVERWEIGHT_FROM, central_obesity
from riskmodel.rules.guidelines.cdrs import CDRS_HIGH_RISK_POINTS
from riskmodel.rules.guidelines.glycaemia import GlycaemicStatus

DIABETES_RISK_AGE_CDS2020 = 40
DIABETES_RISK_AGE_CDS2024 = 35
HDL_LOW_CDS2020_MMOL_L = 0.91
"""HDL at or below this counts as dyslipidaemia [CDS2020]."""
HDL_LOW_CDS2024_MMOL_L = 0.90
"""HDL below this counts as dyslipidaemia [CDS2024]."""
TG_HIGH_MMOL_L = 2.22
"""TG at or above this counts as dyslipidaemia [CDS2020]."""
HYPERTENSION_RISK_AGE = 55
"""Age at or above this is a hypertension risk factor [BPHS2017]."""


@dataclass(frozen=True)
class Finding:
    """One guideline criterion a resident can meet, with words for doctors and its reference."""

    code: str
    disease: Literal["diabetes", "hypertension"]
    en: str
    zh: str
    reference: str


FINDINGS: dict[str, Finding] = {
    finding.code: finding
    for finding in (
        Finding(
            "dm_age",
            "diabetes",
            "age {age_years:.0f}, at or above the diabetes screening age of {dm_age_cut}",
            "年龄 {age_years:.0f} 岁，达到糖尿病筛查年龄（≥{dm_age_cut} 岁）",
            "CDS 2020 / 2024",
        ),
        Finding(
            "dm_prediabetes",
            "diabetes",
            "prediabetes result in the record (IFG, IGT or HbA1c range)",
            "既往糖尿病前期（空腹血糖受损、糖耐量减低或糖化血红蛋白升高）",
            "CDS 2020",
        ),
        Finding(
            "dm_overweight",
            "diabetes",
            "{body_size}: overweight, obesity or central obesity",
            "{body_size}：超重、肥胖或中心性肥胖",
            "CDS 2020; WS/T 428-2013",
        ),
        Finding(
            "dm_sedentary", "diabetes", "physically inactive (sedentary)", "静坐生活方式，身体活动不足", "CDS 2020"
        ),
        Finding(
            "dm_family_history",
            "diabetes",
            "first-degree relative with type 2 diabetes",
            "一级亲属中有2型糖尿病患者",
            "CDS 2020",
        ),
        Finding(
            "dm_gdm_history",
            "diabetes",
            "history of gestational diabetes or macrosomia",
            "有妊娠期糖尿病史或巨大儿生产史",
            "CDS 2020",
        ),
        Finding(
            "dm_hypertension",
            "diabetes",
            "hypertension or on antihypertensive treatment",
            "高血压或正在接受降压治疗",
            "CDS 2020",
        ),
        Finding(
            "dm_dyslipidaemia",
            "diabetes",
            "dyslipidaemia (low HDL or high TG) or on lipid-lowering drugs",
            "血脂异常（高密度脂蛋白降低或甘油三酯升高）或正在接受调脂治疗",
            "CDS 2020",
        ),
        Finding(
            "dm_ascvd", "diabetes", "atherosclerotic cardiovascular disease", "动脉粥样硬化性心血管疾病", "CDS 2020"
        ),
        Finding(
            "dm_cdrs",
            "diabetes",
            "Chinese Diabetes Risk Score {cdrs_points:.0f}, at or above 25",
            "中国糖尿病风险评分 {cdrs_points:.0f} 分，≥25 分",
            "CDS 2024; Zhou 2013",
        ),
        Finding(
            "dm_cdrs_unvalidated",
            "diabetes",
            "Chinese Diabetes Risk Score {cdrs_points:.0f}, outside the ages it was validated for (20-74): for information only, it does not raise the tier",
            "中国糖尿病风险评分 {cdrs_points:.0f} 分（该评分仅在 20-74 岁人群中验证）：仅供参考，不据此判为高危",
            "Zhou 2013",
        ),
        Finding(
            "htn_bp_band",
            "hypertension",
            "BP {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when} in the 130-139/85-89 band",
            "血压 {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when}，处于 130-139/85-89 mmHg 的高危范围",
            "BPHS 2017",
        ),
        Finding(
            "htn_overweight",
            "hypertension",
            "{body_size}: overweight, obesity or central obesity",
            "{body_size}：超重、肥胖或中心性肥胖",
            "BPHS 2017; WS/T 428-2013",
        ),
        Finding("htn_family_history", "hypertension", "family history of hypertension", "有高血压家族史", "BPHS 2017"),
        Finding("htn_alcohol", "hypertension", "long-term excess alcohol", "长期过量饮酒", "BPHS 2017"),
        Finding(
            "htn_age", "hypertension", "age {age_years:.0f}, 55 or over", "年龄 {age_years:.0f} 岁，≥55 岁", "BPHS 2017"
        ),
        Finding("htn_high_salt", "hypertension", "long-term high-salt diet", "长期高盐饮食", "BPHS 2017"),
        Finding(
            "htn_high_normal",
            "hypertension",
            "BP {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when} is high-normal (120-139/80-89)",
            "血压 {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when}，属正常高值（120-139/80-89 mmHg）",
            "Chinese hypertension guideline 2018",
        ),
    )
}

HYPERTENSION_RISK_CODES = (
    "htn_bp_band",
    "htn_overweight",
    "htn_family_history",
    "htn_alcohol",
    "htn_age",
    "htn_high_salt",
)


def _yes(values: np.ndarray) -> np.ndarray:
    return values == 1.0


def _overweight(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    is_male = columns["sex"] == "M"
    with np.errstate(invalid="ignore"):
        return (columns["bmi_kg_m2"] >= BMI_OVERWEIGHT_FROM) | central_obesity(columns["waist_cm"], is_male)


def diabetes_findings(
    columns: Mapping[str, np.ndarray],
    glycaemia: GlycaemicStatus,
    cdrs_total: np.ndarray,
    *,
    cdrs_in_age: np.ndarray,
    prediabetes_history: np.ndarray | None = None,
    profile: Literal["cds2020", "cds2024"] = "cds2020",
) -> dict[str, np.ndarray]:
    """Each diabetes high-risk criterion of the chosen CDS profile, as a boolean column.

    ``glycaemia`` should be computed on all the record's results, fresh or not: a prediabetes result is
    history, and ``prediabetes_history`` adds the prediabetes results found in the events. References:
    CDS 2020 / CDS 2024, screening section.
    """
    history = np.zeros(len(cdrs_total), dtype=bool) if prediabetes_history is None else prediabetes_history == 1.0
    is_2024 = profile == "cds2024"
    age_cut = DIABETES_RISK_AGE_CDS2024 if is_2024 else DIABETES_RISK_AGE_CDS2020
    hdl = columns["hdl_mmol_l"]
    with np.errstate(invalid="ignore"):
        low_hdl = hdl < HDL_LOW_CDS2024_MMOL_L if is_2024 else hdl <= HDL_LOW_CDS2020_MMOL_L
        hypertension = (columns["sbp_mmhg"] >= SBP_HYPERTENSION_MMHG) | (columns["dbp_mmhg"] >= DBP_HYPERTENSION_MMHG)
        findings = {
            "dm_age": columns["age_years"] >= age_cut,
            "dm_prediabetes": glycaemia.ifg | glycaemia.igt | glycaemia.hba1c_prediabetes | history,
            "dm_overweight": _overweight(columns),
            "dm_sedentary": columns["physically_active"] == 0.0,
            "dm_family_history": _yes(columns["family_history_diabetes"]),
            "dm_gdm_history": _yes(columns["gdm_history"]),
            "dm_hypertension": hypertension
            | _yes(columns["diagnosed_hypertension"])
            | _yes(columns["on_antihypertensive"]),
            "dm_dyslipidaemia": low_hdl | (columns["tg_mmol_l"] >= TG_HIGH_MMOL_L) | _yes(columns["on_lipid_lowering"]),
            "dm_ascvd": _yes(columns["ascvd_history"]),
            # CDRS >= 25 is a criterion of the 2024 profile and decides high_risk under SPEC section 3 in both,
            # within the validated ages only; outside them it is shown and flagged [Zhou2013].
            "dm_cdrs": (cdrs_total >= CDRS_HIGH_RISK_POINTS) & cdrs_in_age,
            "dm_cdrs_unvalidated": (cdrs_total >= CDRS_HIGH_RISK_POINTS) & ~cdrs_in_age,
        }
    return findings


DIABETES_CRITERIA: dict[str, tuple[str, ...]] = {
    "cds2020": (
        "dm_age",
        "dm_prediabetes",
        "dm_overweight",
        "dm_sedentary",
        "dm_family_history",
        "dm_gdm_history",
        "dm_hypertension",
        "dm_dyslipidaemia",
        "dm_ascvd",
    ),
}
DIABETES_CRITERIA["cds2024"] = (*DIABETES_CRITERIA["cds2020"], "dm_cdrs")
"""The guideline high-risk criteria of each CDS profile [CDS2020; CDS2024]."""


def guideline_high_risk(
    findings: Mapping[str, np.ndarray], recorded: np.ndarray, disease: str, *, profile: str = "cds2020"
) -> np.ndarray:
    """SPEC 3's ``guideline_high_risk``: any guideline high-risk criterion holds (the CDS profile for diabetes,
    any one of the six BPHS criteria for hypertension) and the disease is not recorded."""
    codes = DIABETES_CRITERIA[profile] if disease == "diabetes" else HYPERTENSION_RISK_CODES
    return np.logical_or.reduce([findings[code] for code in codes]) & ~recorded


def hypertension_findings(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each BPHS hypertension high-risk criterion, plus the high-normal finding, as boolean columns."""
    sbp, dbp = columns["sbp_mmhg"], columns["dbp_mmhg"]
    with np.errstate(invalid="ignore"):
        return {
            "htn_bp_band": bphs_high_risk_band(sbp, dbp),
            "htn_overweight": _overweight(columns),
            "htn_family_history": _yes(columns["family_history_hypertension"]),
            "htn_alcohol": _yes(columns["alcohol_excess"]),
            "htn_age": columns["age_years"] >= HYPERTENSION_RISK_AGE,
            "htn_high_salt": _yes(columns["high_salt_diet"]),
            "htn_high_normal": bp_category(sbp, dbp) == 1,
        }
