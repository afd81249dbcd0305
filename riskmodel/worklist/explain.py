"""Reasons a doctor can read, in Chinese or English (SPEC section 6).

Computed only for the residents on a list (or asked for with ``explain=true``), from an
:class:`~riskmodel.scoring.Assessment`:

1. every due action in words, most urgent first, with the values behind it and their dates;
2. a model-sourced tier says so (模型预测), with its probability;
3. the guideline findings, for the diseases the resident is not already managed for, each naming its disease
   (糖尿病高危因素 / Diabetes risk factor) and with its reference; a fact that two findings share (age, body
   size, BP) is stated once, naming both diseases;
4. the model's top contributions, only for features whose value pushes risk up (in words that match the
   value: a missing value, a protective value or an unremarkable one is never said to raise risk), and only
   for facts not already stated. Waist, waist-to-height ratio and BMI are each named as themselves; a count
   of risk factors names them.

Actions hidden by an outcome are not in the reasons (SPEC 13.5).

Every value carries its date; a value older than ``tiers.*_result_valid_days`` is marked stale.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.model.features import Disease, feature_matrix
from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER, TESTS, last_contact
from riskmodel.rules.guidelines.blood_pressure import (
    DBP_EMERGENCY_MMHG,
    SBP_EMERGENCY_MMHG,
)
from riskmodel.rules.guidelines.body_size import (
    BMI_OBESE_FROM,
    BMI_OVERWEIGHT_FROM,
    WAIST_TO_HEIGHT_HIGH,
    central_obesity_cutoff,
)
from riskmodel.rules.guidelines.findings import (
    DIABETES_RISK_AGE_CDS2020,
    DIABETES_RISK_AGE_CDS2024,
    FINDINGS,
    HYPERTENSION_COUNTED_CODES,
    HYPERTENSION_RISK_AGE,
    finding_reference,
)
from riskmodel.rules.guidelines.glycaemia import (
    FPG_IFG_ADA_MMOL_L,
    FPG_IFG_WHO_MMOL_L,
    FPG_RECOMMEND_OGTT_MMOL_L,
    GLUCOSE_EMERGENCY_HIGH_MMOL_L,
    HBA1C_DIABETES_PCT,
    HBA1C_PREDIABETES_PCT,
    OGTT_2H_URGENT_MMOL_L,
)
from riskmodel.rules.tiers import DIABETES_CONFIRMING_RESULTS, HYPERTENSION_CONFIRMING_DAYS, MODEL, pregnant_now
from riskmodel.worklist.labels import (
    ACTION_LABELS,
    DISEASE_LABELS,
    PROFILE_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    Lang,
    label,
    pick,
    references,
)
from riskmodel.worklist.phrases import (
    BPHS_COUNT_WORDS,
    FEATURES,
    FINDING_FACTS,
    FINDING_HEADS,
    FLAGS,
    GLUCOSE_NAMES,
    QUALIFYING_NAMES,
    RANDOM_GLUCOSE_NAMES,
    REPEAT_VERBS,
    SEPARATORS,
    SMOKING_CURRENT,
    STALE_GLUCOSE,
    TEST_VERBS,
)

if TYPE_CHECKING:
    from riskmodel.model.tier_model import RiskModel
    from riskmodel.scoring import Assessment


@dataclass(frozen=True)
class ResidentView:
    """One resident's values, dates and freshness limits, as the reason builders read them."""

    values: dict[str, float]
    dates: dict[str, Any]
    as_of: np.datetime64
    valid_days: dict[str, int]
    lang: Lang
    _notes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def note(self, measure: str) -> str:
        """The measure's date, marked stale when older than the freshness limit (or 'date not recorded')."""
        found = self._notes.get(measure)
        if found is None:
            found = self._notes[measure] = self._note(measure)
        return found

    def _note(self, measure: str) -> str:
        date = self.dates.get(measure)
        zh = self.lang == "zh"
        if date is None or np.isnat(date):
            return "日期未记录" if zh else "date not recorded"
        age = int((self.as_of - date).astype("timedelta64[D]").astype(int))
        limit = self.valid_days.get(measure)
        if limit is not None and age > limit:
            return f"{date}，已过期（超过{limit}天）" if zh else f"{date}, out of date (over {limit} days old)"
        return str(date)

    def is_fresh(self, measure: str) -> bool:
        """Dated within its freshness limit (an undated result counts as fresh, as for tiers)."""
        date = self.dates.get(measure)
        limit = self.valid_days.get(measure)
        if date is None or np.isnat(date) or limit is None:
            return True
        return int((self.as_of - date).astype("timedelta64[D]").astype(int)) <= limit

    def when(self, measure: str) -> str:
        """The date note in brackets, to follow a value."""
        return f"（{self.note(measure)}）" if self.lang == "zh" else f" ({self.note(measure)})"


def resident_view(assessment: Assessment, i: int, config: RiskConfig, lang: Lang) -> ResidentView:
    """The values and dates of resident ``i`` that reasons name."""
    columns, state = assessment.columns, assessment.state
    names = (
        "age_years",
        "bmi_kg_m2",
        "waist_cm",
        "sbp_mmhg",
        "dbp_mmhg",
        "fpg_mmol_l",
        "ogtt_2h_mmol_l",
        "hba1c_pct",
        "random_glucose_mmol_l",
        "tg_mmol_l",
        "hdl_mmol_l",
    )
    values = {name: float(state[name][i]) if name in state else float(columns[name][i]) for name in names}
    values["cdrs_points"] = float(assessment.cdrs.total[i])
    values["is_male"] = float(columns["sex"][i] == "M")
    values["waist_cut"] = float(central_obesity_cutoff(np.array([values["is_male"] == 1.0]))[0])
    dates = {
        "bp": state["bp_date"][i],
        "fpg": state["fpg_date"][i],
        "ogtt": state["ogtt_date"][i],
        "hba1c": state["hba1c_date"][i],
        "random_glucose": state["random_glucose_date"][i],
        "waist": state["waist_date"][i],
        "weight": state["weight_date"][i],
        "exam": columns["exam_date"][i],
    }
    glucose_days = config.tiers.glucose_result_valid_days
    valid = {
        "bp": config.tiers.bp_result_valid_days,
        "fpg": glucose_days,
        "ogtt": glucose_days,
        "hba1c": glucose_days,
        "random_glucose": glucose_days,
        "emergency": config.worklist.emergency_lookback_days,
    }
    return ResidentView(values, dates, assessment.as_of, valid, lang)


# ------------------------------------------------------------------------------------------ actions


def _bp(view: ResidentView) -> str:
    v = view.values
    if np.isnan(v["sbp_mmhg"]):
        return ""
    return f"{'血压' if view.lang == 'zh' else 'BP'} {v['sbp_mmhg']:.0f}/{v['dbp_mmhg']:.0f} mmHg{view.when('bp')}"


def _glucose(view: ResidentView, *, random: bool = False) -> str:
    names = [RANDOM_GLUCOSE_NAMES, GLUCOSE_NAMES[0]] if random else list(GLUCOSE_NAMES)
    parts = [
        f"{zh if view.lang == 'zh' else en} {view.values[key]:.1f} {unit}{view.when(measure)}"
        for key, measure, en, zh, unit in names
        if not np.isnan(view.values[key])
    ]
    return SEPARATORS[view.lang].join(parts)


def _values(disease: str, view: ResidentView) -> str:
    return _bp(view) if disease == "hypertension" else _glucose(view)


def action_sentence(
    assessment: Assessment, i: int, disease: str, code: int, view: ResidentView, said: set[str] | None = None
) -> str:
    """One due action in words: what, the values behind it with their dates, what to do and by when."""
    zh = view.lang == "zh"
    d = DISEASE_ORDER.index(disease)
    actions = assessment.actions
    due = actions.due_date[i, d, code]
    late = int(actions.overdue_days[i, d, code])
    test = str(TESTS[actions.test[i, d, code]])
    confirmed = bool(assessment.tiers[disease].confirmed[i])
    name = ACTIONS[code]
    shown = "record_diagnosis" if name == "confirm_diagnosis" and confirmed else name
    head = (
        f"{pick(DISEASE_LABELS[disease], view.lang)}·{label(ACTION_LABELS, shown, view.lang)}："
        if zh
        else (f"{DISEASE_LABELS[disease][0]}, {ACTION_LABELS[shown][0]}: ")
    )
    profile = pick(PROFILE_LABELS[assessment.control_profile], view.lang)
    said = set() if said is None else said
    values = "" if f"values_{disease}" in said else _values(disease, view)
    if values or name in ("refer_now", "confirm_diagnosis", "refer", "recheck"):
        said.add(f"values_{disease}")
    body = _ACTION_TEXT[name](
        assessment, i, disease, view, test=test, due=due, profile=profile, confirmed=confirmed, values=values
    )
    text, _, reference = body.rpartition(" [")
    if late > 0:
        text += f"，已逾期 {late} 天" if zh else f"; {late} days overdue"
    return f"{head}{text} [{references(reference.rstrip(']'), view.lang)}]"


def _refer_now(assessment: Assessment, i: int, disease: str, view: ResidentView, **_: Any) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    signs = state[f"{disease}_emergency_date"][i]
    pregnant = bool(pregnant_now({k: state[k][i : i + 1] for k in ("pregnant", "pregnant_date")}, view.as_of)[0])
    parts = []
    if disease == "hypertension":
        if view.values["sbp_mmhg"] >= SBP_EMERGENCY_MMHG or view.values["dbp_mmhg"] >= DBP_EMERGENCY_MMHG:
            parts.append(_bp(view) + ("，≥180/110 mmHg" if zh else ", at or above 180/110 mmHg"))
        elif pregnant and _bp(view):
            parts.append(_bp(view) + ("，妊娠期血压≥140/90 mmHg" if zh else ", at or above 140/90 mmHg in pregnancy"))
    else:
        glucose = _glucose(view, random=True)
        if glucose:
            parts.append(
                glucose + (("，妊娠期血糖高于正常" if zh else ", above normal in pregnancy") if pregnant else "")
            )
    if not np.isnat(signs):
        parts.append(f"随访发现急症表现（{signs}）" if zh else f"emergency signs seen on {signs}")
    what = SEPARATORS[view.lang].join(parts)
    return f"{what}：立即转诊 [BPHS 2017]" if zh else f"{what}: refer now [BPHS 2017]"


def qualifying_results(assessment: Assessment, i: int, disease: str, lang: Lang) -> list[str]:
    """The qualifying results behind a confirmation, oldest first, each with its date (SPEC 13.5)."""
    state = assessment.state
    shown = []
    for k in (3, 2, 1):
        day = state[f"{disease}_q{k}_date"][i]
        if np.isnat(day):
            continue
        v1, v2 = state[f"{disease}_q{k}_v1"][i], state[f"{disease}_q{k}_v2"][i]
        if disease == "hypertension":
            shown.append(f"{day} {v1:.0f}/{v2:.0f}")
        else:
            en, zh, unit = QUALIFYING_NAMES.get(int(v2), QUALIFYING_NAMES[1])
            shown.append(f"{zh} {v1:.1f} {unit}（{day}）" if lang == "zh" else f"{en} {v1:.1f} {unit} ({day})")
    return shown


def _confirm(
    assessment: Assessment,
    i: int,
    disease: str,
    view: ResidentView,
    *,
    test: str,
    due: Any,
    confirmed: bool,
    values: str,
    **_: Any,
) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    measured_chronic = assessment.tiers[disease].tier[i] == 2
    if disease == "diabetes" and not measured_chronic:
        return _confirm_random_glucose(view, test=test, due=due)
    count = int(state[f"{disease}_confirmations"][i])
    if disease == "hypertension":
        needed, unit_zh, unit_en = HYPERTENSION_CONFIRMING_DAYS, "非同日血压读数", "BP reading"
        reference = "Chinese hypertension guideline 2018"
    else:
        needed, unit_zh, unit_en = DIABETES_CONFIRMING_RESULTS, "达到诊断标准的结果", "qualifying result"
        reference = "CDS 2020"
    shown = min(max(count, 1), needed)
    readings = qualifying_results(assessment, i, disease, view.lang)
    listed = (f"：{'，'.join(readings)}" if zh else f": {', '.join(readings)}") if len(readings) > 1 else ""
    if confirmed:
        return (
            f"已满足确诊条件 {shown}/{needed}：{'，'.join(readings) or values}；尚未登记诊断：登记诊断并纳入慢病管理 [{reference}]"
            if zh
            else f"the diagnosis is confirmed ({unit_en} {shown} of {needed}: {', '.join(readings) or values}) but not "
            f"recorded: record the diagnosis and start management [{reference}]"
        )
    values = values or ("上述读数" if zh else "the same reading")
    urgent = disease == "diabetes" and view.values["ogtt_2h_mmol_l"] >= OGTT_2H_URGENT_MMOL_L and view.is_fresh("ogtt")
    test_words = label(REPEAT_VERBS, test, view.lang)
    window = int(state.get(f"{disease}_series_lapsed", np.zeros(i + 1))[i]) == 1
    if zh:
        if window:
            head = f"{values}，确诊系列已超过28天，需重新测量（{shown}/{needed}）{listed}"
        else:
            head = f"{values}，达到诊断标准，尚未确诊（{unit_zh} {shown}/{needed} 次{listed}）"
        text = f"{head}：请于 {due} 前{test_words}"
        return text + ("（糖负荷后2小时血糖≥16.7 mmol/L，应尽快复查）" if urgent else "") + f" [{reference}]"
    if window:
        head = (
            f"{values}; the confirmation series ran past 28 days and restarts ({unit_en} {shown} of {needed}){listed}"
        )
    else:
        head = f"{values} in the diagnostic range, not yet confirmed ({unit_en} {shown} of {needed}{listed})"
    text = f"{head}: {test_words} by {due}"
    return text + (" (OGTT 2-h glucose at or above 16.7 mmol/L: urgent)" if urgent else "") + f" [{reference}]"


def _confirm_random_glucose(view: ResidentView, *, test: str, due: Any) -> str:
    """A random glucose >= 11.1 without typical symptoms: confirm with a fasting glucose or HbA1c [CDS 2020]."""
    value = view.values["random_glucose_mmol_l"]
    test_words = label(REPEAT_VERBS, test, view.lang)
    if view.lang == "zh":
        return (
            f"随机血糖 {value:.1f} mmol/L{view.when('random_glucose')}，≥11.1 mmol/L，未记录典型“三多一少”症状："
            f"请于 {due} 前{test_words}以明确诊断 [CDS 2020]"
        )
    return (
        f"random glucose {value:.1f} mmol/L{view.when('random_glucose')}, at or above 11.1 mmol/L without typical "
        f"symptoms recorded: {test_words} by {due} to confirm [CDS 2020]"
    )


def _refer(
    assessment: Assessment, i: int, disease: str, view: ResidentView, *, profile: str, values: str, **_: Any
) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    visits = int(np.nan_to_num(state[f"{disease}_uncontrolled_visits"][i]))
    complication = state[f"{disease}_complication_date"][i]
    parts = []
    if visits >= 2:
        last = state[f"{disease}_uncontrolled_date"][i]
        when = f"，最近一次 {last}" if not np.isnat(last) else ""
        parts.append(
            f"连续 {visits} 次随访控制不满意（{profile}{when}）"
            if zh
            else f"{visits} consecutive uncontrolled follow-ups ({profile}{', latest ' + str(last) if not np.isnat(last) else ''})"
        )
    if not np.isnat(complication):
        parts.append(
            f"随访（{complication}）发现新发并发症或药物不良反应持续存在"
            if zh
            else f"a new complication, or an adverse reaction still present, at the follow-up on {complication}"
        )
    if values:
        parts.append(values)
    what = SEPARATORS[view.lang].join(parts)
    return (
        f"{what}：转诊，并于 14 天内随访转诊情况 [BPHS 2017]"
        if zh
        else f"{what}: refer, and follow the referral up within 14 days [BPHS 2017]"
    )


def _referral_follow_up(assessment: Assessment, i: int, disease: str, view: ResidentView, **_: Any) -> str:
    sent = assessment.state[f"{disease}_referral_sent_date"][i]
    if view.lang == "zh":
        return f"转诊已于 {sent} 发出，尚无到达或返回记录：随访转诊情况 [BPHS 2017]"
    return f"referral sent on {sent}, not yet recorded as arrived or returned: follow it up [BPHS 2017]"


def _recheck(
    assessment: Assessment,
    i: int,
    disease: str,
    view: ResidentView,
    *,
    test: str,
    due: Any,
    profile: str,
    values: str,
    **_: Any,
) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    followup = state[f"{disease}_uncontrolled_date"][i]
    reaction = state[f"{disease}_adverse_date"][i]
    treated = state[f"{disease}_treated"][i] == 1.0
    test_words = label(REPEAT_VERBS, test, view.lang)
    if not np.isnat(reaction) and (np.isnat(followup) or reaction >= followup):
        if zh:
            return f"随访（{reaction}）发现药物不良反应：调整用药，请于 {due} 前再次随访 [BPHS 2017]"
        return (
            f"adverse drug reaction at the follow-up on {reaction}: adjust the drug and follow up by {due} [BPHS 2017]"
        )
    when = (
        (f"最近一次随访（{followup}）" if zh else f"the follow-up on {followup}")
        if not np.isnat(followup)
        else ("最近一次测量" if zh else "the latest reading")
    )
    # An untreated patient is never told to adjust a treatment they do not have (SPEC 13.3).
    plan_zh = "调整治疗" if treated else "加强生活方式干预并评估是否启动药物治疗"
    plan_en = "adjust treatment" if treated else "reinforce lifestyle measures and consider starting drug treatment"
    if zh:
        shown = f"：{values}；" if values else "："
        return f"{when}控制不满意（{profile}）{shown}{plan_zh}，请于 {due} 前{test_words} [BPHS 2017]"
    shown = f": {values}; " if values else ": "
    return f"{when} was uncontrolled ({profile}){shown}{plan_en} and {test_words} by {due} [BPHS 2017]"


def _follow_up_overdue(assessment: Assessment, i: int, disease: str, view: ResidentView, **_: Any) -> str:
    state = assessment.state
    seen = state[f"{disease}_last_face_to_face_date"][i]
    last = state[f"{disease}_last_followup_date"][i]
    zh = view.lang == "zh"
    if np.isnat(seen) and np.isnat(last):
        return (
            "无随访记录：安排面对面随访 [BPHS 2017]"
            if zh
            else "no follow-up recorded: arrange a face-to-face follow-up [BPHS 2017]"
        )
    remote = not np.isnat(last) and (np.isnat(seen) or last > seen)
    if zh:
        head = f"上次面对面随访 {seen}，已超过 90 天" if not np.isnat(seen) else "无面对面随访记录"
        tail = f"（其后仅有电话/网络随访，最近 {last}）" if remote else ""
        return f"{head}{tail}：安排面对面随访 [BPHS 2017]"
    head = (
        f"last face-to-face follow-up on {seen}, more than 90 days ago"
        if not np.isnat(seen)
        else "no face-to-face follow-up recorded"
    )
    tail = f" (only phone or online follow-ups since, latest {last})" if remote else ""
    return f"{head}{tail}: arrange a face-to-face follow-up [BPHS 2017]"


def _recheck_stale(
    assessment: Assessment, i: int, disease: str, view: ResidentView, *, test: str, due: Any, **_: Any
) -> str:
    """An abnormal result past its validity, or an emergency-level reading with nothing since (SPEC 13.1)."""
    zh = view.lang == "zh"
    lookback = int(view.valid_days.get("emergency", 30))
    parts, emergency = [], False
    if disease == "hypertension":
        reading = _bp(view)
        emergency = view.values["sbp_mmhg"] >= SBP_EMERGENCY_MMHG or view.values["dbp_mmhg"] >= DBP_EMERGENCY_MMHG
        if reading:
            parts.append(reading)
    else:
        for key, measure, en, zh_name, unit, threshold in STALE_GLUCOSE:
            value = view.values[key]
            if np.isnan(value) or value < threshold:
                continue
            parts.append(f"{zh_name if zh else en} {value:.1f} {unit}{view.when(measure)}")
            emergency = emergency or (
                key in ("fpg_mmol_l", "random_glucose_mmol_l") and value >= GLUCOSE_EMERGENCY_HIGH_MMOL_L
            )
    what = SEPARATORS[view.lang].join(parts)
    test_words = label(REPEAT_VERBS, test, view.lang)
    if emergency and zh:
        return f"{what}，达紧急转诊水平，尚无后续读数（已超过 {lookback} 天）：请于 {due} 前{test_words} [BPHS 2017]"
    if emergency:
        return f"{what}: at the emergency level, with no later reading (over {lookback} days ago): {test_words} by {due} [BPHS 2017]"
    if zh:
        return f"{what}，既往异常结果已过期，其后无新结果：请于 {due} 前{test_words} [BPHS 2017]"
    return f"{what}: an abnormal result now out of date, with no later result: {test_words} by {due} [BPHS 2017]"


def _first_followup(assessment: Assessment, i: int, disease: str, view: ResidentView, *, due: Any, **_: Any) -> str:
    diagnosed = assessment.state[f"{disease}_diagnosis_date"][i]
    if view.lang == "zh":
        return f"{diagnosed} 新诊断，尚无随访：请于 {due} 前完成首次面对面随访，纳入慢病管理 [BPHS 2017]"
    return f"newly diagnosed on {diagnosed}, no follow-up yet: first face-to-face follow-up by {due} to start management [BPHS 2017]"


def _re_engage(assessment: Assessment, i: int, disease: str, view: ResidentView, *, due: Any, **_: Any) -> str:
    last = last_contact(assessment.state, disease)[i]
    when = str(last) if not np.isnat(last) else ("无记录" if view.lang == "zh" else "none recorded")
    if view.lang == "zh":
        return f"原待办任务已超过一年，其后无任何记录（最近一次记录 {when}）：重新联系并复测 [BPHS 2017]"
    return f"the task is more than a year old with nothing recorded since (last record {when}): re-engage and recheck [BPHS 2017]"


def _screen(assessment: Assessment, i: int, disease: str, view: ResidentView, *, test: str, **_: Any) -> str:
    zh = view.lang == "zh"
    test_words = label(TEST_VERBS, test, view.lang)
    dates = [view.dates[m] for m in (("bp",) if disease == "hypertension" else ("fpg", "ogtt", "hba1c"))]
    dated = [d for d in dates if d is not None and not np.isnat(d)]
    last = max(dated) if dated else None
    fpg = view.values["fpg_mmol_l"]
    why = ""
    if test == "OGTT" and not np.isnan(fpg) and fpg >= FPG_RECOMMEND_OGTT_MMOL_L:
        why = (
            f"（上次空腹血糖 {fpg:.1f} mmol/L，{view.note('fpg')}，≥5.6 mmol/L）"
            if zh
            else f" (last FPG {fpg:.1f} mmol/L, {view.note('fpg')}, at or above 5.6 mmol/L)"
        )
    elif test == "OGTT":
        why = "（糖尿病风险评分≥25分）" if zh else " (diabetes risk score 25 or more)"
    reference = "CDS 2020" if disease == "diabetes" else "BPHS 2017"
    if last is None:
        return (
            f"从未检测，建议{test_words}{why} [{reference}]" if zh else f"never tested: {test_words}{why} [{reference}]"
        )
    return (
        f"上次检测 {last}，已到复查间隔，建议{test_words}{why} [{reference}]"
        if zh
        else f"last tested on {last}, the interval has passed: {test_words}{why} [{reference}]"
    )


_ACTION_TEXT: dict[str, Callable[..., str]] = {
    "refer_now": _refer_now,
    "confirm_diagnosis": _confirm,
    "refer": _refer,
    "referral_follow_up": _referral_follow_up,
    "recheck": _recheck,
    "follow_up_overdue": _follow_up_overdue,
    "screen": _screen,
    "recheck_stale": _recheck_stale,
    "first_followup": _first_followup,
    "re_engage": _re_engage,
}


def due_actions(assessment: Assessment, i: int) -> list[tuple[str, int]]:
    """Resident ``i``'s due actions as (disease, action index), most urgent first."""
    priority = assessment.actions.priority[i]
    due = [
        (priority[d, a], -d, DISEASE_ORDER[d], a)
        for d in range(2)
        for a in range(len(ACTIONS))
        if assessment.actions.due[i, d, a]
    ]
    return [(disease, a) for _, _, disease, a in sorted(due, reverse=True)]


# ------------------------------------------------------------------------------------------ tiers and findings


def tier_sentence(assessment: Assessment, i: int, disease: str, lang: Lang) -> str:
    """A model-sourced tier says so (模型预测), with the model's probability of the chronic tier."""
    tier = assessment.tiers[disease]
    name = ("healthy", "high_risk", "chronic")[tier.tier[i]]
    p = float(assessment.probabilities[disease][i, 2])
    if lang == "zh":
        return f"{pick(DISEASE_LABELS[disease], lang)}：{pick(SOURCE_LABELS['model'], lang)}为{pick(TIER_LABELS[name], lang)}（模型估计患病概率 {p:.0%}）"
    return f"{disease}: {TIER_LABELS[name][0]} by model prediction (estimated probability of {disease} {p:.0%})"


def _bmi_text(view: ResidentView) -> str:
    """The BMI where it is overweight or obese, with its date and cut-off; empty otherwise [WS/T 428-2013]."""
    bmi = view.values["bmi_kg_m2"]
    if np.isnan(bmi) or bmi < BMI_OVERWEIGHT_FROM:
        return ""
    obese = bmi >= BMI_OBESE_FROM
    cut = BMI_OBESE_FROM if obese else BMI_OVERWEIGHT_FROM
    if view.lang == "zh":
        return f"体重指数 {bmi:.1f} kg/m²{view.when('weight')}，{'肥胖' if obese else '超重'}（≥{cut:.0f}）"
    return f"BMI {bmi:.1f} kg/m²{view.when('weight')}, {'obese' if obese else 'overweight'} ({cut:.0f} or over)"


def _waist_text(view: ResidentView) -> str:
    """The waist where it meets the central-obesity cut-off, with its date; empty otherwise [WS/T 428-2013]."""
    waist, cut = view.values["waist_cm"], view.values["waist_cut"]
    if np.isnan(waist) or waist < cut:
        return ""
    zh = view.lang == "zh"
    sex = ("男性" if zh else "men") if view.values["is_male"] == 1.0 else ("女性" if zh else "women")
    if zh:
        return f"腰围 {waist:.0f} cm{view.when('waist')}，达到{sex}中心性肥胖标准（≥{cut:.0f} cm）"
    return f"waist {waist:.0f} cm{view.when('waist')}, central obesity for {sex} ({cut:.0f} cm or over)"


def _waist_to_height_text(ratio: float, view: ResidentView) -> str:
    """The waist-to-height ratio as itself, with the waist's date and the 0.5 cut-off (Ashwell 2012)."""
    if view.lang == "zh":
        return f"腰高比 {ratio:.2f}{view.when('waist')}，≥{WAIST_TO_HEIGHT_HIGH:g}"
    return f"waist-to-height ratio {ratio:.2f}{view.when('waist')}, {WAIST_TO_HEIGHT_HIGH:g} or over"


def _body_size(view: ResidentView) -> str:
    """The body-size criterion as met: the BMI if overweight or obese, the waist if centrally obese (never a
    low BMI: underweight is not a risk factor of these guidelines)."""
    parts = [text for text in (_bmi_text(view), _waist_text(view)) if text]
    return ("；" if view.lang == "zh" else "; ").join(parts)


def _body_facts(view: ResidentView) -> set[str]:
    """The body-size facts the body-size finding states (a model reason does not repeat them)."""
    return {fact for fact, text in (("bmi", _bmi_text(view)), ("waist", _waist_text(view))) if text}


def _raised_bp(view: ResidentView, stated: Collection[str]) -> str:
    """The raised reading behind ``dm_raised_bp``, unless an action line already gave it."""
    if "bp" in stated or np.isnan(view.values["sbp_mmhg"]):
        return ""
    v = view.values
    return f"{'，' if view.lang == 'zh' else ', '}{v['sbp_mmhg']:.0f}/{v['dbp_mmhg']:.0f} mmHg{view.when('bp')}"


def _ada_prediabetes(view: ResidentView) -> str:
    """The results in the ADA prediabetes ranges that are not WHO's: HbA1c 5.7-6.4 %, FPG 5.6-6.0 mmol/L."""
    zh = view.lang == "zh"
    hba1c, fpg = view.values["hba1c_pct"], view.values["fpg_mmol_l"]
    parts = []
    if HBA1C_PREDIABETES_PCT <= hba1c < HBA1C_DIABETES_PCT:
        parts.append(
            f"糖化血红蛋白 {hba1c:.1f} %{view.when('hba1c')}，≥{HBA1C_PREDIABETES_PCT} %"
            if zh
            else f"HbA1c {hba1c:.1f} %{view.when('hba1c')}, at or above {HBA1C_PREDIABETES_PCT} %"
        )
    if FPG_IFG_ADA_MMOL_L <= fpg < FPG_IFG_WHO_MMOL_L:
        parts.append(
            f"空腹血糖 {fpg:.1f} mmol/L{view.when('fpg')}，≥{FPG_IFG_ADA_MMOL_L} mmol/L"
            if zh
            else f"FPG {fpg:.1f} mmol/L{view.when('fpg')}, at or above {FPG_IFG_ADA_MMOL_L} mmol/L"
        )
    return SEPARATORS[view.lang].join(parts) or ("结果见档案" if zh else "see the record")


def finding_text(
    code: str,
    view: ResidentView,
    *,
    dm_age_cut: int = DIABETES_RISK_AGE_CDS2020,
    stated: Collection[str] = (),
) -> str:
    """One finding in words, with the resident's values and their dates filled in (``stated``: facts an action
    line already gave, not repeated)."""
    finding = FINDINGS[code]
    template = finding.zh if view.lang == "zh" else finding.en
    filled: dict[str, str] = {}  # only what the template names: body size and dates cost more than the rest
    if "{body_size" in template:
        filled["body_size"] = _body_size(view)
    if "{bp_when" in template:
        filled["bp_when"] = view.when("bp")
    if "{bp_raised" in template:
        filled["bp_raised"] = _raised_bp(view, stated)
    if "{ada_prediabetes" in template:
        filled["ada_prediabetes"] = _ada_prediabetes(view)
    return template.format(dm_age_cut=dm_age_cut, **filled, **view.values)


def finding_head(codes: Sequence[str], lang: Lang) -> str:
    """The head of a finding line: its diseases, and whether it is a risk factor (糖尿病、高血压高危因素)."""
    diseases = [d for d in DISEASE_ORDER if any(FINDINGS[code].disease == d for code in codes)]
    risk_factor = any(FINDINGS[code].risk_factor for code in codes)
    names = [pick(DISEASE_LABELS[d], lang) for d in diseases]
    head = pick(FINDING_HEADS[risk_factor], lang)
    if lang == "zh":
        return "、".join(names) + head
    joined = " and ".join(names)
    return f"{joined.capitalize()} {head}" if risk_factor else f"{head.capitalize()} to {joined}"


def _age_both(view: ResidentView, age_cut: int) -> str:
    age = view.values["age_years"]
    if view.lang == "zh":
        return f"年龄 {age:.0f} 岁（糖尿病≥{age_cut} 岁，高血压≥{HYPERTENSION_RISK_AGE} 岁）"
    return f"age {age:.0f} ({age_cut} or over for diabetes, {HYPERTENSION_RISK_AGE} or over for hypertension)"


def finding_sentences(
    assessment: Assessment,
    i: int,
    diseases: tuple[str, ...],
    view: ResidentView,
    profile: str,
    *,
    stated: Collection[str] = (),
) -> tuple[list[str], set[str]]:
    """The guideline findings met for the given diseases, each naming its disease, one fact once (diseases and
    references merged), and the facts stated (fact keys and finding codes).

    ``stated`` holds the facts the action lines gave (``bp``), not repeated here.
    """
    age_cut = DIABETES_RISK_AGE_CDS2024 if profile == "cds2024" else DIABETES_RISK_AGE_CDS2020
    groups: dict[str, list[str]] = {}
    for code, met in assessment.findings.items():
        if FINDINGS[code].disease in diseases and met[i]:
            groups.setdefault(FINDING_FACTS.get(code, code), []).append(code)
    sentences: list[str] = []
    facts: set[str] = set()
    sep = "：" if view.lang == "zh" else ": "
    for fact, codes in groups.items():
        if fact == "age" and len(codes) > 1:
            text = _age_both(view, age_cut)
        else:
            text = finding_text(codes[0], view, dm_age_cut=age_cut, stated=stated)
        refs = dict.fromkeys(ref for code in codes for ref in finding_reference(code, profile).split("; "))
        sentences.append(f"{finding_head(codes, view.lang)}{sep}{text} [{references('; '.join(refs), view.lang)}]")
        facts |= {fact, *codes}
    if "body_size" in groups:
        facts |= _body_facts(view)
    return sentences, facts


# ------------------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class Contributions:
    """The model's per-feature contributions to P(chronic) for some residents (one row each), with the feature
    values they were computed from."""

    features: Sequence[str]
    values: np.ndarray
    contributions: np.ndarray
    order: np.ndarray
    """Per row, the feature indices from the largest contribution down."""

    def raising(self, k: int) -> Iterator[tuple[str, float]]:
        """Row ``k``'s features that push P(chronic) up, largest first, with their values; a missing value is
        left out (missingness is not a reason a doctor can act on)."""
        for j in self.order[k]:
            if self.contributions[k, j] <= 0:
                return
            value = float(self.values[k, j])
            if not np.isnan(value):
                yield self.features[j], value


def model_contributions(model: RiskModel, assessment: Assessment, rows: np.ndarray, disease: Disease) -> Contributions:
    """The disease model's feature contributions for the residents ``rows`` of an assessment."""
    fitted = model.disease(disease)
    columns = {name: values[rows] for name, values in assessment.columns.items()}
    derived = {name: values[rows] for name, values in assessment.derived.items()}
    matrix = feature_matrix(columns, disease, derived=derived)
    contributions = fitted.contributions(matrix)
    return Contributions(fitted.features, matrix, contributions, np.argsort(-contributions, axis=1))


def model_sentences(
    model: RiskModel,
    assessment: Assessment,
    rows: np.ndarray,
    disease: Disease,
    *,
    lang: Lang,
    top: int,
    stated: list[set[str]],
    views: list[ResidentView],
) -> list[list[str]]:
    """Per resident of ``rows``: up to ``top`` features pushing P(chronic) up whose values raise risk, in words.

    ``stated`` holds, per resident, the facts already said (a model reason never repeats them).
    """
    if top == 0 or len(rows) == 0:
        return [[] for _ in rows]
    computed = model_contributions(model, assessment, rows, disease)
    out: list[list[str]] = []
    disease_words = pick(DISEASE_LABELS[disease], lang)
    for k in range(len(rows)):
        words: list[str] = []
        said = stated[k]
        met = {code for code, found in assessment.findings.items() if found[rows[k]]}
        for name, value in computed.raising(k):
            if len(words) == top:
                break
            text, fact = describe_risk(name, value, views[k], findings=met, said=said)
            if text is None or fact in said:
                continue
            said.add(fact)
            words.append(
                f"{text}（模型提示增加{disease_words}风险）"
                if lang == "zh"
                else f"{text} (the model counts it towards {disease} risk)"
            )
        out.append(words)
    return out


def _risk_count(view: ResidentView, findings: Collection[str], said: Collection[str]) -> str | None:
    """The BPHS risk factors the model's ``bphs_risk_count`` counts, named (never a bare count); ``None``
    when none is met or every one was already stated [BPHS 2017]."""
    codes = [code for code in HYPERTENSION_COUNTED_CODES if code in findings]
    if not codes or all(code in said for code in codes):
        return None
    names = [pick(BPHS_COUNT_WORDS[code], view.lang) for code in codes]
    if view.lang == "zh":
        return f"高血压高危因素 {len(codes)} 项：{'、'.join(names)}"
    return f"{len(codes)} hypertension risk factor{'s' if len(codes) > 1 else ''} (BPHS): {', '.join(names)}"


def describe_risk(
    name: str,
    value: float,
    view: ResidentView,
    *,
    findings: Collection[str] = (),
    said: Collection[str] = (),
) -> tuple[str | None, str]:
    """A feature whose value raises risk, in words with its date; ``None`` when the value does not raise risk.

    Each body measure is named as itself (BMI, waist, waist-to-height ratio). A count of risk factors names
    the ones counted, from ``findings`` (the resident's finding codes), and is left out when ``said`` (facts
    and finding codes already stated) holds every one of them.
    """
    zh = view.lang == "zh"
    if name == "bphs_risk_count":
        return (_risk_count(view, findings, said) if value >= 1 else None), "bphs_count"
    if name in FLAGS:
        fact, risky, en, zh_text = FLAGS[name]
        return ((zh_text if zh else en) if value == risky else None), fact
    if name == "smoking_code":
        return (("目前吸烟" if zh else "current smoker") if value == SMOKING_CURRENT else None), "smoking"
    if name not in FEATURES:
        return None, name
    fact, en, zh_label, unit, decimals, raises = FEATURES[name]
    context = {**view.values}
    if not raises(value, context):
        return None, fact
    if fact == "bmi":
        return _bmi_text(view) or None, fact
    if fact == "waist":
        return _waist_text(view) or None, fact
    if fact == "whtr":
        return _waist_to_height_text(value, view), fact
    if name == "age_years":
        return (f"年龄 {value:.0f} 岁" if zh else f"age {value:.0f}"), fact
    when = view.when("bp") if fact == "bp" else view.when("exam") if fact.startswith("lipids") else ""
    shown = f"{value:.{decimals}f}"
    unit_text = f" {unit}" if unit else ""
    return (
        f"{zh_label} {shown}{unit_text}{when}"
        if zh
        else f"{en} {shown}{unit_text if unit not in ('分', '项') else ''}{when}"
    ), fact


# ------------------------------------------------------------------------------------------ one resident


def resident_reasons(
    assessment: Assessment,
    rows: np.ndarray,
    model: RiskModel,
    config: RiskConfig,
    lang: Lang,
    *,
    visible: np.ndarray | None = None,
) -> list[list[str]]:
    """The reasons of each resident in ``rows`` (SPEC 6), in the order the module docstring gives.

    ``visible`` (n, 2, n_actions), when given, marks the actions on the list: an action hidden by an outcome
    is not in the reasons (SPEC 13.5).
    """
    views = [resident_view(assessment, int(i), config, lang) for i in rows]
    reasons: list[list[str]] = []
    stated: list[set[str]] = []
    # Screening findings are for diseases still to be found: not for one managed, or already chronic.
    managed = {d: assessment.tiers[d].tier == 2 for d in DISEASE_ORDER}
    for k, i in enumerate(rows):
        i = int(i)
        said: set[str] = set()
        lines = [
            action_sentence(assessment, i, disease, code, views[k], said)
            for disease, code in due_actions(assessment, i)
            if visible is None or visible[i, DISEASE_ORDER.index(disease), code]
        ]
        bp = _bp(views[k])  # the BP is stated when an action line shows it (not merely when it was at hand)
        facts = {"bp"} if bp and any(bp in line for line in lines) else set()
        for disease in DISEASE_ORDER:
            if assessment.tiers[disease].source[i] == MODEL:
                lines.append(tier_sentence(assessment, i, disease, lang))
        open_diseases = tuple(d for d in DISEASE_ORDER if not managed[d][i])
        found, found_facts = finding_sentences(
            assessment, i, open_diseases, views[k], config.glycaemia.high_risk_profile, stated=facts
        )
        lines += found
        reasons.append(lines)
        stated.append(facts | found_facts)
    top = config.worklist.top_features
    for disease in DISEASE_ORDER:
        model_rows = [k for k, i in enumerate(rows) if assessment.tiers[disease].source[int(i)] == MODEL]
        if not model_rows:
            continue
        words = model_sentences(
            model,
            assessment,
            np.asarray([int(rows[k]) for k in model_rows]),
            disease,  # type: ignore[arg-type]
            lang=lang,
            top=top,
            stated=[stated[k] for k in model_rows],
            views=[views[k] for k in model_rows],
        )
        for k, text in zip(model_rows, words, strict=True):
            reasons[k].extend(text)
    return reasons
