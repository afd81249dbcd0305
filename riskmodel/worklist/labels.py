"""Labels a doctor reads, in Chinese and English (SPEC section 6). JSON keeps the codes beside them.

In ``zh`` every label is Chinese: the actions as SPEC 6 names them, the tiers 健康人群 / 高危人群 / 慢病患者,
the tests 空腹血糖 / 口服葡萄糖耐量试验 / 糖化血红蛋白 / 测量血压, 紧急转诊 (BPHS; not 危急值, a laboratory term).
"""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["zh", "en"]

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "refer_now": ("refer now", "紧急转诊"),
    "confirm_diagnosis": ("confirm diagnosis", "复查确诊"),
    "record_diagnosis": ("record the diagnosis", "登记诊断"),
    "refer": ("refer", "转诊"),
    "referral_follow_up": ("referral follow-up", "转诊随访"),
    "recheck": ("recheck", "复查"),
    "follow_up_overdue": ("follow-up overdue", "随访逾期"),
    "screen": ("screen", "筛查"),
    "recheck_stale": ("recheck an out-of-date abnormal result", "复测：既往异常结果已过期"),
    "first_followup": ("first follow-up", "首次随访，纳入管理"),
    "re_engage": ("re-engage and recheck", "重新联系并复测"),
    "none": ("nothing due", "暂无待办"),
}
TIER_LABELS: dict[str, tuple[str, str]] = {
    "healthy": ("healthy", "健康人群"),
    "high_risk": ("high risk", "高危人群"),
    "chronic": ("chronic", "慢病患者"),
}
SOURCE_LABELS: dict[str, tuple[str, str]] = {
    "record": ("record", "档案记录"),
    "measurement": ("measured", "检测结果"),
    "score": ("risk score (questionnaire)", "风险评分"),
    "model": ("model prediction", "模型预测"),
}
TEST_LABELS: dict[str, tuple[str, str]] = {
    "FPG": ("fasting plasma glucose", "空腹血糖"),
    "OGTT": ("oral glucose tolerance test", "口服葡萄糖耐量试验"),
    "HbA1c": ("HbA1c", "糖化血红蛋白"),
    "BP": ("blood pressure", "测量血压"),
}
DISEASE_LABELS: dict[str, tuple[str, str]] = {
    "diabetes": ("diabetes", "糖尿病"),
    "hypertension": ("hypertension", "高血压"),
}
PROFILE_LABELS: dict[str, tuple[str, str]] = {
    "bphs2017": ("BPHS 2017 targets", "基本公卫2017控制标准"),
    "guideline2024": ("2024 guideline targets", "2024年指南控制标准"),
}
BAND_CODES: dict[int, str] = {1: "urgent", 2: "confirm_and_refer", 3: "follow_up", 4: "screening"}
BAND_LABELS: dict[int, tuple[str, str]] = {
    1: ("urgent", "紧急"),
    2: ("confirm and refer", "确诊与转诊"),
    3: ("follow-up", "随访"),
    4: ("screening", "筛查"),
}
"""The bands as SPEC 15 names them (the dashboard, the print view and the CLI use these)."""


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The label in the language asked for."""
    return pair[1] if lang == "zh" else pair[0]


def label(table: dict[str, tuple[str, str]], code: str | None, lang: Lang) -> str:
    """A code's label, or the code itself when the table has none (never raises on a new code)."""
    if code is None:
        return ""
    return pick(table[code], lang) if code in table else code


def label_band(band: int, lang: Lang) -> str:
    """A band's name in the language asked for (紧急 / 确诊与转诊 / 随访 / 筛查)."""
    return pick(BAND_LABELS[band], lang)


def counts_line(bands: list[dict[str, Any]], lang: Lang) -> str:
    """The counts of every band in plain words (no priority scores), e.g. 紧急 3 人，全部列出；确诊与转诊 254 人：
    列出 100 人，容量所限未列 150 人，已记录结果暂缓 4 人；... (SPEC 15)."""
    zh = lang == "zh"
    parts = []
    for band in bands:
        name = label_band(band["band"], lang)
        if band["due"] == 0:
            parts.append(f"{name} 0 人" if zh else f"{name}: none")
            continue
        if zh:
            text = f"{name} {band['due']} 人：" + (
                "全部列出" if band["listed"] == band["due"] else f"列出 {band['listed']} 人"
            )
            if band["cut"]:
                text += f"，容量所限未列 {band['cut']} 人"
            if band["hidden"]:
                text += f"，已记录结果暂缓 {band['hidden']} 人"
        else:
            text = f"{name}: {band['due']} due, " + (
                "all listed" if band["listed"] == band["due"] else f"{band['listed']} listed"
            )
            if band["cut"]:
                text += f", {band['cut']} left off (capacity)"
            if band["hidden"]:
                text += f", {band['hidden']} hidden by recorded outcomes"
        parts.append(text)
    return ("；" if zh else "; ").join(parts) + ("。" if zh else ".")


def tests_label(tests: str, lang: Lang) -> str:
    """A comma list of test codes (``"OGTT, BP"``) in words."""
    if not tests:
        return ""
    return ("、" if lang == "zh" else ", ").join(label(TEST_LABELS, code, lang) for code in tests.split(", "))


REFERENCE_LABELS: dict[str, str] = {
    "BPHS 2017": "基本公卫规范 2017",
    "CDS 2020": "糖尿病指南 2020",
    "CDS 2024": "糖尿病指南 2024",
    "CDS 2020 / 2024": "糖尿病指南 2020/2024",
    "Chinese hypertension guideline 2018": "高血压指南 2018",
    "Chinese hypertension guideline": "高血压指南",
    "ADA Standards of Care 2024": "美国糖尿病学会诊疗标准 2024",
}
"""Short Chinese names of the references (the guideline texts' own short forms); codes like WS/T stay."""


def references(text: str, lang: Lang) -> str:
    """A '; '-separated reference list in the language asked for."""
    parts = text.split("; ")
    if lang == "zh":
        parts = [REFERENCE_LABELS.get(part, part) for part in parts]
    return "; ".join(parts)
