"""The phrase tables of the reasons (SPEC section 6): what each feature, flag, finding fact, test and result is
called in Chinese and English, and the threshold from which a feature's value is worded as raising risk.

Data only: the thresholds are read from :mod:`riskmodel.rules.guidelines` (never retyped here), and the
sentences are built in :mod:`riskmodel.worklist.explain`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from riskmodel.rules.guidelines.blood_pressure import (
    DBP_BPHS_HIGH_RISK_MMHG,
    PULSE_PRESSURE_WIDE_MMHG,
    SBP_BPHS_HIGH_RISK_MMHG,
)
from riskmodel.rules.guidelines.body_size import BMI_OVERWEIGHT_FROM, WAIST_TO_HEIGHT_HIGH
from riskmodel.rules.guidelines.cdrs import CDRS_HIGH_RISK_POINTS
from riskmodel.rules.guidelines.findings import DIABETES_RISK_AGE_CDS2024, HYPERTENSION_RISK_AGE
from riskmodel.rules.guidelines.glycaemia import (
    FPG_DIABETES_MMOL_L,
    HBA1C_DIABETES_PCT,
    OGTT_2H_DIABETES_MMOL_L,
    RANDOM_GLUCOSE_DIABETES_MMOL_L,
)
from riskmodel.rules.guidelines.lipids import (
    HDL_LOW_MMOL_L,
    LDL_BORDERLINE_HIGH_MMOL_L,
    NON_HDL_BORDERLINE_HIGH_MMOL_L,
    TC_BORDERLINE_HIGH_MMOL_L,
    TG_BORDERLINE_HIGH_MMOL_L,
)

AGE_RAISES_RISK_YEARS = DIABETES_RISK_AGE_CDS2024
"""From the CDS 2024 screening age on, age is said to raise diabetes or hypertension risk."""

# feature -> (fact key, English label, Chinese label, unit, decimals, "raises risk" predicate)
_Feature = tuple[str, str, str, str, int, Callable[[float, Mapping[str, float]], bool]]
FEATURES: dict[str, _Feature] = {
    "age_years": ("age", "age", "年龄", "", 0, lambda v, _: v >= AGE_RAISES_RISK_YEARS),
    "bmi_kg_m2": ("bmi", "BMI", "体重指数", "kg/m²", 1, lambda v, _: v >= BMI_OVERWEIGHT_FROM),
    "bmi_category": ("bmi", "BMI", "体重指数", "kg/m²", 1, lambda v, _: v >= 2),
    "waist_cm": ("waist", "waist", "腰围", "cm", 0, lambda v, r: v >= r["waist_cut"]),
    "central_obesity": ("waist", "waist", "腰围", "cm", 0, lambda v, _: v == 1.0),
    "waist_to_height": ("whtr", "waist-to-height ratio", "腰高比", "", 2, lambda v, _: v >= WAIST_TO_HEIGHT_HIGH),
    "sbp_mmhg": ("bp", "systolic BP", "收缩压", "mmHg", 0, lambda v, _: v >= SBP_BPHS_HIGH_RISK_MMHG),
    "dbp_mmhg": ("bp", "diastolic BP", "舒张压", "mmHg", 0, lambda v, _: v >= DBP_BPHS_HIGH_RISK_MMHG),
    "pulse_pressure_mmhg": ("bp", "pulse pressure", "脉压", "mmHg", 0, lambda v, _: v >= PULSE_PRESSURE_WIDE_MMHG),
    "tc_mmol_l": (
        "lipids_tc",
        "total cholesterol",
        "总胆固醇",
        "mmol/L",
        2,
        lambda v, _: v >= TC_BORDERLINE_HIGH_MMOL_L,
    ),
    "tg_mmol_l": ("lipids_tg", "triglycerides", "甘油三酯", "mmol/L", 2, lambda v, _: v >= TG_BORDERLINE_HIGH_MMOL_L),
    "hdl_mmol_l": ("lipids_hdl", "HDL cholesterol", "高密度脂蛋白胆固醇", "mmol/L", 2, lambda v, _: v < HDL_LOW_MMOL_L),
    "ldl_mmol_l": (
        "lipids_ldl",
        "LDL cholesterol",
        "低密度脂蛋白胆固醇",
        "mmol/L",
        2,
        lambda v, _: v >= LDL_BORDERLINE_HIGH_MMOL_L,
    ),
    "non_hdl_mmol_l": (
        "lipids_non_hdl",
        "non-HDL cholesterol",
        "非高密度脂蛋白胆固醇",
        "mmol/L",
        2,
        lambda v, _: v >= NON_HDL_BORDERLINE_HIGH_MMOL_L,
    ),
    "tg_hdl_ratio": (
        "lipids_tg",
        "TG/HDL ratio",
        "甘油三酯/高密度脂蛋白比值",
        "",
        1,
        lambda v, r: r["tg_mmol_l"] >= TG_BORDERLINE_HIGH_MMOL_L or r["hdl_mmol_l"] < HDL_LOW_MMOL_L,
    ),
    "cdrs_points": (
        "cdrs",
        "Chinese Diabetes Risk Score",
        "中国糖尿病风险评分",
        "分",
        0,
        lambda v, _: v >= CDRS_HIGH_RISK_POINTS,
    ),
}
"""``bphs_risk_count`` is not here: a count of risk factors is worded by
:func:`riskmodel.worklist.explain.describe_risk`, naming them."""
BPHS_COUNT_WORDS: dict[str, tuple[str, str]] = {
    "htn_overweight": ("overweight or obese (BMI or waist)", "超重或肥胖"),
    "htn_family_history": ("family history of hypertension", "高血压家族史"),
    "htn_alcohol": ("long-term excess alcohol", "长期过量饮酒"),
    "htn_age": (f"age {HYPERTENSION_RISK_AGE} or over", f"年龄≥{HYPERTENSION_RISK_AGE}岁"),
    "htn_high_salt": ("long-term high-salt diet", "长期高盐饮食"),
}
"""The BPHS criteria the model's ``bphs_risk_count`` counts, each named [BPHS 2017]."""
# boolean feature -> (fact key, the value that raises risk, English, Chinese)
FLAGS: dict[str, tuple[str, float, str, str]] = {
    "physically_active": ("dm_sedentary", 0.0, "physically inactive (sedentary)", "身体活动不足（静坐生活方式）"),
    "alcohol_excess": ("htn_alcohol", 1.0, "long-term excess alcohol", "长期过量饮酒"),
    "high_salt_diet": ("htn_high_salt", 1.0, "high-salt diet", "高盐饮食"),
    "family_history_diabetes": ("dm_family_history", 1.0, "first-degree relative with diabetes", "一级亲属有糖尿病"),
    "family_history_hypertension": ("htn_family_history", 1.0, "family history of hypertension", "有高血压家族史"),
    "gdm_history": ("dm_gdm_history", 1.0, "history of gestational diabetes", "有妊娠期糖尿病史"),
    "ascvd_history": ("dm_ascvd", 1.0, "cardiovascular disease (ASCVD)", "动脉粥样硬化性心血管疾病"),
    "diagnosed_hypertension": ("dm_hypertension", 1.0, "diagnosed hypertension", "已诊断高血压"),
    "on_antihypertensive": ("dm_hypertension", 1.0, "on antihypertensive treatment", "正在服用降压药"),
    "diagnosed_diabetes": ("diabetes", 1.0, "diagnosed diabetes", "已诊断糖尿病"),
    "on_glucose_lowering": ("diabetes", 1.0, "on glucose-lowering treatment", "正在接受降糖治疗"),
    "on_lipid_lowering": ("dm_dyslipidaemia", 1.0, "on lipid-lowering treatment", "正在服用调脂药"),
    "is_male": ("sex", 1.0, "male sex", "男性"),
}
SMOKING_CURRENT = 2.0
"""The ``smoking_code`` of a current smoker, the value worded as raising risk."""
# findings that state one fact: shown once, naming every disease it is a finding of, with every reference
FINDING_FACTS: dict[str, str] = {
    "dm_age": "age",
    "htn_age": "age",
    "dm_overweight": "body_size",
    "htn_overweight": "body_size",
    "htn_bp_band": "bp",
    "htn_high_normal": "bp",
    "dm_cdrs": "cdrs",
    "dm_cdrs_unvalidated": "cdrs",
}
FINDING_HEADS: dict[bool, tuple[str, str]] = {True: ("risk factor", "高危因素"), False: ("related", "相关")}
"""A finding line's head after its disease: a guideline risk factor, or a finding reported beside them."""
SEPARATORS = {"zh": "，", "en": ", "}
"""How the parts of one line are joined, per language."""
QUALIFYING_NAMES: dict[int, tuple[str, str, str]] = {
    1: ("FPG", "空腹血糖", "mmol/L"),
    2: ("OGTT 2-h glucose", "糖负荷后2小时血糖", "mmol/L"),
    3: ("HbA1c", "糖化血红蛋白", "%"),
    4: ("random glucose with typical symptoms", "随机血糖（伴典型症状）", "mmol/L"),
}
"""A qualifying result's kind (the code stored with it) -> (English, Chinese, unit)."""
REPEAT_VERBS: dict[str, tuple[str, str]] = {
    "FPG": ("repeat the fasting plasma glucose", "复查空腹血糖"),
    "OGTT": ("repeat the oral glucose tolerance test", "复查口服葡萄糖耐量试验"),
    "HbA1c": ("repeat the HbA1c", "复查糖化血红蛋白"),
    "BP": ("measure blood pressure again", "复测血压"),
    "FPG, HbA1c": ("test fasting plasma glucose or HbA1c", "检测空腹血糖或糖化血红蛋白"),
    "": ("recheck", "复查"),
}
"""What to do to repeat a test, by the action's test."""
TEST_VERBS: dict[str, tuple[str, str]] = {
    "FPG": ("test fasting plasma glucose", "检测空腹血糖"),
    "OGTT": ("do an oral glucose tolerance test", "做口服葡萄糖耐量试验"),
    "HbA1c": ("test HbA1c", "检测糖化血红蛋白"),
    "BP": ("measure blood pressure", "测量血压"),
    "FPG, HbA1c": ("test fasting plasma glucose or HbA1c", "检测空腹血糖或糖化血红蛋白"),
}
"""What to do to take a test for the first time or after its interval, by the action's test."""
STALE_GLUCOSE = (
    ("fpg_mmol_l", "fpg", "FPG", "空腹血糖", "mmol/L", FPG_DIABETES_MMOL_L),
    ("ogtt_2h_mmol_l", "ogtt", "OGTT 2-h glucose", "糖负荷后2小时血糖", "mmol/L", OGTT_2H_DIABETES_MMOL_L),
    ("hba1c_pct", "hba1c", "HbA1c", "糖化血红蛋白", "%", HBA1C_DIABETES_PCT),
    ("random_glucose_mmol_l", "random_glucose", "random glucose", "随机血糖", "mmol/L", RANDOM_GLUCOSE_DIABETES_MMOL_L),
)
"""The glucose results a stale-result line may show, each with the diagnostic threshold from which it is
abnormal: (value column, measure, English, Chinese, unit, threshold) [CDS 2020]."""
GLUCOSE_NAMES: tuple[tuple[str, str, str, str, str], ...] = (
    ("fpg_mmol_l", "fpg", "FPG", "空腹血糖", "mmol/L"),
    ("ogtt_2h_mmol_l", "ogtt", "OGTT 2-h glucose", "糖负荷后2小时血糖", "mmol/L"),
    ("hba1c_pct", "hba1c", "HbA1c", "糖化血红蛋白", "%"),
)
"""The glucose results an action line shows: (value column, measure, English, Chinese, unit)."""
RANDOM_GLUCOSE_NAMES = ("random_glucose_mmol_l", "random_glucose", "random glucose", "随机血糖", "mmol/L")
