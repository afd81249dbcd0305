"""Reasons a doctor can read, in Chinese or English (SPEC section 6).

Three kinds, computed only for the residents on a list: the action in words, the guideline findings the
resident meets, and the model's top contributing features (TreeSHAP via LightGBM ``pred_contrib``)
translated into a sentence with the resident's own value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np

from riskmodel.model.features import Disease, feature_matrix
from riskmodel.model.tier_model import RiskModel
from riskmodel.rules.guidelines.body_size import BMI_OBESE_FROM, BMI_OVERWEIGHT_FROM
from riskmodel.rules.guidelines.findings import FINDINGS

Lang = Literal["zh", "en"]

# feature -> (English label, Chinese label, unit, decimals)
FEATURE_WORDS: dict[str, tuple[str, str, str, int]] = {
    "age_years": ("age", "年龄", "", 0),
    "height_cm": ("height", "身高", "cm", 0),
    "weight_kg": ("weight", "体重", "kg", 1),
    "sbp_mmhg": ("systolic BP", "收缩压", "mmHg", 0),
    "dbp_mmhg": ("diastolic BP", "舒张压", "mmHg", 0),
    "fpg_mmol_l": ("fasting glucose", "空腹血糖", "mmol/L", 1),
    "ogtt_2h_mmol_l": ("OGTT 2-h glucose", "糖负荷后2小时血糖", "mmol/L", 1),
    "hba1c_pct": ("HbA1c", "糖化血红蛋白", "%", 1),
    "tc_mmol_l": ("total cholesterol", "总胆固醇", "mmol/L", 2),
    "tg_mmol_l": ("triglycerides", "甘油三酯", "mmol/L", 2),
    "hdl_mmol_l": ("HDL cholesterol", "高密度脂蛋白胆固醇", "mmol/L", 2),
    "ldl_mmol_l": ("LDL cholesterol", "低密度脂蛋白胆固醇", "mmol/L", 2),
    "waist_to_height": ("waist-to-height ratio", "腰高比", "", 2),
    "tg_hdl_ratio": ("TG/HDL ratio", "甘油三酯/高密度脂蛋白比值", "", 1),
    "non_hdl_mmol_l": ("non-HDL cholesterol", "非高密度脂蛋白胆固醇", "mmol/L", 2),
    "pulse_pressure_mmhg": ("pulse pressure", "脉压", "mmHg", 0),
    "cdrs_points": ("Chinese Diabetes Risk Score", "中国糖尿病风险评分", "points", 0),
    "bphs_risk_count": ("hypertension risk factors (BPHS)", "高血压高危因素（基本公卫）", "", 0),
}
# boolean feature -> ((en yes, zh yes), (en no, zh no))
FLAG_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "physically_active": (
        ("physically active", "规律身体活动"),
        ("physically inactive (sedentary)", "身体活动不足（静坐生活方式）"),
    ),
    "alcohol_excess": (("long-term excess alcohol", "长期过量饮酒"), ("no excess alcohol", "无过量饮酒")),
    "high_salt_diet": (("high-salt diet", "高盐饮食"), ("no high-salt diet", "非高盐饮食")),
    "family_history_diabetes": (
        ("first-degree relative with diabetes", "一级亲属有糖尿病"),
        ("no family history of diabetes", "无糖尿病家族史"),
    ),
    "family_history_hypertension": (
        ("family history of hypertension", "有高血压家族史"),
        ("no family history of hypertension", "无高血压家族史"),
    ),
    "gdm_history": (
        ("history of gestational diabetes", "有妊娠期糖尿病史"),
        ("no gestational diabetes", "无妊娠期糖尿病史"),
    ),
    "ascvd_history": (
        ("cardiovascular disease (ASCVD)", "动脉粥样硬化性心血管疾病"),
        ("no ASCVD", "无动脉粥样硬化性心血管疾病"),
    ),
    "diagnosed_hypertension": (
        ("diagnosed hypertension", "已诊断高血压"),
        ("no hypertension diagnosis", "未诊断高血压"),
    ),
    "diagnosed_diabetes": (("diagnosed diabetes", "已诊断糖尿病"), ("no diabetes diagnosis", "未诊断糖尿病")),
    "on_antihypertensive": (
        ("on antihypertensive treatment", "正在服用降压药"),
        ("no antihypertensive treatment", "未服用降压药"),
    ),
    "on_glucose_lowering": (
        ("on glucose-lowering treatment", "正在接受降糖治疗"),
        ("no glucose-lowering treatment", "未接受降糖治疗"),
    ),
    "on_lipid_lowering": (
        ("on lipid-lowering treatment", "正在服用调脂药"),
        ("no lipid-lowering treatment", "未服用调脂药"),
    ),
    "is_male": (("male sex", "男性"), ("female sex", "女性")),
    "central_obesity": (("central obesity", "中心性肥胖"), ("no central obesity", "无中心性肥胖")),
}
SMOKING_WORDS = {
    0.0: ("never smoked", "从不吸烟"),
    1.0: ("former smoker", "已戒烟"),
    2.0: ("current smoker", "目前吸烟"),
}
BMI_WORDS = {
    0: ("underweight", "体重过低"),
    1: ("normal weight", "体重正常"),
    2: ("overweight", "超重"),
    3: ("obese", "肥胖"),
}

ACTION_WORDS: dict[str, tuple[str, str]] = {
    "refer_now": ("Refer now: emergency values in the latest readings", "立即转诊：最近一次测量达到危急值"),
    "confirm_diagnosis": (
        "Result in the diagnostic range without a recorded diagnosis: recall to confirm within 14 days",
        "测量值达到诊断标准但尚未确诊：14天内召回复查确认",
    ),
    "confirm_diagnosis_confirmed": (
        "Two different tests in the diagnostic range without a recorded diagnosis: record the diagnosis and start management",
        "两项不同检查均达到诊断标准但尚未登记诊断：登记诊断并纳入慢病管理",
    ),
    "refer": (
        "Two or more consecutive uncontrolled follow-ups: refer, and follow the referral up within 14 days",
        "连续两次及以上随访控制不满意：转诊，并于14天内随访转诊情况",
    ),
    "recheck": (
        "Latest values uncontrolled: adjust treatment and recheck within 14 days",
        "最近一次控制不满意：调整治疗，14天内复查",
    ),
    "follow_up_overdue": ("No face-to-face follow-up in the last 90 days", "超过90天未进行面对面随访"),
    "screen": ("Screening test due", "应进行筛查"),
    "none": ("Nothing due", "暂无待办"),
}
DISEASE_WORDS = {"diabetes": ("diabetes", "糖尿病"), "hypertension": ("hypertension", "高血压")}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "zh" else pair[0]


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def describe_feature(name: str, value: float, *, is_male: bool, lang: Lang, waist_cm: float = float("nan")) -> str:
    """One feature and the resident's value in words."""
    if name in FLAG_WORDS:
        if np.isnan(value):
            return _pick((f"{FLAG_WORDS[name][0][0]}: not recorded", f"{FLAG_WORDS[name][0][1]}：未记录"), lang)
        return _pick(FLAG_WORDS[name][0] if value == 1.0 else FLAG_WORDS[name][1], lang)
    if name == "smoking_code":
        return _pick(SMOKING_WORDS.get(value, ("smoking not recorded", "吸烟情况未记录")), lang)
    if name == "waist_cm" or (name == "central_obesity" and not np.isnan(waist_cm)):
        waist = waist_cm if name == "central_obesity" else value
        if np.isnan(waist):
            return _pick(("waist not recorded", "腰围未记录"), lang)
        cut = 90 if is_male else 85
        if waist >= cut:
            return (
                f"腰围 {waist:.0f} cm，高于{'男性' if is_male else '女性'} {cut} cm 的中心性肥胖标准"
                if lang == "zh"
                else f"waist {waist:.0f} cm, above the {cut} cm central-obesity cut-off for {'men' if is_male else 'women'}"
            )
        return f"腰围 {waist:.0f} cm" if lang == "zh" else f"waist {waist:.0f} cm"
    if name in ("bmi_kg_m2", "bmi_category"):
        return _describe_bmi(value if name == "bmi_kg_m2" else float("nan"), lang)
    en, zh, unit, decimals = FEATURE_WORDS.get(name, (name, name, "", 1))
    if np.isnan(value):
        return f"{zh}未记录" if lang == "zh" else f"{en} not recorded"
    if name == "age_years":
        return f"年龄 {value:.0f} 岁" if lang == "zh" else f"age {value:.0f}"
    shown = _number(value, decimals)
    return (
        f"{zh} {shown}{(' ' + unit) if unit else ''}".replace(" points", " 分")
        if lang == "zh"
        else f"{en} {shown}{(' ' + unit) if unit else ''}"
    )


def _describe_bmi(bmi: float, lang: Lang) -> str:
    if np.isnan(bmi):
        return _pick(("BMI category from record", "体重指数分类"), lang)
    band = 3 if bmi >= BMI_OBESE_FROM else 2 if bmi >= BMI_OVERWEIGHT_FROM else 1 if bmi >= 18.5 else 0
    words = BMI_WORDS[band]
    return f"体重指数 {bmi:.1f}（{words[1]}）" if lang == "zh" else f"BMI {bmi:.1f} ({words[0]})"


def finding_reasons(
    findings: Mapping[str, np.ndarray], values: Mapping[str, float], row: int, diseases: tuple[str, ...], lang: Lang
) -> list[str]:
    """The guideline findings a resident meets, in words, each with its reference."""
    return [
        f"{finding_text(code, values, lang)} [{FINDINGS[code].reference}]"
        for code, met in findings.items()
        if FINDINGS[code].disease in diseases and met[row]
    ]


def finding_text(code: str, values: Mapping[str, float], lang: Lang) -> str:
    """One finding in words, with the resident's values filled in."""
    finding = FINDINGS[code]
    template = finding.zh if lang == "zh" else finding.en
    return template.format(body_size=_body_size(values, lang), **values)


def _body_size(values: Mapping[str, float], lang: Lang) -> str:
    """BMI with its WS/T 428 category, and the waist against the central-obesity cut-off for the sex."""
    parts = []
    if not np.isnan(values["bmi_kg_m2"]):
        parts.append(_describe_bmi(values["bmi_kg_m2"], lang))
    if not np.isnan(values["waist_cm"]):
        parts.append(describe_feature("waist_cm", values["waist_cm"], is_male=values.get("is_male") == 1.0, lang=lang))
    return ("；" if lang == "zh" else "; ").join(parts)


def model_reasons(
    model: RiskModel,
    columns: Mapping[str, np.ndarray],
    derived: Mapping[str, np.ndarray],
    disease: Disease,
    *,
    lang: Lang,
    top: int,
) -> list[list[str]]:
    """Per resident: the ``top`` features pushing P(chronic) up most, in words (TreeSHAP contributions)."""
    if top == 0 or len(columns["age_years"]) == 0:
        return [[] for _ in range(len(columns["age_years"]))]
    fitted = model.disease(disease)
    matrix = feature_matrix(columns, disease, derived=derived)
    contributions = fitted.contributions(matrix)
    order = np.argsort(-contributions, axis=1)[:, : top + 3]
    is_male = columns["sex"] == "M"
    out: list[list[str]] = []
    label = _pick(DISEASE_WORDS[disease], lang)
    for i in range(len(matrix)):
        words = []
        for j in order[i]:
            if contributions[i, j] <= 0:
                break
            if np.isnan(matrix[i, j]):  # missingness is not a reason a doctor can act on
                continue
            name = fitted.features[j]
            text = describe_feature(
                name, float(matrix[i, j]), is_male=bool(is_male[i]), lang=lang, waist_cm=float(columns["waist_cm"][i])
            )
            words.append(f"{text}（提高{label}风险）" if lang == "zh" else f"{text} (raises {label} risk)")
            if len(words) == top:
                break
        out.append(words)
    return out


def measured_values(disease: str | None, values: Mapping[str, float], lang: Lang) -> str:
    """The disease's latest defining values in words (empty when none were measured)."""
    if disease == "hypertension" and not np.isnan(values["sbp_mmhg"]):
        return f"{'血压' if lang == 'zh' else 'BP'} {values['sbp_mmhg']:.0f}/{values['dbp_mmhg']:.0f} mmHg"
    names = {
        "fpg_mmol_l": ("FPG", "空腹血糖", "mmol/L"),
        "ogtt_2h_mmol_l": ("OGTT-2h", "糖负荷后2小时血糖", "mmol/L"),
        "hba1c_pct": ("HbA1c", "糖化血红蛋白", "%"),
    }
    parts = [
        f"{zh if lang == 'zh' else en} {values[key]:.1f} {unit}"
        for key, (en, zh, unit) in names.items()
        if disease == "diabetes" and not np.isnan(values.get(key, np.nan))
    ]
    return ("，" if lang == "zh" else ", ").join(parts)


def action_reason(
    action: str,
    disease: str | None,
    tests: str,
    lang: Lang,
    values: Mapping[str, float] | None = None,
    *,
    confirmed: bool = False,
) -> str:
    """The action in words, naming the disease, the values behind it and the tests to order.

    ``confirmed``: a ``confirm_diagnosis`` whose two different tests already confirm it (record it, not recall).
    """
    key = "confirm_diagnosis_confirmed" if action == "confirm_diagnosis" and confirmed else action
    text = _pick(ACTION_WORDS[key], lang)
    shown = (
        measured_values(disease, values, lang)
        if values is not None and action in ("refer_now", "confirm_diagnosis", "recheck")
        else ""
    )
    if shown:
        text += f"（{shown}）" if lang == "zh" else f" ({shown})"
    if disease:
        text = (
            f"{_pick(DISEASE_WORDS[disease], lang)}：{text}" if lang == "zh" else f"{DISEASE_WORDS[disease][0]}: {text}"
        )
    if tests:
        text += f"（检查项目：{tests}）" if lang == "zh" else f" (order: {tests})"
    return text
