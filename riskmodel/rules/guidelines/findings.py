"""Guideline high-risk findings, reported per criterion with their reference (SPEC section 4.4).

References
----------
.. [CDS2020] Chinese Diabetes Society, T2DM guideline 2020 edition, section on screening: adults with
   any one of: age >= 40; prediabetes history; BMI >= 24 or central obesity; sedentary; first-degree
   relative with T2DM; history of GDM or macrosomia; a history of hypertension (SBP >= 140 and/or
   DBP >= 90 mmHg) or on antihypertensives; dyslipidaemia (HDL <= 0.91 or TG >= 2.22 mmol/L) or on
   lipid-lowering drugs; ASCVD. Its prediabetes is WHO 1999's: IFG (FPG 6.1-6.9) and IGT (OGTT-2h
   7.8-11.0); it defines no HbA1c prediabetes range.
.. [CDS2024] Chinese Diabetes Society, guideline 2024 edition: age >= 35, HDL < 0.90 mmol/L, and a
   CDRS >= 25 added.
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017), hypertension high-risk
   population (any one): BP 130-139/85-89; BMI >= 24 or waist >= 90 (men) / >= 85 (women); family
   history of hypertension; long-term excess alcohol; age >= 55; long-term high-salt diet.
.. [CHG2018] 2018 Chinese Guidelines for Prevention and Treatment of Hypertension: high-normal BP
   120-139/80-89.
.. [WST428] WS/T 428-2013, Criteria of weight for adults.
.. [ADA2024] American Diabetes Association, Standards of Care in Diabetes-2024, section 2: prediabetes
   HbA1c 5.7-6.4 %, IFG from FPG 5.6 mmol/L (100 mg/dL).
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
from riskmodel.rules.guidelines.glycaemia import FPG_IFG_WHO_MMOL_L, GlycaemicStatus

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
    """One guideline criterion a resident can meet, with words for doctors and its reference.

    ``risk_factor`` is False for a finding reported beside the criteria that is not one of them (a
    high-normal BP, a CDRS outside its validated ages, a raised BP not yet diagnosed).
    """

    code: str
    disease: Literal["diabetes", "hypertension"]
    en: str
    zh: str
    reference: str
    risk_factor: bool = True


FINDINGS: dict[str, Finding] = {
    finding.code: finding
    for finding in (
        Finding(
            "dm_age",
            "diabetes",
            "age {age_years:.0f} ({dm_age_cut} or over)",
            "年龄 {age_years:.0f} 岁（≥{dm_age_cut} 岁）",
            "CDS 2020 / 2024",
        ),
        Finding(
            "dm_prediabetes",
            "diabetes",
            "prediabetes in the record (impaired fasting glucose or impaired glucose tolerance)",
            "糖尿病前期（空腹血糖受损或糖耐量减低，含既往记录）",
            "CDS 2020",
        ),
        Finding(
            "dm_prediabetes_ada",
            "diabetes",
            "{ada_prediabetes}: prediabetes by the ADA criteria",
            "{ada_prediabetes}，属糖尿病前期（美国糖尿病学会标准）",
            "ADA Standards of Care 2024",
        ),
        Finding("dm_overweight", "diabetes", "{body_size}", "{body_size}", "CDS 2020; WS/T 428-2013"),
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
            "dm_raised_bp",
            "diabetes",
            "raised blood pressure (not diagnosed){bp_raised}; it counts as a diabetes risk factor once "
            "hypertension is diagnosed",
            "血压升高（未确诊）{bp_raised}；确诊高血压后计为糖尿病高危因素",
            "CDS 2020",
            risk_factor=False,
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
            "Chinese Diabetes Risk Score {cdrs_points:.0f} (25 or over)",
            "中国糖尿病风险评分 {cdrs_points:.0f} 分（≥25 分）",
            "CDS 2024; Zhou 2013",
        ),
        Finding(
            "dm_cdrs_unvalidated",
            "diabetes",
            "Chinese Diabetes Risk Score {cdrs_points:.0f}, outside the ages it was validated for (20-74): for information only, it does not raise the tier",
            "中国糖尿病风险评分 {cdrs_points:.0f} 分（该评分仅在 20-74 岁人群中验证）：仅供参考，不据此判为高危",
            "Zhou 2013",
            risk_factor=False,
        ),
        Finding(
            "htn_bp_band",
            "hypertension",
            "BP {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when} in the 130-139/85-89 band",
            "血压 {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when}，处于 130-139/85-89 mmHg 的高危范围",
            "BPHS 2017",
        ),
        Finding("htn_overweight", "hypertension", "{body_size}", "{body_size}", "BPHS 2017; WS/T 428-2013"),
        Finding("htn_family_history", "hypertension", "family history of hypertension", "有高血压家族史", "BPHS 2017"),
        Finding("htn_alcohol", "hypertension", "long-term excess alcohol", "长期过量饮酒", "BPHS 2017"),
        Finding(
            "htn_age",
            "hypertension",
            "age {age_years:.0f} (55 or over)",
            "年龄 {age_years:.0f} 岁（≥55 岁）",
            "BPHS 2017",
        ),
        Finding("htn_high_salt", "hypertension", "long-term high-salt diet", "长期高盐饮食", "BPHS 2017"),
        Finding(
            "htn_high_normal",
            "hypertension",
            "BP {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when} is high-normal (120-139/80-89)",
            "血压 {sbp_mmhg:.0f}/{dbp_mmhg:.0f} mmHg{bp_when}，属正常高值（120-139/80-89 mmHg）",
            "Chinese hypertension guideline 2018",
            risk_factor=False,
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
    return (columns["bmi_kg_m2"] >= BMI_OVERWEIGHT_FROM) | central_obesity(columns["waist_cm"], is_male)


HYPERTENSION_COUNTED_CODES = tuple(code for code in HYPERTENSION_RISK_CODES if code != "htn_bp_band")
"""The BPHS criteria other than the BP band: the model's ``bphs_risk_count`` counts these [BPHS2017]."""


def diabetes_findings(
    columns: Mapping[str, np.ndarray],
    glycaemia: GlycaemicStatus,
    cdrs_total: np.ndarray,
    *,
    cdrs_in_age: np.ndarray,
    prediabetes_history: np.ndarray | None = None,
    hypertension_known: np.ndarray | None = None,
    profile: Literal["cds2020", "cds2024"] = "cds2020",
    overweight: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Each diabetes high-risk criterion of the chosen CDS profile, as a boolean column.

    Parameters
    ----------
    columns
        Resident columns with each measure's latest value.
    glycaemia
        Computed on all the record's results, fresh or not (a prediabetes result is history), under the
        configured criteria: its HbA1c range, and an IFG from 5.6 mmol/L, are ADA's
        (``dm_prediabetes_ada``); the WHO 1999 ranges CDS uses are ``dm_prediabetes``.
    prediabetes_history
        The prediabetes results found in the events (added to ``dm_prediabetes``).
    hypertension_known
        A recorded hypertension (diagnosis, treatment, or a hypertension diagnosis or follow-up event) or a
        confirmed measured one (SPEC 3). With the row's diagnosis and treatment flags it makes
        ``dm_hypertension``; a BP >= 140/90 that is neither is ``dm_raised_bp``, reported but not the
        criterion: CDS 2020 names a history of hypertension or antihypertensive treatment, and one
        unconfirmed reading is not a diagnosis (SPEC 13.5). ``None``: the row's flags only.
    profile
        ``cds2020`` or ``cds2024`` (age 35, HDL < 0.90 and CDRS >= 25).
    overweight
        The body-size criterion computed already for the same columns (e.g. BPHS's ``htn_overweight``: the same
        cut-offs); computed here when ``None``.

    References
    ----------
    CDS 2020 / CDS 2024, screening section; ADA Standards of Care 2024, section 2.
    """
    history = np.zeros(len(cdrs_total), dtype=bool) if prediabetes_history is None else prediabetes_history == 1.0
    is_2024 = profile == "cds2024"
    age_cut = DIABETES_RISK_AGE_CDS2024 if is_2024 else DIABETES_RISK_AGE_CDS2020
    hdl = columns["hdl_mmol_l"]
    known = _yes(columns["diagnosed_hypertension"]) | _yes(columns["on_antihypertensive"])
    if hypertension_known is not None:
        known = known | hypertension_known
    low_hdl = hdl < HDL_LOW_CDS2024_MMOL_L if is_2024 else hdl <= HDL_LOW_CDS2020_MMOL_L
    raised_bp = (columns["sbp_mmhg"] >= SBP_HYPERTENSION_MMHG) | (columns["dbp_mmhg"] >= DBP_HYPERTENSION_MMHG)
    ifg_who = glycaemia.ifg & (columns["fpg_mmol_l"] >= FPG_IFG_WHO_MMOL_L)
    findings = {
        "dm_age": columns["age_years"] >= age_cut,
        "dm_prediabetes": ifg_who | glycaemia.igt | history,
        "dm_prediabetes_ada": (glycaemia.ifg & ~ifg_who) | glycaemia.hba1c_prediabetes,
        "dm_overweight": _overweight(columns) if overweight is None else overweight,
        "dm_sedentary": columns["physically_active"] == 0.0,
        "dm_family_history": _yes(columns["family_history_diabetes"]),
        "dm_gdm_history": _yes(columns["gdm_history"]),
        "dm_hypertension": known,
        "dm_raised_bp": raised_bp & ~known,
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
        "dm_prediabetes_ada",  # only where configured: the ADA ranges, counted as the prediabetes criterion
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
"""The guideline high-risk criteria of each CDS profile [CDS2020; CDS2024]. ``dm_raised_bp`` is not one:
the criterion is a history of hypertension or antihypertensive treatment [CDS2020]."""


def finding_reference(code: str, profile: str = "cds2020") -> str:
    """The finding's reference under the CDS profile in force: the age and lipid cut-offs are the profile's."""
    if code in ("dm_age", "dm_dyslipidaemia"):
        return "CDS 2024" if profile == "cds2024" else "CDS 2020"
    return FINDINGS[code].reference


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
    return {
        "htn_bp_band": bphs_high_risk_band(sbp, dbp),
        "htn_overweight": _overweight(columns),
        "htn_family_history": _yes(columns["family_history_hypertension"]),
        "htn_alcohol": _yes(columns["alcohol_excess"]),
        "htn_age": columns["age_years"] >= HYPERTENSION_RISK_AGE,
        "htn_high_salt": _yes(columns["high_salt_diet"]),
        "htn_high_normal": bp_category(sbp, dbp) == 1,
    }
